import GRPCCore
import PhotoVaultProto

/// `photovault.v1.EventService`. Every RPC answers UNIMPLEMENTED until the people and events issue (#6) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct EventServiceHandler: Photovault_V1_EventService.SimpleServiceProtocol {
    public init() {}

    public func createEvent(
        request: Photovault_V1_CreateEventRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_CreateEventResponse {
        throw APIError.unimplemented("EventService.CreateEvent")
    }

    public func getEvent(
        request: Photovault_V1_GetEventRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetEventResponse {
        throw APIError.unimplemented("EventService.GetEvent")
    }

    public func listEvents(
        request: Photovault_V1_ListEventsRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListEventsResponse {
        throw APIError.unimplemented("EventService.ListEvents")
    }

    public func addEventImages(
        request: Photovault_V1_AddEventImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_AddEventImagesResponse {
        throw APIError.unimplemented("EventService.AddEventImages")
    }

    public func createShareLink(
        request: Photovault_V1_CreateShareLinkRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_CreateShareLinkResponse {
        throw APIError.unimplemented("EventService.CreateShareLink")
    }

    public func revokeShareLink(
        request: Photovault_V1_RevokeShareLinkRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_RevokeShareLinkResponse {
        throw APIError.unimplemented("EventService.RevokeShareLink")
    }

    public func listShareLinks(
        request: Photovault_V1_ListShareLinksRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListShareLinksResponse {
        throw APIError.unimplemented("EventService.ListShareLinks")
    }

    public func openSharedEvent(
        request: Photovault_V1_OpenSharedEventRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_OpenSharedEventResponse {
        throw APIError.unimplemented("EventService.OpenSharedEvent")
    }

    public func findMyPhotos(
        request: Photovault_V1_FindMyPhotosRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_FindMyPhotosResponse {
        throw APIError.unimplemented("EventService.FindMyPhotos")
    }
}
