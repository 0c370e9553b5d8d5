// BERT encoder with mean pooling and L2 normalisation: sentence embeddings such as
// all-MiniLM-L6-v2. libtorch stays behind the pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "WordPiece.h"

namespace photovault {

/// A sentence-embedding model loaded from a Hugging Face BERT folder.
class SentenceEncoder {
public:
    /// Reads config.json (model_type bert), model.safetensors and vocab.txt from `folder`.
    SentenceEncoder(const std::string &folder, const std::string &device);
    ~SentenceEncoder();

    int dim() const;
    /// Longest input in tokens ([CLS] and [SEP] included).
    int max_tokens() const;
    std::string device() const;
    std::string dtype() const;
    const WordPiece &tokenizer() const;

    /// Embeds token-id rows of possibly different lengths as one padded batch: writes
    /// rows × dim floats to `vectors`, and rows × longest × hidden floats to `hidden` if given.
    void embed(const std::vector<std::vector<int32_t>> &rows, float *vectors, float *hidden);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace photovault
