// A safetensors file mapped into memory: the header parsed, tensors as views on the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace photovault {

/// A model folder or file that cannot be used; the message names the file and the tensor.
struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Bad input from a caller (not an image, too large …).
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Element types the loader understands.
enum class DType { F32, F16, BF16, I64 };

/// One tensor's place in the mapped file.
struct TensorView {
    DType dtype;
    std::vector<int64_t> shape;
    const std::byte *data;
    size_t byte_count;
};

/// A read-only mmap of a .safetensors file. Every offset is checked against the file size at
/// open, so a truncated file fails here, naming the first tensor that does not fit.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::string &path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile &) = delete;
    SafetensorsFile &operator=(const SafetensorsFile &) = delete;

    const std::string &path() const { return path_; }
    bool contains(const std::string &name) const { return tensors_.count(name) != 0; }
    /// The tensor, or a ModelError naming the file and the tensor.
    const TensorView &tensor(const std::string &name) const;
    const std::map<std::string, TensorView> &tensors() const { return tensors_; }

private:
    std::string path_;
    void *mapping_ = nullptr;
    size_t size_ = 0;
    std::map<std::string, TensorView> tensors_;
};

const char *dtype_name(DType dtype);

}  // namespace photovault
