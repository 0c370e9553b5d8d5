// What every libtorch model file shares: loading parameters by name from safetensors, and the
// device and precision a model runs with. Included by model .cpp files only (it pulls in libtorch).
#pragma once

#include <string>
#include <torch/torch.h>
#include <vector>

#include "Safetensors.h"

namespace photovault {

/// Where a model runs and in which precision.
struct Placement {
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
    std::string device_name() const { return device.is_cuda() ? "cuda" : "cpu"; }
    std::string dtype_name() const { return dtype == torch::kFloat16 ? "float16" : "float32"; }
};

/// "auto": CUDA in float16 when libtorch sees a GPU, else CPU in float32; "cpu"; "cuda".
Placement choose_placement(const std::string &device);

/// Copies every parameter and buffer of `module` from `file`: the parameter named `a.b.weight`
/// is the tensor `<prefix>a.b.weight` for the first prefix in `prefixes` under which the file
/// has it. A missing tensor or a shape that differs is a ModelError naming both.
/// `aliases` names a second tensor to use when the first is absent (weights tied on save).
void load_parameters(torch::nn::Module &module, const SafetensorsFile &file, const std::vector<std::string> &prefixes,
                     const std::vector<std::pair<std::string, std::string>> &aliases = {});

/// The file's tensor as a float32 CPU tensor (a copy).
torch::Tensor to_tensor(const TensorView &view);

}  // namespace photovault
