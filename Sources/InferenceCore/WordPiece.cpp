#include "WordPiece.h"

#include <fstream>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>

#include "Safetensors.h"

namespace photovault {

namespace {

bool is_whitespace(UChar32 c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
    return u_charType(c) == U_SPACE_SEPARATOR;
}

bool is_control(UChar32 c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    switch (u_charType(c)) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_UNASSIGNED: case U_PRIVATE_USE_CHAR: case U_SURROGATE:
        return true;
    default:
        return false;
    }
}

bool is_punctuation(UChar32 c) {
    // BERT counts every non-alphanumeric ASCII character as punctuation ("$", "^", "`" …).
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    switch (u_charType(c)) {
    case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION: case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
        return true;
    default:
        return false;
    }
}

bool is_cjk(UChar32 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::string utf8(const icu::UnicodeString &text) {
    std::string out;
    text.toUTF8String(out);
    return out;
}

}  // namespace

WordPiece::WordPiece(const std::string &vocab_path, bool lower_case) : lower_case_(lower_case) {
    std::ifstream file(vocab_path);
    if (!file) throw ModelError(vocab_path + ": missing or unreadable.");
    std::string line;
    int32_t id = 0;
    while (std::getline(file, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        vocab_.emplace(line, id++);
    }
    auto special = [&](const char *name) {
        auto found = vocab_.find(name);
        if (found == vocab_.end()) throw ModelError(vocab_path + ": the vocabulary has no " + name + " token.");
        return found->second;
    };
    cls_ = special("[CLS]");
    sep_ = special("[SEP]");
    pad_ = special("[PAD]");
    unk_ = special("[UNK]");
}

std::vector<std::string> WordPiece::basic_tokens(const std::string &text, size_t limit) const {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2 *nfc = icu::Normalizer2::getNFCInstance(status);
    const icu::Normalizer2 *nfd = icu::Normalizer2::getNFDInstance(status);
    icu::UnicodeString input = icu::UnicodeString::fromUTF8(text);

    // Clean-up and CJK splitting: drop NUL, U+FFFD and control characters, turn every kind of
    // space into ' ', and surround each CJK ideograph with spaces.
    icu::UnicodeString cleaned;
    for (int32_t i = 0; i < input.length(); i = input.moveIndex32(i, 1)) {
        UChar32 c = input.char32At(i);
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        if (is_whitespace(c)) cleaned.append(UChar32(' '));
        else if (is_cjk(c)) cleaned.append(UChar32(' ')).append(c).append(UChar32(' '));
        else cleaned.append(c);
    }
    icu::UnicodeString normalized = nfc->normalize(cleaned, status);
    if (U_FAILURE(status)) normalized = cleaned;

    std::vector<std::string> tokens;
    auto flush_word = [&](icu::UnicodeString &word) {
        if (word.isEmpty()) return;
        if (lower_case_) {
            word.toLower(icu::Locale::getRoot());
            UErrorCode decompose = U_ZERO_ERROR;
            icu::UnicodeString decomposed = nfd->normalize(word, decompose);
            icu::UnicodeString stripped;
            for (int32_t i = 0; i < decomposed.length(); i = decomposed.moveIndex32(i, 1)) {
                UChar32 c = decomposed.char32At(i);
                if (u_charType(c) != U_NON_SPACING_MARK) stripped.append(c);
            }
            word = stripped;
        }
        // Punctuation splitting: each punctuation character is a token of its own.
        icu::UnicodeString current;
        for (int32_t i = 0; i < word.length(); i = word.moveIndex32(i, 1)) {
            UChar32 c = word.char32At(i);
            if (is_punctuation(c)) {
                if (!current.isEmpty()) tokens.push_back(utf8(current));
                current.remove();
                tokens.push_back(utf8(icu::UnicodeString(c)));
            } else {
                current.append(c);
            }
        }
        if (!current.isEmpty()) tokens.push_back(utf8(current));
        word.remove();
    };
    icu::UnicodeString word;
    for (int32_t i = 0; i < normalized.length() && tokens.size() < limit; i = normalized.moveIndex32(i, 1)) {
        UChar32 c = normalized.char32At(i);
        if (is_whitespace(c)) flush_word(word);
        else word.append(c);
    }
    flush_word(word);
    return tokens;
}

void WordPiece::word_pieces(const std::string &token, std::vector<std::string> &out) const {
    icu::UnicodeString chars = icu::UnicodeString::fromUTF8(token);
    if (chars.countChar32() > 100) {
        out.push_back("[UNK]");
        return;
    }
    // Code-point boundaries in the UTF-8 string, so pieces never split a character.
    std::vector<size_t> bounds{0};
    for (int32_t i = 0; i < chars.length(); i = chars.moveIndex32(i, 1)) {
        UChar32 c = chars.char32At(i);
        bounds.push_back(bounds.back() + (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4));
    }
    std::vector<std::string> found;
    size_t start = 0;
    while (start + 1 < bounds.size()) {
        size_t end = bounds.size() - 1;
        std::string piece;
        bool matched = false;
        while (end > start) {
            piece = token.substr(bounds[start], bounds[end] - bounds[start]);
            if (start > 0) piece = "##" + piece;
            if (vocab_.count(piece)) {
                matched = true;
                break;
            }
            end--;
        }
        if (!matched) {
            out.push_back("[UNK]");
            return;
        }
        found.push_back(piece);
        start = end;
    }
    out.insert(out.end(), found.begin(), found.end());
}

std::vector<std::string> WordPiece::pieces(const std::string &text, size_t limit) const {
    std::vector<std::string> out;
    for (const auto &token : basic_tokens(text, limit)) {
        if (out.size() >= limit) break;
        word_pieces(token, out);
    }
    if (out.size() > limit) out.resize(limit);
    return out;
}

std::vector<int32_t> WordPiece::encode(const std::string &text, int max_length) const {
    std::vector<int32_t> ids{cls_};
    if (max_length < 2) max_length = 2;
    for (const auto &piece : pieces(text, static_cast<size_t>(max_length))) {
        if (static_cast<int>(ids.size()) >= max_length - 1) break;
        auto found = vocab_.find(piece);
        ids.push_back(found == vocab_.end() ? unk_ : found->second);
    }
    ids.push_back(sep_);
    return ids;
}

}  // namespace photovault
