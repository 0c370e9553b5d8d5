import Foundation
import GRPCCore
import GRPCServices
import PhotoVaultProto
import SwiftProtobuf

/// `photovault.v1.SearchService`: checks the caller, calls ``ImageSearch``, maps the result.
public struct SearchServiceHandler: Photovault_V1_SearchService.SimpleServiceProtocol {
    let search: ImageSearch
    let authenticator: Authenticator
    /// Opens guests' share links for SearchByFace.
    let events: EventLibrary

    public init(search: ImageSearch, authenticator: Authenticator, events: EventLibrary) {
        self.search = search
        self.authenticator = authenticator
        self.events = events
    }

    public func search(
        request: Photovault_V1_SearchRequest, context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SearchResponse {
        let owner = try await authenticator.authenticate().userID
        let filters = try SearchFilters(request.filters)
        let (hits, next) = try await search.search(
            owner: owner, query: request.query, filters: filters, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.hits = hits.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func similarImages(
        request: Photovault_V1_SimilarImagesRequest, context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SimilarImagesResponse {
        let owner = try await authenticator.authenticate().userID
        let (hits, next) = try await search.similar(
            owner: owner, image: try parseID(request.imageID, field: "image_id"), pageSize: request.pageSize,
            pageToken: request.pageToken)
        return .with {
            $0.hits = hits.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func searchByFace(
        request: Photovault_V1_SearchByFaceRequest, context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SearchByFaceResponse {
        if !request.shareToken.isEmpty {
            // A guest searching a shared event: the same search as EventService.FindMyPhotos.
            let shared = try await events.open(token: request.shareToken, password: request.sharePassword)
            let (hits, face, next) = try await events.findMyPhotos(
                shared, peer: CallContext.current?.peerAddress ?? "unknown", selfie: Array(request.image), field: "image",
                pageSize: request.pageSize, pageToken: request.pageToken)
            return .with {
                $0.hits = hits.map { hit in
                    .with {
                        $0.image = hit.image.guestProto
                        $0.box = .box(hit.box)
                        $0.distance = hit.distance
                    }
                }
                $0.queryFace = .box(face)
                $0.nextPageToken = next
            }
        }
        let owner = try await authenticator.authenticate().userID
        let (hits, face, next) = try await search.byFace(
            owner: owner, photo: Array(request.image), pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.hits = hits.map { hit in
                .with {
                    $0.image = hit.image.proto
                    $0.faceID = hit.faceID.lowercased
                    $0.box = .box(hit.box)
                    $0.distance = hit.distance
                }
            }
            $0.queryFace = .box(face)
            $0.nextPageToken = next
        }
    }
}

extension Photovault_V1_BoundingBox {
    static func box(_ box: (x: Int, y: Int, width: Int, height: Int)) -> Self {
        .with {
            $0.x = Int32(clamping: box.x)
            $0.y = Int32(clamping: box.y)
            $0.width = Int32(clamping: box.width)
            $0.height = Int32(clamping: box.height)
        }
    }
}

extension ImageSearch.Hit {
    var proto: Photovault_V1_SearchHit {
        .with {
            $0.image = image.proto
            $0.score = score
            $0.signals = signals.map { match in
                .with {
                    $0.signal = switch match.signal {
                    case .clip: .clip
                    case .textEmbedding: .textEmbedding
                    case .fullText: .fullText
                    }
                    $0.rank = Int32(clamping: match.rank)
                    $0.score = match.score
                }
            }
        }
    }
}

extension SearchFilters {
    /// Checks and converts the request's filters: malformed ids and tags are INVALID_ARGUMENT.
    init(_ proto: Photovault_V1_SearchFilters) throws {
        self.init()
        if proto.hasTaken {
            if proto.taken.hasStart { takenFrom = try parseTimestamp(proto.taken.start, field: "filters.taken.start") }
            if proto.taken.hasEnd { takenBefore = try parseTimestamp(proto.taken.end, field: "filters.taken.end") }
            if let from = takenFrom, let before = takenBefore, from >= before {
                throw APIError.invalid("filters.taken", "ends before it starts")
            }
        }
        place = proto.place.trimmingCharacters(in: .whitespacesAndNewlines)
        guard place.count <= 200 else { throw APIError.invalid("filters.place", "is longer than 200 characters") }
        guard proto.personIds.count <= 20, proto.tags.count <= 20 else {
            throw APIError.invalid("filters", "may name at most 20 people and 20 tags")
        }
        personIDs = try proto.personIds.map { try parseID($0, field: "filters.person_ids") }
        if !proto.albumID.isEmpty { albumID = try parseID(proto.albumID, field: "filters.album_id") }
        tags = try proto.tags.map { try ImageLibrary.tagName($0, field: "filters.tags") }
        cameraMake = proto.cameraMake.trimmingCharacters(in: .whitespaces)
        cameraModel = proto.cameraModel.trimmingCharacters(in: .whitespaces)
        guard cameraMake.count <= 200, cameraModel.count <= 200 else {
            throw APIError.invalid("filters.camera_make", "and camera_model must be at most 200 characters")
        }
        if proto.hasHasFaces_p { hasFaces = proto.hasFaces_p }
    }
}
