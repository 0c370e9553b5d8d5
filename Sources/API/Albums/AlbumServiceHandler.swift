import GRPCCore
import PhotoVaultProto

/// `photovault.v1.AlbumService`. Every RPC answers UNIMPLEMENTED until the albums issue (#7) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct AlbumServiceHandler: Photovault_V1_AlbumService.SimpleServiceProtocol {
    public init() {}

    public func createAlbum(
        request: Photovault_V1_CreateAlbumRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_CreateAlbumResponse {
        throw APIError.unimplemented("AlbumService.CreateAlbum")
    }

    public func getAlbum(
        request: Photovault_V1_GetAlbumRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetAlbumResponse {
        throw APIError.unimplemented("AlbumService.GetAlbum")
    }

    public func listAlbums(
        request: Photovault_V1_ListAlbumsRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListAlbumsResponse {
        throw APIError.unimplemented("AlbumService.ListAlbums")
    }

    public func updateAlbum(
        request: Photovault_V1_UpdateAlbumRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_UpdateAlbumResponse {
        throw APIError.unimplemented("AlbumService.UpdateAlbum")
    }

    public func deleteAlbum(
        request: Photovault_V1_DeleteAlbumRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_DeleteAlbumResponse {
        throw APIError.unimplemented("AlbumService.DeleteAlbum")
    }

    public func addImages(
        request: Photovault_V1_AddImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_AddImagesResponse {
        throw APIError.unimplemented("AlbumService.AddImages")
    }

    public func removeImages(
        request: Photovault_V1_RemoveImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_RemoveImagesResponse {
        throw APIError.unimplemented("AlbumService.RemoveImages")
    }

    public func listAlbumImages(
        request: Photovault_V1_ListAlbumImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListAlbumImagesResponse {
        throw APIError.unimplemented("AlbumService.ListAlbumImages")
    }

    public func generateAlbums(
        request: Photovault_V1_GenerateAlbumsRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GenerateAlbumsResponse {
        throw APIError.unimplemented("AlbumService.GenerateAlbums")
    }

    public func listByLocation(
        request: Photovault_V1_ListByLocationRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListByLocationResponse {
        throw APIError.unimplemented("AlbumService.ListByLocation")
    }

    public func listByDate(
        request: Photovault_V1_ListByDateRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListByDateResponse {
        throw APIError.unimplemented("AlbumService.ListByDate")
    }
}
