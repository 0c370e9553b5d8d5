#include "TorchSupport.h"

#include "InferenceCore.h"

namespace photovault {

namespace {

std::string shape_text(at::IntArrayRef shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); i++) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

}  // namespace

Placement choose_placement(const std::string &device) {
    Placement placement;
    if (device == "cuda" || (device == "auto" && torch::cuda::is_available())) {
        if (!torch::cuda::is_available()) throw ModelError("device 'cuda' was asked for, but libtorch sees no CUDA device.");
        placement.device = torch::Device(torch::kCUDA, 0);
        placement.dtype = torch::kFloat16;
    } else if (device != "cpu" && device != "auto") {
        throw ModelError("unknown device '" + device + "' (auto, cpu or cuda).");
    }
    return placement;
}

torch::Tensor to_tensor(const TensorView &view) {
    torch::ScalarType type = torch::kFloat32;
    switch (view.dtype) {
    case DType::F32: type = torch::kFloat32; break;
    case DType::F16: type = torch::kFloat16; break;
    case DType::BF16: type = torch::kBFloat16; break;
    case DType::I64: type = torch::kInt64; break;
    }
    auto raw = torch::from_blob(const_cast<std::byte *>(view.data), view.shape, torch::TensorOptions().dtype(type));
    return raw.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
}

void load_parameters(torch::nn::Module &module, const SafetensorsFile &file, const std::vector<std::string> &prefixes,
                     const std::vector<std::pair<std::string, std::string>> &aliases) {
    torch::NoGradGuard no_grad;
    auto load = [&](const std::string &name, torch::Tensor &target) {
        const TensorView *view = nullptr;
        std::string key;
        for (const auto &prefix : prefixes) {
            if (file.contains(prefix + name)) {
                key = prefix + name;
                view = &file.tensor(key);
                break;
            }
        }
        for (const auto &[original, alias] : aliases) {
            if (!view && name == original && file.contains(alias)) {
                key = alias;
                view = &file.tensor(key);
            }
        }
        if (!view) throw ModelError(file.path() + ": missing tensor '" + prefixes.front() + name + "'.");
        if (at::IntArrayRef(view->shape) != target.sizes())
            throw ModelError(file.path() + ": tensor '" + key + "' has shape " + shape_text(view->shape) +
                             ", expected " + shape_text(target.sizes()) + ".");
        target.copy_(to_tensor(*view));
    };
    for (auto &item : module.named_parameters(/*recurse=*/true)) load(item.key(), item.value());
    for (auto &item : module.named_buffers(/*recurse=*/true)) {
        // A training counter, not needed for inference (and absent from some exports).
        if (item.key().size() >= 19 && item.key().compare(item.key().size() - 19, 19, "num_batches_tracked") == 0) continue;
        load(item.key(), item.value());
    }
}

}  // namespace photovault

extern "C" {

void pv_set_threads(int threads) {
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    torch::set_num_threads(threads);
}

int pv_threads(void) { return torch::get_num_threads(); }

int pv_cuda_available(void) {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

}
