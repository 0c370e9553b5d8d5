import InferenceCore
import Logging
import PhotoVaultProto

/// Every model the service knows: the ones it loaded at start-up, each behind its own
/// ``DynamicBatcher``, and the ones it could not load, with the reason. A model that is absent
/// or broken is reported, never fatal.
public final class ModelRegistry: Sendable {
    public typealias Task = Photovault_Inference_V1_Task

    /// One model's state, as ListModels and the health detail report it.
    public struct Entry: Sendable {
        public var name: String
        public var tasks: [Task]
        public var loaded = false
        public var device = ""
        public var dtype = ""
        public var embeddingDimension = 0
        public var path = ""
        public var error = ""
    }

    /// The sentence-embedding model and its batcher, when loaded.
    public let text: (embedder: TextEmbedder, batcher: DynamicBatcher<[String], [[Float]]>)?
    /// CLIP with a batcher for images and one for texts, and its zero-shot tagger.
    public let clip: ClipRuntime?
    /// BLIP and its batcher (one image at a time: beam search is per image).
    public let caption: (captioner: Captioner, batcher: DynamicBatcher<CaptionRequest, String>)?
    /// The face pipeline and its batcher (one image at a time), when loaded.
    public let faces: (detector: FaceDetector, batcher: DynamicBatcher<DecodedImage, [DetectedFace]>)?
    public let entries: [Entry]
    public let config: InferenceConfig

    public static let textModelName = "all-MiniLM-L6-v2"
    public static let faceModelName = "dlib-faces"
    public static let clipModelName = "clip-vit-b-32"
    public static let captionModelName = "blip-image-captioning-base"

    /// An image to caption and its optional prompt.
    public struct CaptionRequest: Sendable {
        public let image: DecodedImage
        public let prompt: String
    }

    /// A loaded CLIP model and what serves it.
    public struct ClipRuntime: Sendable {
        public let embedder: ClipEmbedder
        public let images: DynamicBatcher<DecodedImage, [Float]>
        public let texts: DynamicBatcher<[String], [[Float]]>
        /// Embeds its vocabulary through `texts` on the first TAGS request, not here.
        public let tagger: ZeroShotTagger
    }

    /// Loads what `config` points at, logging one line per model.
    public init(config: InferenceConfig, logger: Logger) {
        self.config = config
        pv_set_threads(Int32(config.threads))
        var entries: [Entry] = []

        var textEntry = Entry(name: Self.textModelName, tasks: [.textEmbedding])
        var text: (TextEmbedder, DynamicBatcher<[String], [[Float]]>)?
        if let folder = config.textModelDirectory {
            textEntry.path = folder
            do {
                let embedder = try TextEmbedder(folder: folder, device: config.device)
                let batcher = DynamicBatcher<[String], [[Float]]>(name: "text", settings: config.textBatch) { requests in
                    Self.embedBatch(requests, maxBatch: config.textBatch.maxBatch) { texts throws(CoreError) in try embedder.embed(texts) }
                }
                text = (embedder, batcher)
                textEntry.loaded = true
                textEntry.device = embedder.device
                textEntry.dtype = embedder.dtype
                textEntry.embeddingDimension = embedder.dimension
            } catch {
                textEntry.error = error.description
            }
        } else {
            textEntry.error = "No model folder: set PHOTOVAULT_TEXT_MODEL_DIR or PHOTOVAULT_MODELS_DIR, or run scripts/setup.sh."
        }
        entries.append(textEntry)
        self.text = text

        var faceEntry = Entry(name: Self.faceModelName, tasks: [.faces])
        var faces: (FaceDetector, DynamicBatcher<DecodedImage, [DetectedFace]>)?
        if let folder = config.faceModelDirectory {
            faceEntry.path = folder
            do {
                let detector = try FaceDetector(folder: folder, useCNN: config.faceDetector == "cnn", upsample: config.faceUpsample)
                let batcher = DynamicBatcher<DecodedImage, [DetectedFace]>(
                    name: "faces", settings: .init(maxBatch: 1, maxWait: .zero, queueLimit: config.faceQueueLimit)
                ) { images in
                    images.map { image in Result { try detector.detect(image) } }
                }
                faces = (detector, batcher)
                faceEntry.name = detector.name
                faceEntry.loaded = true
                faceEntry.device = "cpu"
                faceEntry.dtype = "float32"
                faceEntry.embeddingDimension = 128
            } catch {
                faceEntry.error = error.description
            }
        } else {
            faceEntry.error = "No model folder: set PHOTOVAULT_FACE_MODEL_DIR or PHOTOVAULT_MODELS_DIR, or run scripts/setup.sh."
        }
        entries.append(faceEntry)
        self.faces = faces

        var clipEntry = Entry(name: Self.clipModelName, tasks: [.imageEmbedding, .tags, .textEmbedding])
        var clip: ClipRuntime?
        if let folder = config.clipModelDirectory {
            clipEntry.path = folder
            do {
                let embedder = try ClipEmbedder(folder: folder, device: config.device)
                let images = DynamicBatcher<DecodedImage, [Float]>(name: "clip-images", settings: config.imageBatch) { batch in
                    do {
                        return try embedder.embed(images: batch).map { .success($0) }
                    } catch {
                        // One unusable image must not fail the others of its batch: retry one by one.
                        return batch.map { image in Result { try embedder.embed(images: [image])[0] } }
                    }
                }
                let texts = DynamicBatcher<[String], [[Float]]>(name: "clip-texts", settings: config.textBatch) { requests in
                    Self.embedBatch(requests, maxBatch: config.textBatch.maxBatch) { texts throws(CoreError) in try embedder.embed(texts: texts) }
                }
                let tagger = ZeroShotTagger(logitScale: embedder.logitScale, chunkSize: config.textBatch.maxBatch) { prompts in
                    try await texts.submit(prompts, weight: prompts.count)
                }
                clip = ClipRuntime(embedder: embedder, images: images, texts: texts, tagger: tagger)
                clipEntry.loaded = true
                clipEntry.device = embedder.device
                clipEntry.dtype = embedder.dtype
                clipEntry.embeddingDimension = embedder.dimension
            } catch {
                clipEntry.error = error.description
            }
        } else {
            clipEntry.error = "No model folder: download openai/clip-vit-base-patch32 into PHOTOVAULT_MODELS_DIR/clip-vit-base-patch32 or set PHOTOVAULT_CLIP_MODEL_DIR."
        }
        entries.append(clipEntry)
        self.clip = clip

        var captionEntry = Entry(name: Self.captionModelName, tasks: [.caption])
        var caption: (Captioner, DynamicBatcher<CaptionRequest, String>)?
        if let folder = config.captionModelDirectory {
            captionEntry.path = folder
            do {
                let captioner = try Captioner(folder: folder, device: config.device)
                let batcher = DynamicBatcher<CaptionRequest, String>(
                    name: "captions", settings: .init(maxBatch: 1, maxWait: .zero, queueLimit: config.faceQueueLimit)
                ) { requests in
                    requests.map { request in Result { try captioner.caption(request.image, prompt: request.prompt) } }
                }
                caption = (captioner, batcher)
                captionEntry.loaded = true
                captionEntry.device = captioner.device
                captionEntry.dtype = captioner.dtype
            } catch {
                captionEntry.error = error.description
            }
        } else {
            captionEntry.error = "No model folder: download Salesforce/blip-image-captioning-base into PHOTOVAULT_MODELS_DIR/blip-image-captioning-base or set PHOTOVAULT_CAPTION_MODEL_DIR."
        }
        entries.append(captionEntry)
        self.caption = caption

        // FaceNet runs in the core (golden-tested) but Analyze does not use it yet: its faces would
        // come from MTCNN, which is not written; dlib answers the FACES task.
        entries.append(Entry(
            name: "facenet-inception-resnet-v1", tasks: [.faces],
            error: "Not used by this version: FaceNet needs MTCNN face crops, which are not implemented; dlib serves FACES."))
        self.entries = entries

        for entry in entries {
            if entry.loaded {
                logger.notice("model loaded", metadata: [
                    "model": "\(entry.name)", "device": "\(entry.device)", "dtype": "\(entry.dtype)", "path": "\(entry.path)",
                ])
            } else {
                logger.warning("model not loaded", metadata: ["model": "\(entry.name)", "reason": "\(entry.error)"])
            }
        }
        logger.notice("libtorch threads", metadata: ["threads": "\(pv_threads())", "cuda": "\(pv_cuda_available() == 1)"])
    }

    /// Stops every batcher (shutdown).
    public func stop() {
        text?.batcher.stop()
        clip?.images.stop()
        clip?.texts.stop()
        caption?.batcher.stop()
        faces?.batcher.stop()
    }

    /// Runs the texts of several requests as forward passes of at most `maxBatch` texts.
    static func embedBatch(
        _ requests: [[String]], maxBatch: Int, embed: ([String]) throws(CoreError) -> [[Float]]
    ) -> [Result<[[Float]], any Error>] {
        let texts = requests.flatMap { $0 }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        do {
            var start = 0
            while start < texts.count {
                let end = min(texts.count, start + maxBatch)
                vectors += try embed(Array(texts[start..<end]))
                start = end
            }
        } catch {
            return requests.map { _ in .failure(error) }
        }
        var results: [Result<[[Float]], any Error>] = []
        var offset = 0
        for request in requests {
            results.append(.success(Array(vectors[offset..<offset + request.count])))
            offset += request.count
        }
        return results
    }
}
