#include "ModelConfig.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "Safetensors.h"

namespace photovault {

struct ModelConfig::Storage {
    nlohmann::json json;
};

ModelConfig::ModelConfig(const std::string &path, const std::string &accepted_types)
    : path_(path), storage_(std::make_unique<Storage>()) {
    std::ifstream file(path);
    if (!file) throw ModelError(path + ": missing or unreadable.");
    try {
        storage_->json = nlohmann::json::parse(file);
    } catch (const nlohmann::json::exception &) {
        throw ModelError(path + ": not valid JSON.");
    }
    if (!storage_->json.is_object()) throw ModelError(path + ": not a JSON object.");
    std::string type = text("model_type", "");
    std::stringstream list(accepted_types);
    std::string accepted;
    while (std::getline(list, accepted, ','))
        if (accepted == type) return;
    throw ModelError(path + ": model_type is '" + type + "', but this loader expects " + accepted_types + ".");
}

ModelConfig::~ModelConfig() = default;
ModelConfig::ModelConfig(ModelConfig &&) noexcept = default;

ModelConfig ModelConfig::section(const std::string &key) const {
    ModelConfig nested;
    nested.path_ = path_ + " (" + key + ")";
    nested.storage_ = std::make_unique<Storage>();
    auto found = storage_->json.find(key);
    if (found == storage_->json.end() || found->is_null()) nested.storage_->json = nlohmann::json::object();
    else if (found->is_object()) nested.storage_->json = *found;
    else throw ModelError(path_ + ": '" + key + "' is not an object.");
    return nested;
}

int ModelConfig::integer(const std::string &key) const {
    auto found = storage_->json.find(key);
    if (found == storage_->json.end() || !found->is_number_integer())
        throw ModelError(path_ + ": '" + key + "' is missing or not an integer.");
    return found->get<int>();
}

int ModelConfig::integer(const std::string &key, int fallback) const {
    auto found = storage_->json.find(key);
    if (found == storage_->json.end() || found->is_null()) return fallback;
    if (!found->is_number_integer()) throw ModelError(path_ + ": '" + key + "' is not an integer.");
    return found->get<int>();
}

double ModelConfig::number(const std::string &key, double fallback) const {
    auto found = storage_->json.find(key);
    if (found == storage_->json.end() || found->is_null()) return fallback;
    if (!found->is_number()) throw ModelError(path_ + ": '" + key + "' is not a number.");
    return found->get<double>();
}

std::string ModelConfig::text(const std::string &key, const std::string &fallback) const {
    auto found = storage_->json.find(key);
    if (found == storage_->json.end() || found->is_null()) return fallback;
    if (!found->is_string()) throw ModelError(path_ + ": '" + key + "' is not a string.");
    return found->get<std::string>();
}

}  // namespace photovault
