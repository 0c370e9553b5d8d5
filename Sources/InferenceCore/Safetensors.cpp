#include "Safetensors.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace photovault {

namespace {

size_t element_size(DType dtype) {
    switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    }
    return 0;
}

std::string shape_text(const std::vector<int64_t> &shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); i++) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

}  // namespace

const char *dtype_name(DType dtype) {
    switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    }
    return "?";
}

SafetensorsFile::SafetensorsFile(const std::string &path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelError(path + ": cannot open (" + std::strerror(errno) + ").");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        ::close(fd);
        throw ModelError(path + ": cannot read its size.");
    }
    size_ = static_cast<size_t>(info.st_size);
    if (size_ < 8) {
        ::close(fd);
        throw ModelError(path + ": truncated safetensors file (" + std::to_string(size_) + " bytes, no header).");
    }
    mapping_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapping_ == MAP_FAILED) {
        mapping_ = nullptr;
        throw ModelError(path + ": cannot map the file into memory.");
    }
    try {
        auto *bytes = static_cast<const std::byte *>(mapping_);
        uint64_t header_length = 0;
        std::memcpy(&header_length, bytes, 8);  // little-endian, as is every host we run on
        if (header_length > size_ - 8)
            throw ModelError(path + ": truncated safetensors file (the header says " + std::to_string(header_length) +
                             " bytes, the file has " + std::to_string(size_ - 8) + ").");
        nlohmann::json header;
        try {
            header = nlohmann::json::parse(reinterpret_cast<const char *>(bytes + 8),
                                           reinterpret_cast<const char *>(bytes + 8 + header_length));
        } catch (const nlohmann::json::exception &) {
            throw ModelError(path + ": the safetensors header is not valid JSON.");
        }
        if (!header.is_object()) throw ModelError(path + ": the safetensors header is not a JSON object.");
        const std::byte *base = bytes + 8 + header_length;
        size_t data_size = size_ - 8 - header_length;
        for (auto &[name, entry] : header.items()) {
            if (name == "__metadata__") continue;
            try {
                std::string type = entry.at("dtype").get<std::string>();
                DType dtype;
                if (type == "F32") dtype = DType::F32;
                else if (type == "F16") dtype = DType::F16;
                else if (type == "BF16") dtype = DType::BF16;
                else if (type == "I64") dtype = DType::I64;
                else throw ModelError(path + ": tensor '" + name + "' has dtype " + type + ", which is not supported (F32, F16, BF16, I64).");
                std::vector<int64_t> shape = entry.at("shape").get<std::vector<int64_t>>();
                auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
                if (offsets.size() != 2 || offsets[0] > offsets[1])
                    throw ModelError(path + ": tensor '" + name + "' has invalid data_offsets.");
                uint64_t count = 1;
                for (int64_t d : shape) {
                    if (d < 0) throw ModelError(path + ": tensor '" + name + "' has a negative dimension.");
                    count *= static_cast<uint64_t>(d);
                }
                if (count * element_size(dtype) != offsets[1] - offsets[0])
                    throw ModelError(path + ": tensor '" + name + "' has shape " + shape_text(shape) +
                                     " but " + std::to_string(offsets[1] - offsets[0]) + " bytes.");
                if (offsets[1] > data_size)
                    throw ModelError(path + ": truncated safetensors file: tensor '" + name + "' ends at byte " +
                                     std::to_string(offsets[1]) + " of the data, which has only " +
                                     std::to_string(data_size) + ".");
                tensors_[name] = TensorView{dtype, shape, base + offsets[0], static_cast<size_t>(offsets[1] - offsets[0])};
            } catch (const nlohmann::json::exception &) {
                throw ModelError(path + ": tensor '" + name + "' has a malformed header entry.");
            }
        }
    } catch (...) {
        ::munmap(mapping_, size_);
        mapping_ = nullptr;
        throw;
    }
}

SafetensorsFile::~SafetensorsFile() {
    if (mapping_) ::munmap(mapping_, size_);
}

const TensorView &SafetensorsFile::tensor(const std::string &name) const {
    auto found = tensors_.find(name);
    if (found == tensors_.end()) throw ModelError(path_ + ": missing tensor '" + name + "'.");
    return found->second;
}

}  // namespace photovault
