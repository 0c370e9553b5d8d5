import InferenceCore

/// A CLIP model in the native core: images and texts embedded into one space.
///
/// Not safe for concurrent use: its ``DynamicBatcher`` is the only caller.
public final class ClipEmbedder: @unchecked Sendable {
    private let handle: OpaquePointer
    public let dimension: Int
    /// exp(logit_scale), the factor on cosine similarities before the softmax over tags.
    public let logitScale: Float
    public let device: String
    public let dtype: String
    public let folder: String

    /// Loads config.json, model.safetensors, vocab.json and merges.txt from `folder`.
    public init(folder: String, device: String = "auto") throws(CoreError) {
        var model: OpaquePointer?
        try CoreError.check { pv_clip_model_load(folder, device, &model, $0, $1) }
        handle = model!
        self.folder = folder
        dimension = Int(pv_clip_model_dim(handle))
        logitScale = pv_clip_model_logit_scale(handle)
        self.device = String(cString: pv_clip_model_device(handle))
        self.dtype = String(cString: pv_clip_model_dtype(handle))
    }

    deinit { pv_clip_model_free(handle) }

    /// One L2-normalised vector per image, computed as one batch.
    public func embed(images: [DecodedImage]) throws(CoreError) -> [[Float]] {
        guard !images.isEmpty else { return [] }
        var flat = [Float](repeating: 0, count: images.count * dimension)
        var handles: [OpaquePointer?] = images.map { $0.handle }
        try CoreError.check { error, capacity in
            pv_clip_embed_images(handle, &handles, Int32(images.count), &flat, error, capacity)
        }
        return (0..<images.count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }

    /// The image tower on preprocessed pixels (count × 3 × size × size), for golden tests.
    public func embed(pixels: [Float], count: Int) throws(CoreError) -> [[Float]] {
        var flat = [Float](repeating: 0, count: count * dimension)
        try CoreError.check { error, capacity in pv_clip_embed_pixels(handle, pixels, Int32(count), &flat, error, capacity) }
        return (0..<count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }

    /// One L2-normalised vector per text (truncated to CLIP's 77 positions).
    public func embed(texts: [String]) throws(CoreError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        var flat = [Float](repeating: 0, count: texts.count * dimension)
        try withCStrings(texts) { pointers, lengths throws(CoreError) in
            try CoreError.check { error, capacity in
                pv_clip_embed_texts(handle, pointers, lengths, Int32(texts.count), &flat, error, capacity)
            }
        }
        return (0..<texts.count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }
}

/// Calls `body` with C pointers to copies of `texts` and their byte lengths (texts may hold NULs).
func withCStrings<R>(
    _ texts: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) throws(CoreError) -> R
) throws(CoreError) -> R {
    let bytes = texts.map { Array($0.utf8) }
    let lengths = bytes.map(\.count)
    let copies = bytes.map { text -> UnsafeMutablePointer<CChar> in
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, text.count))
        text.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { source in
                if let base = source.baseAddress { copy.initialize(from: base, count: source.count) }
            }
        }
        return copy
    }
    defer { copies.forEach { $0.deallocate() } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    return try pointers.withUnsafeBufferPointer { pointers throws(CoreError) in
        try lengths.withUnsafeBufferPointer { lengths throws(CoreError) in
            try body(pointers.baseAddress!, lengths.baseAddress!)
        }
    }
}
