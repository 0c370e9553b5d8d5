// BLIP captioning: a ViT image encoder and a BERT language-model decoder with cross-attention,
// decoded by beam search as transformers' generate() does. libtorch stays behind the pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "Image.h"
#include "WordPiece.h"

namespace photovault {

/// Beam-search settings (the defaults are PhotoVault's captioning settings).
struct CaptionSettings {
    int num_beams = 3;
    /// Longest sequence in tokens, the start token and the prompt included.
    int max_length = 30;
    int min_length = 5;
    float repetition_penalty = 1.2f;
    float length_penalty = 1.0f;
};

/// A BlipForConditionalGeneration checkpoint (config.json, model.safetensors, vocab.txt).
class BlipCaptioner {
public:
    BlipCaptioner(const std::string &folder, const std::string &device);
    ~BlipCaptioner();

    std::string device() const;
    std::string dtype() const;
    int image_size() const;

    /// Token ids of the best caption, the start token and the prompt first (no end token).
    std::vector<int64_t> generate(const RGBImage &image, const std::string &prompt, const CaptionSettings &settings);
    /// The same from preprocessed pixels (3 × size × size floats) and prompt ids, for golden tests.
    std::vector<int64_t> generate(const float *pixels, const std::vector<int64_t> &prompt_ids, const CaptionSettings &settings);
    /// Text of token ids: special tokens skipped, word pieces joined, as tokenizer.decode does.
    std::string decode(const std::vector<int64_t> &ids) const;
    /// The prompt's ids between [CLS] and [SEP] (the start token is added by generate).
    std::vector<int64_t> prompt_ids(const std::string &prompt) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace photovault
