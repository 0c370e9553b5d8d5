import GRPCCore
import PhotoVaultProto

/// `photovault.v1.ImageService`. Every RPC answers UNIMPLEMENTED until the images issue (#3) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct ImageServiceHandler: Photovault_V1_ImageService.SimpleServiceProtocol {
    public init() {}

    public func upload(
        request: GRPCCore.RPCAsyncSequence<Photovault_V1_UploadRequest, any Swift.Error>,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_UploadResponse {
        throw APIError.unimplemented("ImageService.Upload")
    }

    public func createUploadSession(
        request: Photovault_V1_CreateUploadSessionRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_CreateUploadSessionResponse {
        throw APIError.unimplemented("ImageService.CreateUploadSession")
    }

    public func uploadChunks(
        request: GRPCCore.RPCAsyncSequence<Photovault_V1_UploadChunksRequest, any Swift.Error>,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_UploadChunksResponse {
        throw APIError.unimplemented("ImageService.UploadChunks")
    }

    public func getUploadSession(
        request: Photovault_V1_GetUploadSessionRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetUploadSessionResponse {
        throw APIError.unimplemented("ImageService.GetUploadSession")
    }

    public func finishUpload(
        request: Photovault_V1_FinishUploadRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_FinishUploadResponse {
        throw APIError.unimplemented("ImageService.FinishUpload")
    }

    public func getImage(
        request: Photovault_V1_GetImageRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_GetImageResponse {
        throw APIError.unimplemented("ImageService.GetImage")
    }

    public func listImages(
        request: Photovault_V1_ListImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_ListImagesResponse {
        throw APIError.unimplemented("ImageService.ListImages")
    }

    public func download(
        request: Photovault_V1_DownloadRequest,
        response: GRPCCore.RPCWriter<Photovault_V1_DownloadResponse>,
        context: GRPCCore.ServerContext
    ) async throws {
        throw APIError.unimplemented("ImageService.Download")
    }

    public func updateMetadata(
        request: Photovault_V1_UpdateMetadataRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_UpdateMetadataResponse {
        throw APIError.unimplemented("ImageService.UpdateMetadata")
    }

    public func analyzeImage(
        request: Photovault_V1_AnalyzeImageRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_AnalyzeImageResponse {
        throw APIError.unimplemented("ImageService.AnalyzeImage")
    }

    public func deleteImage(
        request: Photovault_V1_DeleteImageRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_DeleteImageResponse {
        throw APIError.unimplemented("ImageService.DeleteImage")
    }

    public func restoreImage(
        request: Photovault_V1_RestoreImageRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_RestoreImageResponse {
        throw APIError.unimplemented("ImageService.RestoreImage")
    }

    public func watchImages(
        request: Photovault_V1_WatchImagesRequest,
        response: GRPCCore.RPCWriter<Photovault_V1_ImageEvent>,
        context: GRPCCore.ServerContext
    ) async throws {
        throw APIError.unimplemented("ImageService.WatchImages")
    }
}
