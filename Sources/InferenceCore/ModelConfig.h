// A model's config.json, read with nlohmann-json; every missing or mistyped key is an error
// naming the file and the key.
#pragma once

#include <memory>
#include <string>

namespace photovault {

/// The parsed config.json of a Hugging Face model folder.
class ModelConfig {
public:
    /// Reads `path`; `model_type` must be one of `accepted_types` (comma-separated) or the
    /// file belongs to another architecture and a ModelError says so.
    ModelConfig(const std::string &path, const std::string &accepted_types);
    ~ModelConfig();
    ModelConfig(ModelConfig &&) noexcept;

    /// A nested object such as CLIP's `text_config`; missing means every key takes its default.
    ModelConfig section(const std::string &key) const;

    int integer(const std::string &key) const;
    int integer(const std::string &key, int fallback) const;
    double number(const std::string &key, double fallback) const;
    std::string text(const std::string &key, const std::string &fallback) const;
    const std::string &path() const { return path_; }

private:
    ModelConfig() = default;
    struct Storage;
    std::string path_;
    std::unique_ptr<Storage> storage_;
};

}  // namespace photovault
