import Foundation
import Logging
import PhotoVaultProto

/// Sends an image's preview to the inference service once for everything the served models can
/// do (image embedding, caption, tags, faces) and stores the results.
///
/// While every inference server is down the job waits without spending attempts; when no
/// server is configured, or none serves an image model, the stage is skipped and search falls
/// back to text.
public struct AnalyzeJob: JobHandler {
    public let kind = Pipeline.analyze
    let repository: AnalysisRepository
    let vault: BlobVault
    let inference: InferenceClient
    let tagPolicy: TagPolicy
    let logger: Logger

    public func run(_ job: Job) async throws -> JobOutcome {
        guard let imageID = job.imageID, let owner = job.ownerID else { throw JobFailure.permanent("The job names no image.") }
        guard let target = try await repository.target(owner: owner, image: imageID) else { return .done }
        guard inference.isConfigured else {
            let reason = "AI analysis is off: no inference server is configured."
            try await repository.skipFaces(image: imageID, reason: reason)
            return .skipped(reason)
        }
        guard let models = inference.servedModels else { throw JobFailure.waiting(InferenceError.unavailable("no inference server is healthy").description) }
        var tasks: Set<Photovault_Inference_V1_Task> = []
        if models.clip != nil { tasks.formUnion([.imageEmbedding, .tags]) }
        if models.caption != nil, !target.captionByOwner { tasks.insert(.caption) }
        if models.faces != nil { tasks.insert(.faces) }
        if tasks.isEmpty {
            let reason = "The inference service serves no image model (CLIP, caption or faces)."
            try await repository.skipFaces(image: imageID, reason: reason)
            return .skipped(reason)
        }
        guard let previewKey = target.previewKey else { throw JobFailure.permanent("The image has no preview to analyse.") }
        let preview = try await vault.open(previewKey, owner: owner).readAll()
        let response: Photovault_Inference_V1_AnalyzeResponse
        do {
            response = try await inference.analyze(.with {
                $0.image = Data(preview)
                $0.tasks = tasks.sorted { $0.rawValue < $1.rawValue }
                $0.maxTags = Int32(tagPolicy.maximumCount)
            })
        } catch .unavailable(let reason) {
            throw JobFailure.waiting(InferenceError.unavailable(reason).description)
        } catch .notConfigured {
            return .skipped(InferenceError.notConfigured.description)
        } catch {
            throw JobFailure.permanent(error.description)
        }
        let result: AnalysisResult
        do {
            result = try AnalysisResult(
                response, asked: tasks, models: models, previewSize: (target.previewWidth, target.previewHeight),
                originalSize: (target.width, target.height), tagPolicy: tagPolicy)
        } catch {
            logger.error("analysis result refused", metadata: ["image_id": "\(imageID)", "error": "\(error)"])
            throw error
        }
        for failure in response.errors {
            logger.warning("an analysis task failed", metadata: ["task": "\(failure.task)", "error": "\(failure.message)"])
        }
        try await repository.store(result, owner: owner, image: imageID, facesServed: models.faces != nil)
        return .done
    }
}
