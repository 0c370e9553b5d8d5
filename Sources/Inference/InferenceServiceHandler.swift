import GRPCCore
import PhotoVaultProto

/// `photovault.inference.v1.InferenceService`. Every RPC answers UNIMPLEMENTED until the
/// inference issue (#4) brings the libtorch models; health and reflection already work.
public struct InferenceServiceHandler: Photovault_Inference_V1_InferenceService.SimpleServiceProtocol {
    public init() {}

    public func analyze(
        request: Photovault_Inference_V1_AnalyzeRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_AnalyzeResponse {
        throw RPCError(code: .unimplemented, message: "InferenceService.Analyze is not implemented yet in this PhotoVault version.")
    }

    public func embedText(
        request: Photovault_Inference_V1_EmbedTextRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_EmbedTextResponse {
        throw RPCError(code: .unimplemented, message: "InferenceService.EmbedText is not implemented yet in this PhotoVault version.")
    }

    public func listModels(
        request: Photovault_Inference_V1_ListModelsRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_ListModelsResponse {
        // No model is loaded yet: an honest empty list.
        return .init()
    }
}
