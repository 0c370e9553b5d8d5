// BERT's WordPiece tokenizer: the basic tokenizer (clean-up, CJK and punctuation splitting,
// lower-casing and accent stripping) followed by greedy longest-match word pieces.
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace photovault {

/// Turns text into BERT token ids, as Hugging Face's BertTokenizer does.
class WordPiece {
public:
    /// Reads `vocab.txt` (one token per line, the line number is the id).
    WordPiece(const std::string &vocab_path, bool lower_case);

    /// Ids with [CLS] first and [SEP] last, at most `max_length` ids in all.
    std::vector<int32_t> encode(const std::string &text, int max_length) const;
    /// The first `limit` word pieces of `text`, without special tokens.
    std::vector<std::string> pieces(const std::string &text, size_t limit = SIZE_MAX) const;

    int32_t cls_id() const { return cls_; }
    int32_t sep_id() const { return sep_; }
    int32_t pad_id() const { return pad_; }

private:
    /// At most `limit` basic tokens (each gives at least one piece, so no more are ever needed).
    std::vector<std::string> basic_tokens(const std::string &text, size_t limit) const;
    void word_pieces(const std::string &token, std::vector<std::string> &out) const;

    std::unordered_map<std::string, int32_t> vocab_;
    bool lower_case_;
    int32_t cls_, sep_, pad_, unk_;
};

}  // namespace photovault
