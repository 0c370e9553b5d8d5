#include "Bert.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ModelConfig.h"
#include "TorchSupport.h"

namespace photovault {

namespace {

/// The shape of a BERT model, from config.json.
struct BertConfig {
    int vocab_size, hidden_size, layers, heads, intermediate_size, max_positions, type_vocab_size;
    double layer_norm_eps;

    explicit BertConfig(const ModelConfig &config)
        : vocab_size(config.integer("vocab_size")), hidden_size(config.integer("hidden_size")),
          layers(config.integer("num_hidden_layers")), heads(config.integer("num_attention_heads")),
          intermediate_size(config.integer("intermediate_size")),
          max_positions(config.integer("max_position_embeddings")), type_vocab_size(config.integer("type_vocab_size", 2)),
          layer_norm_eps(config.number("layer_norm_eps", 1e-12)) {
        if (heads <= 0 || hidden_size % heads != 0)
            throw ModelError(config.path() + ": hidden_size " + std::to_string(hidden_size) +
                             " is not a multiple of num_attention_heads " + std::to_string(heads) + ".");
        std::string act = config.text("hidden_act", "gelu");
        if (act != "gelu") throw ModelError(config.path() + ": hidden_act '" + act + "' is not supported (gelu).");
    }
};

torch::nn::LayerNorm layer_norm(int size, double eps) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({size}).eps(eps));
}

struct BertEmbeddingsImpl : torch::nn::Module {
    torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
    torch::nn::LayerNorm LayerNorm{nullptr};

    explicit BertEmbeddingsImpl(const BertConfig &c) {
        word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
        position_embeddings = register_module("position_embeddings", torch::nn::Embedding(c.max_positions, c.hidden_size));
        token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
        LayerNorm = register_module("LayerNorm", layer_norm(c.hidden_size, c.layer_norm_eps));
    }

    torch::Tensor forward(const torch::Tensor &ids) {
        auto positions = torch::arange(ids.size(1), ids.options()).unsqueeze(0);
        auto types = torch::zeros_like(ids);
        return LayerNorm(word_embeddings(ids) + position_embeddings(positions) + token_type_embeddings(types));
    }
};
TORCH_MODULE(BertEmbeddings);

struct BertSelfAttentionImpl : torch::nn::Module {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
    int heads, head_size;

    explicit BertSelfAttentionImpl(const BertConfig &c) : heads(c.heads), head_size(c.hidden_size / c.heads) {
        query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
        key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
        value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
    }

    torch::Tensor split(const torch::Tensor &x) {
        return x.view({x.size(0), x.size(1), heads, head_size}).transpose(1, 2);
    }

    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &additive_mask) {
        auto q = split(query(x)), k = split(key(x)), v = split(value(x));
        auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_size));
        auto probabilities = torch::softmax(scores + additive_mask, -1);
        auto context = torch::matmul(probabilities, v).transpose(1, 2).contiguous();
        return context.view({x.size(0), x.size(1), heads * head_size});
    }
};
TORCH_MODULE(BertSelfAttention);

/// A dense layer followed by a residual LayerNorm (BertSelfOutput and BertOutput).
struct BertResidualImpl : torch::nn::Module {
    torch::nn::Linear dense{nullptr};
    torch::nn::LayerNorm LayerNorm{nullptr};

    BertResidualImpl(int in, int out, double eps) {
        dense = register_module("dense", torch::nn::Linear(in, out));
        LayerNorm = register_module("LayerNorm", layer_norm(out, eps));
    }

    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &residual) { return LayerNorm(dense(x) + residual); }
};
TORCH_MODULE(BertResidual);

struct BertAttentionImpl : torch::nn::Module {
    BertSelfAttention self{nullptr};
    BertResidual output{nullptr};

    explicit BertAttentionImpl(const BertConfig &c) {
        self = register_module("self", BertSelfAttention(c));
        output = register_module("output", BertResidual(c.hidden_size, c.hidden_size, c.layer_norm_eps));
    }

    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &mask) { return output(self(x, mask), x); }
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module {
    torch::nn::Linear dense{nullptr};

    explicit BertIntermediateImpl(const BertConfig &c) {
        dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
    }

    torch::Tensor forward(const torch::Tensor &x) { return torch::gelu(dense(x)); }
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
    BertAttention attention{nullptr};
    BertIntermediate intermediate{nullptr};
    BertResidual output{nullptr};

    explicit BertLayerImpl(const BertConfig &c) {
        attention = register_module("attention", BertAttention(c));
        intermediate = register_module("intermediate", BertIntermediate(c));
        output = register_module("output", BertResidual(c.intermediate_size, c.hidden_size, c.layer_norm_eps));
    }

    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &mask) {
        auto attended = attention(x, mask);
        return output(intermediate(attended), attended);
    }
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : torch::nn::Module {
    torch::nn::ModuleList layer;

    explicit BertEncoderImpl(const BertConfig &c) {
        for (int i = 0; i < c.layers; i++) layer->push_back(BertLayer(c));
        register_module("layer", layer);
    }

    torch::Tensor forward(torch::Tensor x, const torch::Tensor &mask) {
        for (auto &module : *layer) x = module->as<BertLayerImpl>()->forward(x, mask);
        return x;
    }
};
TORCH_MODULE(BertEncoder);

/// BertModel without the pooler (sentence embeddings pool the last hidden states instead).
struct BertModelImpl : torch::nn::Module {
    BertEmbeddings embeddings{nullptr};
    BertEncoder encoder{nullptr};

    explicit BertModelImpl(const BertConfig &c) {
        embeddings = register_module("embeddings", BertEmbeddings(c));
        encoder = register_module("encoder", BertEncoder(c));
    }

    /// Last hidden states; `mask` is 1 for tokens and 0 for padding.
    torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &mask, torch::ScalarType dtype) {
        auto x = embeddings(ids);
        double lowest = dtype == torch::kFloat16 ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
        auto additive = ((1.0 - mask.to(dtype)) * lowest).unsqueeze(1).unsqueeze(2);
        return encoder(x, additive);
    }
};
TORCH_MODULE(BertModel);

int sentence_max_tokens(const std::string &folder, int fallback) {
    // sentence-transformers truncates at max_seq_length (256 for all-MiniLM-L6-v2), not at 512.
    std::ifstream file(folder + "/sentence_bert_config.json");
    if (!file) return fallback;
    try {
        auto json = nlohmann::json::parse(file);
        if (json.contains("max_seq_length") && json["max_seq_length"].is_number_integer())
            return std::min(fallback, json["max_seq_length"].get<int>());
    } catch (const nlohmann::json::exception &) {
        throw ModelError(folder + "/sentence_bert_config.json: not valid JSON.");
    }
    return fallback;
}

}  // namespace

struct SentenceEncoder::Impl {
    BertConfig config;
    WordPiece tokenizer;
    Placement placement;
    BertModel model{nullptr};
    int max_tokens;

    Impl(const ModelConfig &c, const std::string &folder, const std::string &device)
        : config(c), tokenizer(folder + "/vocab.txt", true), placement(choose_placement(device)),
          max_tokens(sentence_max_tokens(folder, config.max_positions)) {}
};

SentenceEncoder::SentenceEncoder(const std::string &folder, const std::string &device) {
    ModelConfig config(folder + "/config.json", "bert");
    impl_ = std::make_unique<Impl>(config, folder, device);
    SafetensorsFile weights(folder + "/model.safetensors");
    impl_->model = BertModel(impl_->config);
    load_parameters(*impl_->model, weights, {"", "bert."});
    impl_->model->eval();
    impl_->model->to(impl_->placement.device, impl_->placement.dtype);
}

SentenceEncoder::~SentenceEncoder() = default;

int SentenceEncoder::dim() const { return impl_->config.hidden_size; }
int SentenceEncoder::max_tokens() const { return impl_->max_tokens; }
std::string SentenceEncoder::device() const { return impl_->placement.device_name(); }
std::string SentenceEncoder::dtype() const { return impl_->placement.dtype_name(); }
const WordPiece &SentenceEncoder::tokenizer() const { return impl_->tokenizer; }

void SentenceEncoder::embed(const std::vector<std::vector<int32_t>> &rows, float *vectors, float *hidden) {
    torch::InferenceMode inference;
    int64_t count = static_cast<int64_t>(rows.size());
    int64_t longest = 1;
    for (const auto &row : rows) longest = std::max<int64_t>(longest, static_cast<int64_t>(row.size()));
    if (longest > impl_->config.max_positions)
        throw InputError("a text has " + std::to_string(longest) + " tokens, more than the model's " +
                         std::to_string(impl_->config.max_positions) + " positions.");
    auto ids = torch::full({count, longest}, impl_->tokenizer.pad_id(), torch::kInt64);
    auto mask = torch::zeros({count, longest}, torch::kInt64);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    for (int64_t r = 0; r < count; r++)
        for (size_t t = 0; t < rows[r].size(); t++) {
            int32_t id = rows[r][t];
            if (id < 0 || id >= impl_->config.vocab_size)
                throw InputError("token id " + std::to_string(id) + " is outside the vocabulary.");
            ids_a[r][t] = id;
            mask_a[r][t] = 1;
        }
    auto device = impl_->placement.device;
    auto states = impl_->model->forward(ids.to(device), mask.to(device), impl_->placement.dtype).to(torch::kFloat32);
    auto weights = mask.to(device).to(torch::kFloat32).unsqueeze(-1);
    auto pooled = (states * weights).sum(1) / weights.sum(1).clamp_min(1e-9);
    auto normalised = torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
    auto out = normalised.to(torch::kCPU).contiguous();
    std::memcpy(vectors, out.data_ptr<float>(), sizeof(float) * out.numel());
    if (hidden) {
        auto states_cpu = states.to(torch::kCPU).contiguous();
        std::memcpy(hidden, states_cpu.data_ptr<float>(), sizeof(float) * states_cpu.numel());
    }
}

}  // namespace photovault
