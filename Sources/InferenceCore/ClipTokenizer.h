// CLIP's byte-level BPE tokenizer (vocab.json + merges.txt), as Hugging Face's CLIPTokenizerFast:
// NFC, lower-casing, the CLIP split pattern, bytes mapped to printable characters, BPE with a
// "</w>" end-of-word marker, <|startoftext|> … <|endoftext|>.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace photovault {

/// Turns text into CLIP token ids.
class ClipTokenizer {
public:
    ClipTokenizer(const std::string &vocab_path, const std::string &merges_path);

    /// Ids with the start token first and the end token last, at most `max_length` in all.
    std::vector<int32_t> encode(const std::string &text, int max_length) const;

    int32_t start_id() const { return start_; }
    int32_t end_id() const { return end_; }

private:
    std::vector<std::string> bpe(const std::vector<std::string> &symbols) const;

    std::unordered_map<std::string, int32_t> vocab_;
    std::map<std::pair<std::string, std::string>, int> ranks_;
    std::string byte_chars_[256];
    int32_t start_, end_;
};

}  // namespace photovault
