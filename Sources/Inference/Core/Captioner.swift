import InferenceCore

/// BLIP captioning in the native core (beam search: 3 beams, at most 30 tokens).
///
/// Not safe for concurrent use: its ``DynamicBatcher`` is the only caller.
public final class Captioner: @unchecked Sendable {
    private let handle: OpaquePointer
    public let device: String
    public let dtype: String
    public let folder: String

    /// Loads config.json, model.safetensors and vocab.txt from `folder`.
    public init(folder: String, device: String = "auto") throws(CoreError) {
        var model: OpaquePointer?
        try CoreError.check { pv_caption_model_load(folder, device, &model, $0, $1) }
        handle = model!
        self.folder = folder
        self.device = String(cString: pv_caption_model_device(handle))
        self.dtype = String(cString: pv_caption_model_dtype(handle))
    }

    deinit { pv_caption_model_free(handle) }

    /// The caption of `image`, continuing `prompt` when one is given.
    public func caption(_ image: DecodedImage, prompt: String = "") throws(CoreError) -> String {
        var text = [CChar](repeating: 0, count: 4096)
        let promptBytes = Array(prompt.utf8).map { CChar(bitPattern: $0) }
        try CoreError.check { error, capacity in
            pv_caption_generate(
                handle, image.handle, promptBytes, promptBytes.count, pv_caption_default_settings(), &text, text.count, error, capacity)
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
