#include "FaceNet.h"

#include "TorchSupport.h"

namespace photovault {

namespace {

namespace nn = torch::nn;

/// Convolution without bias, batch norm (eps 0.001, as TensorFlow's FaceNet), ReLU.
struct BasicConv2dImpl : nn::Module {
    nn::Conv2d conv{nullptr};
    nn::BatchNorm2d bn{nullptr};

    BasicConv2dImpl(int in, int out, std::vector<int64_t> kernel, int stride, std::vector<int64_t> padding = {0, 0}) {
        conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false)));
        bn = register_module("bn", nn::BatchNorm2d(nn::BatchNormOptions(out).eps(0.001)));
    }

    torch::Tensor forward(const torch::Tensor &x) { return torch::relu(bn(conv(x))); }
};
TORCH_MODULE(BasicConv2d);

BasicConv2d conv2(int in, int out, int kh, int kw, int ph, int pw) {
    return BasicConv2d(in, out, std::vector<int64_t>{kh, kw}, 1, std::vector<int64_t>{ph, pw});
}

BasicConv2d conv(int in, int out, int kernel, int stride, int padding = 0) {
    return BasicConv2d(in, out, std::vector<int64_t>{kernel, kernel}, stride, std::vector<int64_t>{padding, padding});
}

nn::Sequential chain(std::initializer_list<BasicConv2d> layers) {
    nn::Sequential sequential;
    for (const auto &layer : layers) sequential->push_back(layer);
    return sequential;
}

/// The residual Inception blocks: branches concatenated, a 1×1 convolution, scaled, added.
struct Block35Impl : nn::Module {
    BasicConv2d branch0{nullptr};
    nn::Sequential branch1, branch2;
    nn::Conv2d conv2d{nullptr};
    double scale;

    explicit Block35Impl(double scale) : scale(scale) {
        branch0 = register_module("branch0", conv(256, 32, 1, 1));
        branch1 = register_module("branch1", chain({conv(256, 32, 1, 1), conv(32, 32, 3, 1, 1)}));
        branch2 = register_module("branch2", chain({conv(256, 32, 1, 1), conv(32, 32, 3, 1, 1), conv(32, 32, 3, 1, 1)}));
        conv2d = register_module("conv2d", nn::Conv2d(nn::Conv2dOptions(96, 256, 1)));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        auto out = conv2d(torch::cat({branch0(x), branch1->forward(x), branch2->forward(x)}, 1));
        return torch::relu(out * scale + x);
    }
};
TORCH_MODULE(Block35);

struct Block17Impl : nn::Module {
    BasicConv2d branch0{nullptr};
    nn::Sequential branch1;
    nn::Conv2d conv2d{nullptr};
    double scale;

    explicit Block17Impl(double scale) : scale(scale) {
        branch0 = register_module("branch0", conv(896, 128, 1, 1));
        branch1 = register_module("branch1", chain({conv(896, 128, 1, 1), conv2(128, 128, 1, 7, 0, 3),
                                                     conv2(128, 128, 7, 1, 3, 0)}));
        conv2d = register_module("conv2d", nn::Conv2d(nn::Conv2dOptions(256, 896, 1)));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        auto out = conv2d(torch::cat({branch0(x), branch1->forward(x)}, 1));
        return torch::relu(out * scale + x);
    }
};
TORCH_MODULE(Block17);

struct Block8Impl : nn::Module {
    BasicConv2d branch0{nullptr};
    nn::Sequential branch1;
    nn::Conv2d conv2d{nullptr};
    double scale;
    bool relu;

    Block8Impl(double scale, bool relu) : scale(scale), relu(relu) {
        branch0 = register_module("branch0", conv(1792, 192, 1, 1));
        branch1 = register_module("branch1", chain({conv(1792, 192, 1, 1), conv2(192, 192, 1, 3, 0, 1),
                                                     conv2(192, 192, 3, 1, 1, 0)}));
        conv2d = register_module("conv2d", nn::Conv2d(nn::Conv2dOptions(384, 1792, 1)));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        auto out = conv2d(torch::cat({branch0(x), branch1->forward(x)}, 1)) * scale + x;
        return relu ? torch::relu(out) : out;
    }
};
TORCH_MODULE(Block8);

struct Mixed6aImpl : nn::Module {
    BasicConv2d branch0{nullptr};
    nn::Sequential branch1;

    Mixed6aImpl() {
        branch0 = register_module("branch0", conv(256, 384, 3, 2));
        branch1 = register_module("branch1", chain({conv(256, 192, 1, 1), conv(192, 192, 3, 1, 1), conv(192, 256, 3, 2)}));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        return torch::cat({branch0(x), branch1->forward(x), torch::max_pool2d(x, 3, 2)}, 1);
    }
};
TORCH_MODULE(Mixed6a);

struct Mixed7aImpl : nn::Module {
    nn::Sequential branch0, branch1, branch2;

    Mixed7aImpl() {
        branch0 = register_module("branch0", chain({conv(896, 256, 1, 1), conv(256, 384, 3, 2)}));
        branch1 = register_module("branch1", chain({conv(896, 256, 1, 1), conv(256, 256, 3, 2)}));
        branch2 = register_module("branch2", chain({conv(896, 256, 1, 1), conv(256, 256, 3, 1, 1), conv(256, 256, 3, 2)}));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        return torch::cat({branch0->forward(x), branch1->forward(x), branch2->forward(x), torch::max_pool2d(x, 3, 2)}, 1);
    }
};
TORCH_MODULE(Mixed7a);

struct InceptionResnetV1Impl : nn::Module {
    BasicConv2d conv2d_1a{nullptr}, conv2d_2a{nullptr}, conv2d_2b{nullptr}, conv2d_3b{nullptr}, conv2d_4a{nullptr}, conv2d_4b{nullptr};
    nn::Sequential repeat_1, repeat_2, repeat_3;
    Mixed6a mixed_6a{nullptr};
    Mixed7a mixed_7a{nullptr};
    Block8 block8{nullptr};
    nn::Linear last_linear{nullptr};
    nn::BatchNorm1d last_bn{nullptr};

    InceptionResnetV1Impl() {
        conv2d_1a = register_module("conv2d_1a", conv(3, 32, 3, 2));
        conv2d_2a = register_module("conv2d_2a", conv(32, 32, 3, 1));
        conv2d_2b = register_module("conv2d_2b", conv(32, 64, 3, 1, 1));
        conv2d_3b = register_module("conv2d_3b", conv(64, 80, 1, 1));
        conv2d_4a = register_module("conv2d_4a", conv(80, 192, 3, 1));
        conv2d_4b = register_module("conv2d_4b", conv(192, 256, 3, 2));
        for (int i = 0; i < 5; i++) repeat_1->push_back(Block35(0.17));
        register_module("repeat_1", repeat_1);
        mixed_6a = register_module("mixed_6a", Mixed6a());
        for (int i = 0; i < 10; i++) repeat_2->push_back(Block17(0.10));
        register_module("repeat_2", repeat_2);
        mixed_7a = register_module("mixed_7a", Mixed7a());
        for (int i = 0; i < 5; i++) repeat_3->push_back(Block8(0.20, true));
        register_module("repeat_3", repeat_3);
        block8 = register_module("block8", Block8(1.0, false));
        last_linear = register_module("last_linear", nn::Linear(nn::LinearOptions(1792, 512).bias(false)));
        last_bn = register_module("last_bn", nn::BatchNorm1d(nn::BatchNormOptions(512).eps(0.001)));
    }

    torch::Tensor forward(torch::Tensor x) {
        x = conv2d_2b(conv2d_2a(conv2d_1a(x)));
        x = conv2d_4b(conv2d_4a(conv2d_3b(torch::max_pool2d(x, 3, 2))));
        x = repeat_3->forward(mixed_7a(repeat_2->forward(mixed_6a(repeat_1->forward(x)))));
        x = torch::adaptive_avg_pool2d(block8(x), {1, 1}).flatten(1);
        x = last_bn(last_linear(x));
        return torch::nn::functional::normalize(x.to(torch::kFloat32), torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    }
};
TORCH_MODULE(InceptionResnetV1);

}  // namespace

struct FaceNet::Impl {
    Placement placement;
    InceptionResnetV1 model;
};

FaceNet::FaceNet(const std::string &folder, const std::string &device)
    : impl_(std::make_unique<Impl>(Impl{choose_placement(device), InceptionResnetV1()})) {
    SafetensorsFile weights(folder + "/model.safetensors");
    load_parameters(*impl_->model, weights, {""});
    impl_->model->eval();
    impl_->model->to(impl_->placement.device, impl_->placement.dtype);
}

FaceNet::~FaceNet() = default;

std::string FaceNet::device() const { return impl_->placement.device_name(); }
std::string FaceNet::dtype() const { return impl_->placement.dtype_name(); }

void FaceNet::embed(const uint8_t *faces, int count, float *vectors) {
    torch::InferenceMode inference;
    auto pixels = torch::from_blob(const_cast<uint8_t *>(faces), {count, 160, 160, 3}, torch::kUInt8)
                      .permute({0, 3, 1, 2}).to(torch::kFloat32);
    // facenet-pytorch's prewhiten: per face, minus the mean, over the (unbiased) standard
    // deviation, which is kept from falling below 1/sqrt(pixel count).
    auto flat = pixels.reshape({count, -1});
    auto mean = flat.mean(1, true);
    auto std = flat.std(1, /*unbiased=*/true, true).clamp_min(1.0 / std::sqrt(static_cast<double>(flat.size(1))));
    auto input = ((flat - mean) / std).view_as(pixels).to(impl_->placement.device, impl_->placement.dtype);
    auto out = impl_->model->forward(input).to(torch::kCPU).contiguous();
    std::memcpy(vectors, out.data_ptr<float>(), sizeof(float) * out.numel());
}

}  // namespace photovault
