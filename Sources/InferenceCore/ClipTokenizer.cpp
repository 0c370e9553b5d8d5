#include "ClipTokenizer.h"

#include <climits>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>

#include "Safetensors.h"

namespace photovault {

namespace {

const char16_t *kPattern =
    u"<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

std::string utf8_of(UChar32 c) {
    std::string out;
    icu::UnicodeString(c).toUTF8String(out);
    return out;
}

}  // namespace

ClipTokenizer::ClipTokenizer(const std::string &vocab_path, const std::string &merges_path) {
    // GPT-2's byte-to-character table: printable bytes stand for themselves, the others are
    // moved to U+0100 and up, so every byte is one visible character.
    int shifted = 0;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_chars_[b] = utf8_of(printable ? b : 256 + shifted++);
    }
    std::ifstream vocab_file(vocab_path);
    if (!vocab_file) throw ModelError(vocab_path + ": missing or unreadable.");
    try {
        auto json = nlohmann::json::parse(vocab_file);
        for (auto &[token, id] : json.items()) vocab_[token] = id.get<int32_t>();
    } catch (const nlohmann::json::exception &) {
        throw ModelError(vocab_path + ": not a JSON object of token ids.");
    }
    std::ifstream merges_file(merges_path);
    if (!merges_file) throw ModelError(merges_path + ": missing or unreadable.");
    std::string line;
    int rank = 0;
    while (std::getline(merges_file, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        auto space = line.find(' ');
        if (space == std::string::npos) throw ModelError(merges_path + ": line '" + line + "' is not a pair.");
        ranks_.emplace(std::make_pair(line.substr(0, space), line.substr(space + 1)), rank++);
    }
    auto special = [&](const char *name) {
        auto found = vocab_.find(name);
        if (found == vocab_.end()) throw ModelError(vocab_path + ": the vocabulary has no " + name + " token.");
        return found->second;
    };
    start_ = special("<|startoftext|>");
    end_ = special("<|endoftext|>");
}

std::vector<std::string> ClipTokenizer::bpe(const std::vector<std::string> &symbols) const {
    std::vector<std::string> word = symbols;
    while (word.size() > 1) {
        int best = INT_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < word.size(); i++) {
            auto found = ranks_.find({word[i], word[i + 1]});
            if (found != ranks_.end() && found->second < best) {
                best = found->second;
                at = i;
            }
        }
        if (best == INT_MAX) break;
        // Merge every occurrence of the best pair, left to right.
        std::string first = word[at], second = word[at + 1];
        std::vector<std::string> merged;
        for (size_t i = 0; i < word.size();) {
            if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
                merged.push_back(first + second);
                i += 2;
            } else {
                merged.push_back(word[i++]);
            }
        }
        word.swap(merged);
    }
    return word;
}

std::vector<int32_t> ClipTokenizer::encode(const std::string &text, int max_length) const {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *nfc = icu::Normalizer2::getNFCInstance(status);
    icu::UnicodeString normalized = nfc->normalize(icu::UnicodeString::fromUTF8(text), status);
    normalized.toLower(icu::Locale::getRoot());

    std::vector<int32_t> ids{start_};
    if (max_length < 2) max_length = 2;
    status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexPattern> pattern(icu::RegexPattern::compile(icu::UnicodeString(kPattern), 0, status));
    std::unique_ptr<icu::RegexMatcher> matcher(pattern->matcher(normalized, status));
    while (matcher->find() && static_cast<int>(ids.size()) < max_length - 1) {
        std::string piece;
        matcher->group(status).toUTF8String(piece);
        if (piece == "<|startoftext|>" || piece == "<|endoftext|>") {
            ids.push_back(piece == "<|startoftext|>" ? start_ : end_);
            continue;
        }
        std::vector<std::string> symbols;
        for (unsigned char byte : piece) symbols.push_back(byte_chars_[byte]);
        if (symbols.empty()) continue;
        symbols.back() += "</w>";
        for (const auto &token : bpe(symbols)) {
            if (static_cast<int>(ids.size()) >= max_length - 1) break;
            auto found = vocab_.find(token);
            ids.push_back(found == vocab_.end() ? end_ : found->second);
        }
    }
    ids.push_back(end_);
    return ids;
}

}  // namespace photovault
