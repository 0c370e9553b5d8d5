#include "Clip.h"

#include <cmath>

#include "ImageResize.h"
#include "ModelConfig.h"
#include "TorchSupport.h"

namespace photovault {

namespace {

/// One tower's shape, from text_config or vision_config (defaults: ViT-B/32).
struct TowerConfig {
    int hidden_size, intermediate_size, layers, heads;
    double layer_norm_eps;
    bool quick_gelu;

    TowerConfig(const ModelConfig &c, int hidden, int intermediate, int layers_, int heads_)
        : hidden_size(c.integer("hidden_size", hidden)), intermediate_size(c.integer("intermediate_size", intermediate)),
          layers(c.integer("num_hidden_layers", layers_)), heads(c.integer("num_attention_heads", heads_)),
          layer_norm_eps(c.number("layer_norm_eps", 1e-5)) {
        std::string act = c.text("hidden_act", "quick_gelu");
        if (act != "quick_gelu" && act != "gelu")
            throw ModelError(c.path() + ": hidden_act '" + act + "' is not supported (quick_gelu, gelu).");
        quick_gelu = act == "quick_gelu";
        if (heads <= 0 || hidden_size % heads != 0)
            throw ModelError(c.path() + ": hidden_size is not a multiple of num_attention_heads.");
    }
};

torch::nn::LayerNorm layer_norm(int size, double eps) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({size}).eps(eps));
}

torch::nn::Linear linear(int in, int out, bool bias = true) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

struct ClipAttentionImpl : torch::nn::Module {
    torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
    int heads, head_size;

    explicit ClipAttentionImpl(const TowerConfig &c) : heads(c.heads), head_size(c.hidden_size / c.heads) {
        k_proj = register_module("k_proj", linear(c.hidden_size, c.hidden_size));
        v_proj = register_module("v_proj", linear(c.hidden_size, c.hidden_size));
        q_proj = register_module("q_proj", linear(c.hidden_size, c.hidden_size));
        out_proj = register_module("out_proj", linear(c.hidden_size, c.hidden_size));
    }

    torch::Tensor split(const torch::Tensor &x) {
        return x.view({x.size(0), x.size(1), heads, head_size}).transpose(1, 2);
    }

    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &mask) {
        auto q = split(q_proj(x) * std::pow(head_size, -0.5)), k = split(k_proj(x)), v = split(v_proj(x));
        auto scores = torch::matmul(q, k.transpose(-1, -2));
        if (mask.defined()) scores = scores + mask;
        auto context = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).contiguous();
        return out_proj(context.view({x.size(0), x.size(1), heads * head_size}));
    }
};
TORCH_MODULE(ClipAttention);

struct ClipMLPImpl : torch::nn::Module {
    torch::nn::Linear fc1{nullptr}, fc2{nullptr};
    bool quick_gelu;

    explicit ClipMLPImpl(const TowerConfig &c) : quick_gelu(c.quick_gelu) {
        fc1 = register_module("fc1", linear(c.hidden_size, c.intermediate_size));
        fc2 = register_module("fc2", linear(c.intermediate_size, c.hidden_size));
    }

    torch::Tensor forward(const torch::Tensor &x) {
        auto h = fc1(x);
        h = quick_gelu ? h * torch::sigmoid(1.702 * h) : torch::gelu(h);
        return fc2(h);
    }
};
TORCH_MODULE(ClipMLP);

struct ClipEncoderLayerImpl : torch::nn::Module {
    ClipAttention self_attn{nullptr};
    torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
    ClipMLP mlp{nullptr};

    explicit ClipEncoderLayerImpl(const TowerConfig &c) {
        self_attn = register_module("self_attn", ClipAttention(c));
        layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden_size, c.layer_norm_eps));
        mlp = register_module("mlp", ClipMLP(c));
        layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden_size, c.layer_norm_eps));
    }

    torch::Tensor forward(torch::Tensor x, const torch::Tensor &mask) {
        x = x + self_attn(layer_norm1(x), mask);
        return x + mlp(layer_norm2(x));
    }
};
TORCH_MODULE(ClipEncoderLayer);

struct ClipEncoderImpl : torch::nn::Module {
    torch::nn::ModuleList layers;

    explicit ClipEncoderImpl(const TowerConfig &c) {
        for (int i = 0; i < c.layers; i++) layers->push_back(ClipEncoderLayer(c));
        register_module("layers", layers);
    }

    torch::Tensor forward(torch::Tensor x, const torch::Tensor &mask) {
        for (auto &layer : *layers) x = layer->as<ClipEncoderLayerImpl>()->forward(x, mask);
        return x;
    }
};
TORCH_MODULE(ClipEncoder);

struct ClipTextEmbeddingsImpl : torch::nn::Module {
    torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};

    ClipTextEmbeddingsImpl(int vocab, int positions, int hidden) {
        token_embedding = register_module("token_embedding", torch::nn::Embedding(vocab, hidden));
        position_embedding = register_module("position_embedding", torch::nn::Embedding(positions, hidden));
    }

    torch::Tensor forward(const torch::Tensor &ids) {
        return token_embedding(ids) + position_embedding(torch::arange(ids.size(1), ids.options()).unsqueeze(0));
    }
};
TORCH_MODULE(ClipTextEmbeddings);

struct ClipTextTransformerImpl : torch::nn::Module {
    ClipTextEmbeddings embeddings{nullptr};
    ClipEncoder encoder{nullptr};
    torch::nn::LayerNorm final_layer_norm{nullptr};
    int eos_token_id;

    ClipTextTransformerImpl(const TowerConfig &c, int vocab, int positions, int eos)
        : eos_token_id(eos) {
        embeddings = register_module("embeddings", ClipTextEmbeddings(vocab, positions, c.hidden_size));
        encoder = register_module("encoder", ClipEncoder(c));
        final_layer_norm = register_module("final_layer_norm", layer_norm(c.hidden_size, c.layer_norm_eps));
    }

    /// The pooled (end-of-text) states; `mask` is 1 for tokens, 0 for padding.
    torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &mask, torch::ScalarType dtype) {
        int64_t length = ids.size(1);
        double lowest = dtype == torch::kFloat16 ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
        // Causal and padding masks in one: a token sees earlier tokens that are not padding.
        auto causal = torch::ones({length, length}, ids.options().dtype(torch::kBool)).triu(1);
        auto padding = (mask == 0).unsqueeze(1).unsqueeze(2);
        auto blocked = causal.unsqueeze(0).unsqueeze(0).logical_or(padding);
        auto additive = torch::zeros(blocked.sizes(), ids.options().dtype(dtype)).masked_fill(blocked, lowest);
        auto states = final_layer_norm(encoder(embeddings(ids), additive));
        // Checkpoints from before transformers 4.31 say eos_token_id 2 and pool at the largest id.
        auto positions = eos_token_id == 2 ? ids.argmax(-1) : (ids == eos_token_id).to(torch::kInt).argmax(-1);
        return states.index({torch::arange(ids.size(0), ids.options()), positions});
    }
};
TORCH_MODULE(ClipTextTransformer);

struct ClipVisionEmbeddingsImpl : torch::nn::Module {
    torch::Tensor class_embedding;
    torch::nn::Conv2d patch_embedding{nullptr};
    torch::nn::Embedding position_embedding{nullptr};

    ClipVisionEmbeddingsImpl(int hidden, int channels, int image_size, int patch_size) {
        class_embedding = register_parameter("class_embedding", torch::zeros({hidden}));
        patch_embedding = register_module(
            "patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, hidden, patch_size).stride(patch_size).bias(false)));
        int patches = (image_size / patch_size) * (image_size / patch_size);
        position_embedding = register_module("position_embedding", torch::nn::Embedding(patches + 1, hidden));
    }

    torch::Tensor forward(const torch::Tensor &pixels) {
        auto patches = patch_embedding(pixels).flatten(2).transpose(1, 2);
        auto cls = class_embedding.expand({pixels.size(0), 1, -1});
        auto x = torch::cat({cls, patches}, 1);
        return x + position_embedding->weight.unsqueeze(0);
    }
};
TORCH_MODULE(ClipVisionEmbeddings);

struct ClipVisionTransformerImpl : torch::nn::Module {
    ClipVisionEmbeddings embeddings{nullptr};
    torch::nn::LayerNorm pre_layrnorm{nullptr}, post_layernorm{nullptr};
    ClipEncoder encoder{nullptr};

    ClipVisionTransformerImpl(const TowerConfig &c, int channels, int image_size, int patch_size) {
        embeddings = register_module("embeddings", ClipVisionEmbeddings(c.hidden_size, channels, image_size, patch_size));
        // "pre_layrnorm" is the checkpoint's spelling.
        pre_layrnorm = register_module("pre_layrnorm", layer_norm(c.hidden_size, c.layer_norm_eps));
        encoder = register_module("encoder", ClipEncoder(c));
        post_layernorm = register_module("post_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
    }

    torch::Tensor forward(const torch::Tensor &pixels) {
        auto states = encoder(pre_layrnorm(embeddings(pixels)), torch::Tensor());
        return post_layernorm(states.select(1, 0));
    }
};
TORCH_MODULE(ClipVisionTransformer);

struct ClipModelModuleImpl : torch::nn::Module {
    ClipTextTransformer text_model{nullptr};
    ClipVisionTransformer vision_model{nullptr};
    torch::nn::Linear visual_projection{nullptr}, text_projection{nullptr};
    torch::Tensor logit_scale;

    ClipModelModuleImpl(const TowerConfig &text, const TowerConfig &vision, int vocab, int positions, int eos, int channels,
                  int image_size, int patch_size, int projection_dim) {
        text_model = register_module("text_model", ClipTextTransformer(text, vocab, positions, eos));
        vision_model = register_module("vision_model", ClipVisionTransformer(vision, channels, image_size, patch_size));
        visual_projection = register_module("visual_projection", linear(vision.hidden_size, projection_dim, false));
        text_projection = register_module("text_projection", linear(text.hidden_size, projection_dim, false));
        logit_scale = register_parameter("logit_scale", torch::zeros({}));
    }
};
TORCH_MODULE(ClipModelModule);

torch::Tensor normalise(const torch::Tensor &x) {
    return torch::nn::functional::normalize(x.to(torch::kFloat32), torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

const float kMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
const float kStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};

}  // namespace

struct ClipModel::Impl {
    Placement placement;
    ClipTokenizer tokenizer;
    ClipModelModule model{nullptr};
    int dim = 0, image_size = 0, context_length = 0, vocab_size = 0;

    Impl(const std::string &folder, const std::string &device)
        : placement(choose_placement(device)), tokenizer(folder + "/vocab.json", folder + "/merges.txt") {}
};

ClipModel::ClipModel(const std::string &folder, const std::string &device) {
    ModelConfig config(folder + "/config.json", "clip");
    ModelConfig text_config = config.section("text_config"), vision_config = config.section("vision_config");
    TowerConfig text(text_config, 512, 2048, 12, 8), vision(vision_config, 768, 3072, 12, 12);
    impl_ = std::make_unique<Impl>(folder, device);
    impl_->vocab_size = text_config.integer("vocab_size", 49408);
    impl_->context_length = text_config.integer("max_position_embeddings", 77);
    impl_->image_size = vision_config.integer("image_size", 224);
    int patch_size = vision_config.integer("patch_size", 32);
    if (patch_size <= 0 || impl_->image_size % patch_size != 0)
        throw ModelError(config.path() + ": vision_config image_size is not a multiple of patch_size.");
    impl_->dim = config.integer("projection_dim", 512);
    impl_->model = ClipModelModule(text, vision, impl_->vocab_size, impl_->context_length, text_config.integer("eos_token_id", 2),
                                   vision_config.integer("num_channels", 3), impl_->image_size, patch_size, impl_->dim);
    SafetensorsFile weights(folder + "/model.safetensors");
    load_parameters(*impl_->model, weights, {""});
    impl_->model->eval();
    impl_->model->to(impl_->placement.device, impl_->placement.dtype);
}

ClipModel::~ClipModel() = default;

int ClipModel::dim() const { return impl_->dim; }
int ClipModel::image_size() const { return impl_->image_size; }
int ClipModel::context_length() const { return impl_->context_length; }
float ClipModel::logit_scale() const { return impl_->model->logit_scale.to(torch::kFloat32).exp().item<float>(); }
std::string ClipModel::device() const { return impl_->placement.device_name(); }
std::string ClipModel::dtype() const { return impl_->placement.dtype_name(); }
const ClipTokenizer &ClipModel::tokenizer() const { return impl_->tokenizer; }

void ClipModel::embed_pixels(const float *pixels, int count, float *vectors) {
    torch::InferenceMode inference;
    int size = impl_->image_size;
    auto input = torch::from_blob(const_cast<float *>(pixels), {count, 3, size, size}, torch::kFloat32)
                     .to(impl_->placement.device, impl_->placement.dtype);
    auto pooled = impl_->model->vision_model(input);
    auto out = normalise(impl_->model->visual_projection(pooled)).to(torch::kCPU).contiguous();
    std::memcpy(vectors, out.data_ptr<float>(), sizeof(float) * out.numel());
}

void ClipModel::embed_images(const std::vector<const RGBImage *> &images, float *vectors) {
    int size = impl_->image_size;
    std::vector<float> pixels(images.size() * 3 * size * size);
    for (size_t i = 0; i < images.size(); i++) {
        RGBImage square = resize_shortest_side_and_centre_crop(*images[i], size, size);
        float *target = &pixels[i * 3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < size * size; p++)
                target[c * size * size + p] = (square.pixels[p * 3 + c] / 255.0f - kMean[c]) / kStd[c];
    }
    embed_pixels(pixels.data(), static_cast<int>(images.size()), vectors);
}

void ClipModel::embed_ids(const std::vector<std::vector<int32_t>> &rows, float *vectors) {
    torch::InferenceMode inference;
    int64_t count = static_cast<int64_t>(rows.size()), longest = 1;
    for (const auto &row : rows) longest = std::max<int64_t>(longest, static_cast<int64_t>(row.size()));
    if (longest > impl_->context_length)
        throw InputError("a text has " + std::to_string(longest) + " tokens, more than CLIP's " +
                         std::to_string(impl_->context_length) + " positions.");
    auto ids = torch::zeros({count, longest}, torch::kInt64);
    auto mask = torch::zeros({count, longest}, torch::kInt64);
    for (int64_t r = 0; r < count; r++)
        for (size_t t = 0; t < rows[r].size(); t++) {
            if (rows[r][t] < 0 || rows[r][t] >= impl_->vocab_size) throw InputError("a token id is outside CLIP's vocabulary.");
            ids[r][t] = rows[r][t];
            mask[r][t] = 1;
        }
    auto device = impl_->placement.device;
    auto pooled = impl_->model->text_model(ids.to(device), mask.to(device), impl_->placement.dtype);
    auto out = normalise(impl_->model->text_projection(pooled)).to(torch::kCPU).contiguous();
    std::memcpy(vectors, out.data_ptr<float>(), sizeof(float) * out.numel());
}

}  // namespace photovault
