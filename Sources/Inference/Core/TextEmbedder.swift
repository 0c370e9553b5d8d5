import InferenceCore

/// A BERT sentence-embedding model (all-MiniLM-L6-v2 by default) in the native core.
///
/// Not safe for concurrent use: its ``DynamicBatcher`` is the only caller.
public final class TextEmbedder: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Length of the vectors.
    public let dimension: Int
    /// "cpu" or "cuda", and "float32" or "float16".
    public let device: String
    public let dtype: String
    /// The folder the weights came from.
    public let folder: String

    /// Loads config.json, model.safetensors and vocab.txt from `folder`.
    public init(folder: String, device: String = "auto") throws(CoreError) {
        var model: OpaquePointer?
        try CoreError.check { pv_text_model_load(folder, device, &model, $0, $1) }
        handle = model!
        self.folder = folder
        dimension = Int(pv_text_model_dim(handle))
        self.device = String(cString: pv_text_model_device(handle))
        self.dtype = String(cString: pv_text_model_dtype(handle))
    }

    deinit { pv_text_model_free(handle) }

    /// One L2-normalised vector per text, computed as one padded batch.
    public func embed(_ texts: [String]) throws(CoreError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        var flat = [Float](repeating: 0, count: texts.count * dimension)
        try withCStrings(texts) { pointers, lengths throws(CoreError) in
            try CoreError.check { error, capacity in
                pv_text_model_embed(handle, pointers, lengths, Int32(texts.count), &flat, error, capacity)
            }
        }
        return (0..<texts.count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }

    /// The forward pass on token ids (rows of one length, 0-padded after `lengths[i]`): pooled
    /// vectors and last hidden states, for golden tests.
    public func embed(ids: [[Int32]], lengths: [Int32]) throws(CoreError) -> (vectors: [[Float]], hidden: [Float]) {
        let length = ids.first?.count ?? 0
        var flatIDs = ids.flatMap { $0 }
        var vectors = [Float](repeating: 0, count: ids.count * dimension)
        let hiddenSize = Int(pv_text_model_dim(handle))
        var hidden = [Float](repeating: 0, count: ids.count * length * hiddenSize)
        try CoreError.check { error, capacity in
            pv_text_model_embed_ids(
                handle, &flatIDs, lengths, Int32(ids.count), Int32(length), &vectors, &hidden, error, capacity)
        }
        return ((0..<ids.count).map { Array(vectors[$0 * dimension..<($0 + 1) * dimension]) }, hidden)
    }
}
