import Foundation
import Dispatch
import GRPCCore
import PhotoVaultProto

/// `photovault.inference.v1.InferenceService`: checks the request, hands the work to the
/// model's batcher, maps the result. Errors become statuses in ``InferenceServiceHandler/status(for:)``.
public struct InferenceServiceHandler: Photovault_Inference_V1_InferenceService.SimpleServiceProtocol {
    private let models: ModelRegistry

    public init(models: ModelRegistry) {
        self.models = models
    }

    public func analyze(
        request: Photovault_Inference_V1_AnalyzeRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_AnalyzeResponse {
        let tasks = request.tasks.isEmpty ? [.imageEmbedding, .caption, .tags, .faces] : request.tasks
        if let bad = tasks.first(where: { $0 == .textEmbedding || $0 == .unspecified || $0.rawValue > 5 }) {
            throw RPCError(code: .invalidArgument, message: "tasks: \(bad) is not an image task; use IMAGE_EMBEDDING, CAPTION, TAGS or FACES.")
        }
        if request.image.isEmpty {
            throw RPCError(code: .invalidArgument, message: "image: no bytes were sent.")
        }
        guard request.captionPrompt.utf8.count <= 200 else {
            throw RPCError(code: .invalidArgument, message: "caption_prompt is \(request.captionPrompt.utf8.count) bytes; at most 200.")
        }
        guard (0...100).contains(request.maxTags) else {
            throw RPCError(code: .invalidArgument, message: "max_tags must be from 1 to 100 (0 means 10), not \(request.maxTags).")
        }
        guard request.candidateLabels.count <= 1000,
              request.candidateLabels.allSatisfy({ !$0.allSatisfy(\.isWhitespace) && $0.utf8.count <= 200 })
        else {
            throw RPCError(code: .invalidArgument, message: "candidate_labels: at most 1000 labels, each 1 to 200 bytes.")
        }
        let image = try await decode(request.image)
        var response = Photovault_Inference_V1_AnalyzeResponse()
        response.imageWidth = Int32(image.width)
        response.imageHeight = Int32(image.height)

        var imageVector: [Float]?
        for task in Set(tasks).sorted(by: { $0.rawValue < $1.rawValue }) {
            switch task {
            case .faces:
                guard let faces = models.faces else {
                    response.errors.append(unavailable(task, model: ModelRegistry.faceModelName))
                    continue
                }
                do {
                    let found = try await faces.batcher.submit(image)
                    response.faces = found.map { face(from: $0, model: faces.detector.name) }
                } catch let error as BatcherError {
                    throw Self.status(for: error, model: "face")
                } catch {
                    response.errors.append(.with { $0.task = task; $0.message = "Face detection failed: \(error)" })
                }
            case .imageEmbedding, .tags:
                guard let clip = models.clip else {
                    response.errors.append(unavailable(task, model: ModelRegistry.clipModelName))
                    continue
                }
                do {
                    // One image embedding serves both tasks.
                    if imageVector == nil { imageVector = try await clip.images.submit(image) }
                    let vector = imageVector!
                    if task == .imageEmbedding {
                        response.imageEmbedding = .with {
                            $0.values = vector
                            $0.model = ModelRegistry.clipModelName
                            $0.dim = Int32(vector.count)
                        }
                    } else {
                        response.tags = try await tags(for: vector, request: request, clip: clip)
                    }
                } catch let error as BatcherError {
                    throw Self.status(for: error, model: "CLIP")
                } catch {
                    response.errors.append(.with { $0.task = task; $0.message = "CLIP failed: \(error)" })
                }
            case .caption:
                guard let caption = models.caption else {
                    response.errors.append(unavailable(task, model: ModelRegistry.captionModelName))
                    continue
                }
                do {
                    let text = try await caption.batcher.submit(.init(image: image, prompt: request.captionPrompt))
                    response.caption = .with {
                        $0.text = text
                        $0.model = ModelRegistry.captionModelName
                    }
                } catch let error as BatcherError {
                    throw Self.status(for: error, model: "caption")
                } catch {
                    response.errors.append(.with { $0.task = task; $0.message = "Captioning failed: \(error)" })
                }
            default:
                continue
            }
        }
        return response
    }

    public func embedText(
        request: Photovault_Inference_V1_EmbedTextRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_EmbedTextResponse {
        let limits = models.config
        guard !request.texts.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "texts: at least one text is needed.")
        }
        guard request.texts.count <= limits.maximumTexts else {
            throw RPCError(code: .invalidArgument, message: "texts: \(request.texts.count) texts sent, at most \(limits.maximumTexts) per call.")
        }
        for (index, text) in request.texts.enumerated() {
            if text.allSatisfy(\.isWhitespace) {
                throw RPCError(code: .invalidArgument, message: "texts[\(index)] is empty.")
            }
            if text.utf8.count > limits.maximumTextBytes {
                throw RPCError(
                    code: .invalidArgument,
                    message: "texts[\(index)] is \(text.utf8.count) bytes, more than the limit of \(limits.maximumTextBytes) bytes.")
            }
        }
        if request.kind == .clipText {
            guard let clip = models.clip else {
                throw RPCError(code: .unavailable, message: "The CLIP model is not loaded, so CLIP text embeddings are unavailable.")
            }
            do {
                let vectors = try await clip.texts.submit(request.texts, weight: request.texts.count)
                return .with {
                    $0.embeddings = vectors.map { vector in .with { $0.values = vector } }
                    $0.model = ModelRegistry.clipModelName
                    $0.dim = Int32(clip.embedder.dimension)
                }
            } catch let error as BatcherError {
                throw Self.status(for: error, model: "CLIP text")
            } catch {
                throw RPCError(code: .internalError, message: "The CLIP text model failed: \(error)")
            }
        }
        guard let text = models.text else {
            let reason = models.entries.first { $0.name == ModelRegistry.textModelName }?.error ?? ""
            throw RPCError(code: .unavailable, message: "The text model \(ModelRegistry.textModelName) is not loaded. \(reason)")
        }
        let vectors: [[Float]]
        do {
            vectors = try await text.batcher.submit(request.texts, weight: request.texts.count)
        } catch let error as BatcherError {
            throw Self.status(for: error, model: "text")
        } catch {
            throw RPCError(code: .internalError, message: "The text model failed: \(error)")
        }
        return .with {
            $0.embeddings = vectors.map { vector in .with { $0.values = vector } }
            $0.model = ModelRegistry.textModelName
            $0.dim = Int32(text.embedder.dimension)
        }
    }

    public func listModels(
        request: Photovault_Inference_V1_ListModelsRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_ListModelsResponse {
        .with {
            $0.models = models.entries.map { entry in
                .with {
                    $0.name = entry.name
                    $0.tasks = entry.tasks
                    $0.loaded = entry.loaded
                    $0.device = entry.device
                    $0.dtype = entry.dtype
                    $0.embeddingDim = Int32(entry.embeddingDimension)
                    $0.path = entry.path
                    $0.error = entry.error
                }
            }
        }
    }

    /// Decodes off Swift's cooperative threads (a large JPEG takes tens of milliseconds).
    private func decode(_ bytes: Data) async throws -> DecodedImage {
        let maximum = models.config.maximumImagePixels
        let result: Result<DecodedImage, CoreError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(CoreError) in try DecodedImage(bytes: [UInt8](bytes), maxPixels: maximum) })
            }
        }
        switch result {
        case .success(let image): return image
        case .failure(.invalidInput(let message)): throw RPCError(code: .invalidArgument, message: "image: \(message)")
        case .failure(let error): throw RPCError(code: .internalError, message: "The image could not be decoded: \(error)")
        }
    }

    /// CLIP zero-shot tags against the request's labels, or the built-in vocabulary when it names none.
    private func tags(
        for vector: [Float], request: Photovault_Inference_V1_AnalyzeRequest, clip: ModelRegistry.ClipRuntime
    ) async throws -> [Photovault_Inference_V1_Tag] {
        let limit = request.maxTags == 0 ? 10 : Int(request.maxTags)
        return try await clip.tagger.tags(for: vector, candidateLabels: request.candidateLabels, limit: limit)
            .map { tag in .with { $0.label = tag.label; $0.score = tag.score } }
    }

    private func face(from found: DetectedFace, model: String) -> Photovault_Inference_V1_Face {
        let config = models.config
        return .with {
            $0.box = .with { box in
                box.x = found.x
                box.y = found.y
                box.width = found.width
                box.height = found.height
            }
            $0.landmarks = found.landmarks.map { point in .with { $0.x = point.x; $0.y = point.y } }
            $0.detectionScore = found.score
            $0.blurVariance = found.blurVariance
            $0.widthPx = Int32(found.width.rounded())
            $0.heightPx = Int32(found.height.rounded())
            $0.tooSmall = min($0.widthPx, $0.heightPx) < config.minimumFaceSize
            $0.tooBlurry = found.blurVariance < config.minimumFaceSharpness
            $0.descriptor = found.descriptor
            $0.model = model
        }
    }

    private func unavailable(_ task: Photovault_Inference_V1_Task, model: String) -> Photovault_Inference_V1_TaskError {
        let reason = models.entries.first { $0.name == model }?.error ?? ""
        return .with {
            $0.task = task
            $0.message = "The model \(model) is not loaded. \(reason)"
        }
    }

    /// The one place where batcher refusals become gRPC statuses.
    static func status(for error: BatcherError, model: String) -> RPCError {
        switch error {
        case .queueFull(let limit):
            RPCError(code: .resourceExhausted, message: "The \(model) model's queue is full (\(limit) waiting); retry shortly.")
        case .stopped:
            RPCError(code: .unavailable, message: "photovault-inference is shutting down; retry on another instance.")
        }
    }
}
