import GRPCCore
import PhotoVaultProto

/// `photovault.v1.PeopleService`. Every RPC answers UNIMPLEMENTED until the people and events issue (#6) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct PeopleServiceHandler: Photovault_V1_PeopleService.SimpleServiceProtocol {
    public init() {}

    public func listPeople(
        request: Photovault_V1_ListPeopleRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListPeopleResponse {
        throw APIError.unimplemented("PeopleService.ListPeople")
    }

    public func getPerson(
        request: Photovault_V1_GetPersonRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetPersonResponse {
        throw APIError.unimplemented("PeopleService.GetPerson")
    }

    public func updatePerson(
        request: Photovault_V1_UpdatePersonRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_UpdatePersonResponse {
        throw APIError.unimplemented("PeopleService.UpdatePerson")
    }

    public func mergePeople(
        request: Photovault_V1_MergePeopleRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_MergePeopleResponse {
        throw APIError.unimplemented("PeopleService.MergePeople")
    }

    public func listPersonImages(
        request: Photovault_V1_ListPersonImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListPersonImagesResponse {
        throw APIError.unimplemented("PeopleService.ListPersonImages")
    }

    public func reassignFace(
        request: Photovault_V1_ReassignFaceRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ReassignFaceResponse {
        throw APIError.unimplemented("PeopleService.ReassignFace")
    }

    public func recluster(
        request: Photovault_V1_ReclusterRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ReclusterResponse {
        throw APIError.unimplemented("PeopleService.Recluster")
    }
}
