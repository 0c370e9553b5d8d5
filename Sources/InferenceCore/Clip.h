// CLIP: ViT vision tower, text transformer and their projections, for image embeddings,
// text-to-image search and zero-shot tags. libtorch stays behind the pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ClipTokenizer.h"
#include "Image.h"

namespace photovault {

/// A CLIP model loaded from a Hugging Face folder (config.json, model.safetensors, vocab.json,
/// merges.txt); preprocessing as CLIPImageProcessor (shortest side to the image size with
/// bicubic, centre crop, CLIP mean and std).
class ClipModel {
public:
    ClipModel(const std::string &folder, const std::string &device);
    ~ClipModel();

    /// Length of the projected vectors (512 for ViT-B/32).
    int dim() const;
    int image_size() const;
    int context_length() const;
    float logit_scale() const;
    std::string device() const;
    std::string dtype() const;
    const ClipTokenizer &tokenizer() const;

    /// L2-normalised image embeddings, images.size() × dim floats.
    void embed_images(const std::vector<const RGBImage *> &images, float *vectors);
    /// The same from already preprocessed pixels (count × 3 × size × size floats), for golden tests.
    void embed_pixels(const float *pixels, int count, float *vectors);
    /// L2-normalised text embeddings of token-id rows, rows.size() × dim floats.
    void embed_ids(const std::vector<std::vector<int32_t>> &rows, float *vectors);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace photovault
