import Foundation
import GRPCCore
import PhotoVaultProto

/// `photovault.v1.AlbumService`: checks the caller, calls ``AlbumLibrary``, maps the result.
public struct AlbumServiceHandler: Photovault_V1_AlbumService.SimpleServiceProtocol {
    let albums: AlbumLibrary
    let authenticator: Authenticator

    public init(albums: AlbumLibrary, authenticator: Authenticator) {
        self.albums = albums
        self.authenticator = authenticator
    }

    private func owner() async throws -> UUID {
        try await authenticator.authenticate().userID
    }

    public func createAlbum(request: Photovault_V1_CreateAlbumRequest, context: ServerContext) async throws -> Photovault_V1_CreateAlbumResponse {
        let owner = try await owner()
        var new = AlbumLibrary.NewAlbum(title: request.title)
        new.description = request.description_p
        new.sortOrder = try AlbumSortOrder(proto: request.sortOrder)
        new.imageIDs = request.imageIds
        new.coverImageID = request.coverImageID
        let album = try await albums.create(owner: owner, new)
        return .with { $0.album = album.proto }
    }

    public func getAlbum(request: Photovault_V1_GetAlbumRequest, context: ServerContext) async throws -> Photovault_V1_GetAlbumResponse {
        let album = try await albums.album(owner: try await owner(), id: request.albumID)
        return .with { $0.album = album.proto }
    }

    public func listAlbums(request: Photovault_V1_ListAlbumsRequest, context: ServerContext) async throws -> Photovault_V1_ListAlbumsResponse {
        let owner = try await owner()
        let kind = try AlbumKind(proto: request.kind, field: "kind")
        let (page, next) = try await albums.list(
            owner: owner, kind: kind, query: request.query, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.albums = page.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func updateAlbum(request: Photovault_V1_UpdateAlbumRequest, context: ServerContext) async throws -> Photovault_V1_UpdateAlbumResponse {
        let owner = try await owner()
        var edit = AlbumLibrary.AlbumEdit()
        if request.hasTitle { edit.title = request.title }
        if request.hasDescription_p { edit.description = request.description_p }
        if request.hasCoverImageID { edit.coverImageID = request.coverImageID }
        if request.hasSortOrder { edit.sortOrder = try AlbumSortOrder(proto: request.sortOrder) }
        let album = try await albums.update(owner: owner, id: request.albumID, edit)
        return .with { $0.album = album.proto }
    }

    public func deleteAlbum(request: Photovault_V1_DeleteAlbumRequest, context: ServerContext) async throws -> Photovault_V1_DeleteAlbumResponse {
        try await albums.delete(owner: try await owner(), id: request.albumID)
        return .init()
    }

    public func addImages(request: Photovault_V1_AddImagesRequest, context: ServerContext) async throws -> Photovault_V1_AddImagesResponse {
        let result = try await albums.addImages(owner: try await owner(), album: request.albumID, imageIDs: request.imageIds)
        return .with {
            $0.addedCount = Int32(result.added)
            $0.album = result.album.proto
        }
    }

    public func removeImages(request: Photovault_V1_RemoveImagesRequest, context: ServerContext) async throws -> Photovault_V1_RemoveImagesResponse {
        let result = try await albums.removeImages(owner: try await owner(), album: request.albumID, imageIDs: request.imageIds)
        return .with {
            $0.removedCount = Int32(result.removed)
            $0.notFoundImageIds = result.notFound.map(\.lowercased)
            $0.album = result.album.proto
        }
    }

    public func listAlbumImages(request: Photovault_V1_ListAlbumImagesRequest, context: ServerContext) async throws -> Photovault_V1_ListAlbumImagesResponse {
        let (images, next) = try await albums.images(
            owner: try await owner(), album: request.albumID, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.images = images.map(\.proto)
            $0.nextPageToken = next
        }
    }

    public func generateAlbums(request: Photovault_V1_GenerateAlbumsRequest, context: ServerContext) async throws -> Photovault_V1_GenerateAlbumsResponse {
        let owner = try await owner()
        let kinds = try request.kinds.compactMap { try AlbumKind(proto: $0, field: "kinds") }
        let outcome = try await albums.generate(owner: owner, kinds: kinds, tripGapHours: request.tripGapHours)
        return .with {
            $0.createdCount = Int32(outcome.created)
            $0.updatedCount = Int32(outcome.updated)
        }
    }

    public func listByLocation(request: Photovault_V1_ListByLocationRequest, context: ServerContext) async throws -> Photovault_V1_ListByLocationResponse {
        let page = try await albums.byLocation(
            owner: try await owner(), countryCode: request.countryCode, pageSize: request.pageSize, pageToken: request.pageToken)
        return .with {
            $0.countries = page.countries.map(\.proto)
            $0.unknownLocationCount = page.unknown
            $0.nextPageToken = page.next
        }
    }

    public func listByDate(request: Photovault_V1_ListByDateRequest, context: ServerContext) async throws -> Photovault_V1_ListByDateResponse {
        let owner = try await owner()
        let granularity: DateGranularity = switch request.granularity {
        case .year: .year
        case .day: .day
        case .month, .unspecified: .month
        case .UNRECOGNIZED(let value): throw APIError.invalid("granularity", "has an unknown value \(value)")
        }
        let page = try await albums.byDate(
            owner: owner, granularity: granularity, year: request.year, month: request.month, pageSize: request.pageSize,
            pageToken: request.pageToken)
        return .with {
            $0.groups = page.groups.map { group in
                .with {
                    $0.date = .with {
                        $0.year = Int32(group.year)
                        $0.month = Int32(group.month)
                        $0.day = Int32(group.day)
                    }
                    $0.imageCount = group.imageCount
                    $0.coverImageID = group.cover?.lowercased ?? ""
                }
            }
            $0.undatedCount = page.undated
            $0.nextPageToken = page.next
        }
    }
}
