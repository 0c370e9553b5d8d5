import Foundation
import GRPCCore
import GRPCServices
import PhotoVaultProto
import SwiftProtobuf

/// `photovault.v1.EventService`: checks the caller (a photographer or admin, or a guest's
/// share link), calls ``EventLibrary``, maps the result.
public struct EventServiceHandler: Photovault_V1_EventService.SimpleServiceProtocol {
    let events: EventLibrary
    let authenticator: Authenticator

    public init(events: EventLibrary, authenticator: Authenticator) {
        self.events = events
        self.authenticator = authenticator
    }

    /// The signed-in caller, who must be allowed to run events.
    private func photographer() async throws -> Caller {
        let caller = try await authenticator.authenticate()
        try caller.require(.photographer, .admin, to: "create and manage events")
        return caller
    }

    private var peer: String { CallContext.current?.peerAddress ?? "unknown" }

    public func createEvent(request: Photovault_V1_CreateEventRequest, context: ServerContext) async throws -> Photovault_V1_CreateEventResponse {
        let caller = try await photographer()
        var new = EventLibrary.NewEvent(title: request.title)
        new.description = request.description_p
        new.location = request.location
        if request.hasStartsAt { new.startsAt = try parseTimestamp(request.startsAt, field: "starts_at") }
        if request.hasEndsAt { new.endsAt = try parseTimestamp(request.endsAt, field: "ends_at") }
        let event = try await events.create(owner: caller.userID, new)
        return .with { $0.event = event.proto }
    }

    public func getEvent(request: Photovault_V1_GetEventRequest, context: ServerContext) async throws -> Photovault_V1_GetEventResponse {
        let event = try await events.event(reach: EventReach(try await photographer()), id: request.eventID)
        return .with { $0.event = event.proto }
    }

    public func listEvents(request: Photovault_V1_ListEventsRequest, context: ServerContext) async throws -> Photovault_V1_ListEventsResponse {
        let caller = try await photographer()
        if request.allUsers { try caller.require(.admin, to: "list every user's events") }
        let reach: EventReach = request.allUsers ? .everyone : .owner(caller.userID)
        let (page, next) = try await events.list(reach: reach, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.events = page.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func addEventImages(
        request: Photovault_V1_AddEventImagesRequest, context: ServerContext
    ) async throws -> Photovault_V1_AddEventImagesResponse {
        let result = try await events.addImages(
            reach: EventReach(try await photographer()), event: request.eventID, imageIDs: request.imageIds)
        return .with {
            $0.addedCount = Int32(result.added)
            $0.notFoundImageIds = result.notFound.map(\.lowercased)
        }
    }

    public func createShareLink(
        request: Photovault_V1_CreateShareLinkRequest, context: ServerContext
    ) async throws -> Photovault_V1_CreateShareLinkResponse {
        let reach = EventReach(try await photographer())
        let expiresAt = request.hasExpiresAt ? try parseTimestamp(request.expiresAt, field: "expires_at") : nil
        let (link, token) = try await events.createLink(
            reach: reach, event: request.eventID, expiresAt: expiresAt, password: request.password, allowDownload: request.allowDownload)
        return .with {
            $0.link = link.proto
            $0.link.token = token
        }
    }

    public func revokeShareLink(
        request: Photovault_V1_RevokeShareLinkRequest, context: ServerContext
    ) async throws -> Photovault_V1_RevokeShareLinkResponse {
        let link = try await events.revokeLink(reach: EventReach(try await photographer()), id: request.shareLinkID)
        return .with { $0.link = link.proto }
    }

    public func listShareLinks(
        request: Photovault_V1_ListShareLinksRequest, context: ServerContext
    ) async throws -> Photovault_V1_ListShareLinksResponse {
        let (links, next) = try await events.links(
            reach: EventReach(try await photographer()), event: request.eventID, includeRevoked: request.includeRevoked,
            pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.links = links.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func openSharedEvent(
        request: Photovault_V1_OpenSharedEventRequest, context: ServerContext
    ) async throws -> Photovault_V1_OpenSharedEventResponse {
        let shared = try await events.open(token: request.shareToken, password: request.password)
        let view = try await events.sharedView(shared, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.event = view.event.guestProto
            $0.images = view.images.map(\.sharedProto)
            $0.allowDownload = shared.allowDownload
            if let expiresAt = shared.expiresAt { $0.linkExpiresAt = Google_Protobuf_Timestamp(date: expiresAt) }
            $0.nextPageToken = view.next
        }
    }

    public func findMyPhotos(request: Photovault_V1_FindMyPhotosRequest, context: ServerContext) async throws -> Photovault_V1_FindMyPhotosResponse {
        let shared = try await events.open(token: request.shareToken, password: request.password)
        let result = try await events.findMyPhotos(
            shared, peer: peer, selfie: Array(request.selfie), field: "selfie", pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.matches = result.hits.map(\.match)
            $0.nextPageToken = result.nextPageToken
        }
    }
}
