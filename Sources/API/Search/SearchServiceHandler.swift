import GRPCCore
import PhotoVaultProto

/// `photovault.v1.SearchService`. Every RPC answers UNIMPLEMENTED until the AI pipeline and search issue (#5) lands;
/// the RPC names and messages are already the contract of `Protos/photovault/v1`.
public struct SearchServiceHandler: Photovault_V1_SearchService.SimpleServiceProtocol {
    public init() {}

    public func search(
        request: Photovault_V1_SearchRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SearchResponse {
        throw APIError.unimplemented("SearchService.Search")
    }

    public func similarImages(
        request: Photovault_V1_SimilarImagesRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SimilarImagesResponse {
        throw APIError.unimplemented("SearchService.SimilarImages")
    }

    public func searchByFace(
        request: Photovault_V1_SearchByFaceRequest,
        context: GRPCCore.ServerContext
    ) async throws -> Photovault_V1_SearchByFaceResponse {
        throw APIError.unimplemented("SearchService.SearchByFace")
    }
}
