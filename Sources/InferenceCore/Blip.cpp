#include "Blip.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "ImageResize.h"
#include "ModelConfig.h"
#include "TorchSupport.h"

namespace photovault {

namespace {

namespace nn = torch::nn;

torch::nn::LayerNorm layer_norm(int size, double eps) { return nn::LayerNorm(nn::LayerNormOptions({size}).eps(eps)); }

// MARK: Vision (ViT with a fused qkv projection)

struct VisionConfig {
    int hidden_size, intermediate_size, layers, heads, image_size, patch_size;
    double eps;
    explicit VisionConfig(const ModelConfig &c)
        : hidden_size(c.integer("hidden_size", 768)), intermediate_size(c.integer("intermediate_size", 3072)),
          layers(c.integer("num_hidden_layers", 12)), heads(c.integer("num_attention_heads", 12)),
          image_size(c.integer("image_size", 384)), patch_size(c.integer("patch_size", 16)), eps(c.number("layer_norm_eps", 1e-5)) {
        if (heads <= 0 || hidden_size % heads || patch_size <= 0 || image_size % patch_size)
            throw ModelError(c.path() + ": inconsistent vision sizes.");
    }
};

struct BlipAttentionImpl : nn::Module {
    nn::Linear qkv{nullptr}, projection{nullptr};
    int heads, head_size;
    explicit BlipAttentionImpl(const VisionConfig &c) : heads(c.heads), head_size(c.hidden_size / c.heads) {
        qkv = register_module("qkv", nn::Linear(c.hidden_size, 3 * c.hidden_size));
        projection = register_module("projection", nn::Linear(c.hidden_size, c.hidden_size));
    }
    torch::Tensor forward(const torch::Tensor &x) {
        auto mixed = qkv(x).reshape({x.size(0), x.size(1), 3, heads, head_size}).permute({2, 0, 3, 1, 4});
        auto scores = torch::matmul(mixed[0], mixed[1].transpose(-1, -2)) * std::pow(head_size, -0.5);
        auto context = torch::matmul(torch::softmax(scores, -1), mixed[2]).permute({0, 2, 1, 3});
        return projection(context.reshape({x.size(0), x.size(1), heads * head_size}));
    }
};
TORCH_MODULE(BlipAttention);

struct BlipMLPImpl : nn::Module {
    nn::Linear fc1{nullptr}, fc2{nullptr};
    explicit BlipMLPImpl(const VisionConfig &c) {
        fc1 = register_module("fc1", nn::Linear(c.hidden_size, c.intermediate_size));
        fc2 = register_module("fc2", nn::Linear(c.intermediate_size, c.hidden_size));
    }
    torch::Tensor forward(const torch::Tensor &x) { return fc2(torch::gelu(fc1(x))); }
};
TORCH_MODULE(BlipMLP);

struct BlipEncoderLayerImpl : nn::Module {
    BlipAttention self_attn{nullptr};
    nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
    BlipMLP mlp{nullptr};
    explicit BlipEncoderLayerImpl(const VisionConfig &c) {
        self_attn = register_module("self_attn", BlipAttention(c));
        layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden_size, c.eps));
        mlp = register_module("mlp", BlipMLP(c));
        layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden_size, c.eps));
    }
    torch::Tensor forward(torch::Tensor x) {
        x = x + self_attn(layer_norm1(x));
        return x + mlp(layer_norm2(x));
    }
};
TORCH_MODULE(BlipEncoderLayer);

struct BlipVisionEmbeddingsImpl : nn::Module {
    torch::Tensor class_embedding, position_embedding;
    nn::Conv2d patch_embedding{nullptr};
    explicit BlipVisionEmbeddingsImpl(const VisionConfig &c) {
        int positions = (c.image_size / c.patch_size) * (c.image_size / c.patch_size) + 1;
        class_embedding = register_parameter("class_embedding", torch::zeros({1, 1, c.hidden_size}));
        patch_embedding = register_module(
            "patch_embedding", nn::Conv2d(nn::Conv2dOptions(3, c.hidden_size, c.patch_size).stride(c.patch_size)));
        position_embedding = register_parameter("position_embedding", torch::zeros({1, positions, c.hidden_size}));
    }
    torch::Tensor forward(const torch::Tensor &pixels) {
        auto patches = patch_embedding(pixels).flatten(2).transpose(1, 2);
        auto x = torch::cat({class_embedding.expand({pixels.size(0), 1, -1}), patches}, 1);
        return x + position_embedding.narrow(1, 0, x.size(1));
    }
};
TORCH_MODULE(BlipVisionEmbeddings);

struct BlipVisionModelImpl : nn::Module {
    BlipVisionEmbeddings embeddings{nullptr};
    nn::ModuleList layers;
    nn::LayerNorm post_layernorm{nullptr};
    explicit BlipVisionModelImpl(const VisionConfig &c) {
        embeddings = register_module("embeddings", BlipVisionEmbeddings(c));
        for (int i = 0; i < c.layers; i++) layers->push_back(BlipEncoderLayer(c));
        // The checkpoint nests the layers under "encoder".
        auto encoder = std::make_shared<nn::Module>();
        encoder->register_module("layers", layers);
        register_module("encoder", encoder);
        post_layernorm = register_module("post_layernorm", layer_norm(c.hidden_size, c.eps));
    }
    torch::Tensor forward(const torch::Tensor &pixels) {
        auto x = embeddings(pixels);
        for (auto &layer : *layers) x = layer->as<BlipEncoderLayerImpl>()->forward(x);
        return post_layernorm(x);
    }
};
TORCH_MODULE(BlipVisionModel);

// MARK: Text decoder (BERT with cross-attention and an LM head)

struct TextConfig {
    int vocab_size, hidden_size, intermediate_size, layers, heads, max_positions, encoder_hidden_size;
    int bos_token_id, sep_token_id, pad_token_id;
    double eps;
    TextConfig(const ModelConfig &c, int vision_hidden)
        : vocab_size(c.integer("vocab_size", 30524)), hidden_size(c.integer("hidden_size", 768)),
          intermediate_size(c.integer("intermediate_size", 3072)), layers(c.integer("num_hidden_layers", 12)),
          heads(c.integer("num_attention_heads", 12)), max_positions(c.integer("max_position_embeddings", 512)),
          encoder_hidden_size(c.integer("encoder_hidden_size", vision_hidden)), bos_token_id(c.integer("bos_token_id", 30522)),
          sep_token_id(c.integer("sep_token_id", 102)), pad_token_id(c.integer("pad_token_id", 0)),
          eps(c.number("layer_norm_eps", 1e-12)) {
        if (heads <= 0 || hidden_size % heads) throw ModelError(c.path() + ": hidden_size is not a multiple of num_attention_heads.");
    }
};

struct TextSelfAttentionImpl : nn::Module {
    nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
    int heads, head_size;
    TextSelfAttentionImpl(const TextConfig &c, int key_size) : heads(c.heads), head_size(c.hidden_size / c.heads) {
        query = register_module("query", nn::Linear(c.hidden_size, c.hidden_size));
        key = register_module("key", nn::Linear(key_size, c.hidden_size));
        value = register_module("value", nn::Linear(key_size, c.hidden_size));
    }
    torch::Tensor split(const torch::Tensor &x) { return x.view({x.size(0), x.size(1), heads, head_size}).transpose(1, 2); }
    /// Attention of `x` over precomputed keys and values (heads split), with an additive mask.
    torch::Tensor attend(const torch::Tensor &x, const torch::Tensor &k, const torch::Tensor &v, const torch::Tensor &mask) {
        auto scores = torch::matmul(split(query(x)), k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_size));
        if (mask.defined()) scores = scores + mask;
        auto context = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).contiguous();
        return context.view({x.size(0), x.size(1), heads * head_size});
    }
};
TORCH_MODULE(TextSelfAttention);

struct TextResidualImpl : nn::Module {
    nn::Linear dense{nullptr};
    nn::LayerNorm LayerNorm{nullptr};
    TextResidualImpl(int in, int out, double eps) {
        dense = register_module("dense", nn::Linear(in, out));
        LayerNorm = register_module("LayerNorm", layer_norm(out, eps));
    }
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &residual) { return LayerNorm(dense(x) + residual); }
};
TORCH_MODULE(TextResidual);

struct TextAttentionImpl : nn::Module {
    TextSelfAttention self{nullptr};
    TextResidual output{nullptr};
    TextAttentionImpl(const TextConfig &c, int key_size) {
        self = register_module("self", TextSelfAttention(c, key_size));
        output = register_module("output", TextResidual(c.hidden_size, c.hidden_size, c.eps));
    }
};
TORCH_MODULE(TextAttention);

struct TextLayerImpl : nn::Module {
    TextAttention attention{nullptr}, crossattention{nullptr};
    nn::Linear intermediate_dense{nullptr};
    TextResidual output{nullptr};
    explicit TextLayerImpl(const TextConfig &c) {
        attention = register_module("attention", TextAttention(c, c.hidden_size));
        crossattention = register_module("crossattention", TextAttention(c, c.encoder_hidden_size));
        auto intermediate = std::make_shared<nn::Module>();
        intermediate_dense = intermediate->register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size));
        register_module("intermediate", intermediate);
        output = register_module("output", TextResidual(c.intermediate_size, c.hidden_size, c.eps));
    }
    /// One new position per row: its keys and values join `cache` (the earlier positions'), so
    /// attention over the cache is the causal attention of the full sequence.
    torch::Tensor step(const torch::Tensor &x, std::pair<torch::Tensor, torch::Tensor> &cache, const torch::Tensor &image_k,
                       const torch::Tensor &image_v) {
        auto self_attention = attention->self;
        auto k = self_attention->split(self_attention->key(x)), v = self_attention->split(self_attention->value(x));
        cache.first = cache.first.defined() ? torch::cat({cache.first, k}, 2) : k;
        cache.second = cache.second.defined() ? torch::cat({cache.second, v}, 2) : v;
        auto attended = attention->output(self_attention->attend(x, cache.first, cache.second, torch::Tensor()), x);
        auto crossed = crossattention->output(crossattention->self->attend(attended, image_k, image_v, torch::Tensor()), attended);
        return output(torch::gelu(intermediate_dense(crossed)), crossed);
    }
};
TORCH_MODULE(TextLayer);

struct TextEmbeddingsImpl : nn::Module {
    nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr};
    nn::LayerNorm LayerNorm{nullptr};
    explicit TextEmbeddingsImpl(const TextConfig &c) {
        word_embeddings = register_module("word_embeddings", nn::Embedding(c.vocab_size, c.hidden_size));
        position_embeddings = register_module("position_embeddings", nn::Embedding(c.max_positions, c.hidden_size));
        LayerNorm = register_module("LayerNorm", layer_norm(c.hidden_size, c.eps));
    }
    /// Embeddings of one token per row, all at `position`.
    torch::Tensor forward(const torch::Tensor &ids, int64_t position) {
        return LayerNorm(word_embeddings(ids) + position_embeddings(torch::full({1, 1}, position, ids.options())));
    }
};
TORCH_MODULE(TextEmbeddings);

struct TextDecoderImpl : nn::Module {
    TextEmbeddings embeddings{nullptr};
    nn::ModuleList layer;
    nn::Linear transform_dense{nullptr}, decoder{nullptr};
    nn::LayerNorm transform_norm{nullptr};
    torch::Tensor bias;

    explicit TextDecoderImpl(const TextConfig &c) {
        // Names as in the checkpoint: text_decoder.bert.{embeddings,encoder.layer.N}, text_decoder.cls.predictions.*.
        auto bert = std::make_shared<nn::Module>();
        embeddings = bert->register_module("embeddings", TextEmbeddings(c));
        for (int i = 0; i < c.layers; i++) layer->push_back(TextLayer(c));
        auto encoder = std::make_shared<nn::Module>();
        encoder->register_module("layer", layer);
        bert->register_module("encoder", encoder);
        register_module("bert", bert);
        auto cls = std::make_shared<nn::Module>();
        auto predictions = std::make_shared<nn::Module>();
        auto transform = std::make_shared<nn::Module>();
        transform_dense = transform->register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
        transform_norm = transform->register_module("LayerNorm", layer_norm(c.hidden_size, c.eps));
        predictions->register_module("transform", transform);
        decoder = predictions->register_module("decoder", nn::Linear(nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
        bias = predictions->register_parameter("bias", torch::zeros({c.vocab_size}));
        cls->register_module("predictions", predictions);
        register_module("cls", cls);
    }

    /// Logits after one more token per row (`ids`: rows × 1) at `position`, extending `caches`.
    torch::Tensor step(const torch::Tensor &ids, int64_t position, std::vector<std::pair<torch::Tensor, torch::Tensor>> &caches,
                       const std::vector<std::pair<torch::Tensor, torch::Tensor>> &image_kv) {
        auto x = embeddings(ids, position);
        for (size_t i = 0; i < layer->size(); i++)
            x = layer[i]->as<TextLayerImpl>()->step(x, caches[i], image_kv[i].first, image_kv[i].second);
        auto last = x.select(1, 0);
        return decoder(transform_norm(torch::gelu(transform_dense(last)))) + bias;
    }
};
TORCH_MODULE(TextDecoder);

struct BlipModuleImpl : nn::Module {
    BlipVisionModel vision_model{nullptr};
    TextDecoder text_decoder{nullptr};
    BlipModuleImpl(const VisionConfig &vision, const TextConfig &text) {
        vision_model = register_module("vision_model", BlipVisionModel(vision));
        text_decoder = register_module("text_decoder", TextDecoder(text));
    }
};
TORCH_MODULE(BlipModule);

/// One finished hypothesis of the beam search.
struct Hypothesis {
    double score;
    std::vector<int64_t> ids;
};

/// transformers' BeamHypotheses: the best `beams` finished sequences, length-normalised.
struct FinishedBeams {
    int beams;
    double length_penalty;
    std::vector<Hypothesis> list;
    double worst = 1e9;

    void add(const std::vector<int64_t> &ids, double sum_logprobs, int generated_length) {
        double score = sum_logprobs / std::pow(static_cast<double>(generated_length), length_penalty);
        if (static_cast<int>(list.size()) < beams || score > worst) {
            list.push_back({score, ids});
            if (static_cast<int>(list.size()) > beams) {
                auto weakest = std::min_element(list.begin(), list.end(), [](auto &a, auto &b) { return a.score < b.score; });
                list.erase(weakest);
                worst = std::min_element(list.begin(), list.end(), [](auto &a, auto &b) { return a.score < b.score; })->score;
            } else {
                worst = std::min(score, worst);
            }
        }
    }

    bool done(double best_sum_logprobs, int generated_length) const {
        if (static_cast<int>(list.size()) < beams) return false;
        return worst >= best_sum_logprobs / std::pow(static_cast<double>(generated_length), length_penalty);
    }
};

const float kMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
const float kStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};

}  // namespace

struct BlipCaptioner::Impl {
    Placement placement;
    VisionConfig vision;
    TextConfig text;
    BlipModule model{nullptr};
    std::vector<std::string> vocab;
    std::unique_ptr<WordPiece> tokenizer;
};

BlipCaptioner::BlipCaptioner(const std::string &folder, const std::string &device) {
    ModelConfig config(folder + "/config.json", "blip");
    VisionConfig vision(config.section("vision_config"));
    TextConfig text(config.section("text_config"), vision.hidden_size);
    impl_ = std::make_unique<Impl>(Impl{choose_placement(device), vision, text, BlipModule(vision, text), {}, nullptr});
    impl_->tokenizer = std::make_unique<WordPiece>(folder + "/vocab.txt", true);
    std::ifstream vocab_file(folder + "/vocab.txt");
    for (std::string line; std::getline(vocab_file, line);) impl_->vocab.push_back(line);
    SafetensorsFile weights(folder + "/model.safetensors");
    // Checkpoints that tie the output layer to the word embeddings store the matrix once.
    load_parameters(*impl_->model, weights, {""},
                    {{"text_decoder.cls.predictions.decoder.weight", "text_decoder.bert.embeddings.word_embeddings.weight"}});
    impl_->model->eval();
    impl_->model->to(impl_->placement.device, impl_->placement.dtype);
}

BlipCaptioner::~BlipCaptioner() = default;

std::string BlipCaptioner::device() const { return impl_->placement.device_name(); }
std::string BlipCaptioner::dtype() const { return impl_->placement.dtype_name(); }
int BlipCaptioner::image_size() const { return impl_->vision.image_size; }

std::vector<int64_t> BlipCaptioner::prompt_ids(const std::string &prompt) const {
    auto ids = impl_->tokenizer->encode(prompt, 512);
    return std::vector<int64_t>(ids.begin() + 1, ids.end() - 1);
}

std::vector<int64_t> BlipCaptioner::generate(const RGBImage &image, const std::string &prompt, const CaptionSettings &settings) {
    int size = impl_->vision.image_size;
    // BlipImageProcessor: a plain bicubic resize to size × size (no crop), CLIP mean and std.
    RGBImage resized = resize_bicubic(image, size, size);
    std::vector<float> pixels(3 * size * size);
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < size * size; p++) pixels[c * size * size + p] = (resized.pixels[p * 3 + c] / 255.0f - kMean[c]) / kStd[c];
    return generate(pixels.data(), prompt_ids(prompt), settings);
}

std::vector<int64_t> BlipCaptioner::generate(const float *pixels, const std::vector<int64_t> &prompt, const CaptionSettings &settings) {
    torch::InferenceMode inference;
    auto &p = impl_->placement;
    int size = impl_->vision.image_size, beams = std::max(1, settings.num_beams);
    auto input = torch::from_blob(const_cast<float *>(pixels), {1, 3, size, size}, torch::kFloat32).to(p.device, p.dtype);
    auto image_states = impl_->model->vision_model(input);
    // Cross-attention keys and values depend on the image only: computed once, shared by every step.
    std::vector<std::pair<torch::Tensor, torch::Tensor>> image_kv;
    auto &decoder = impl_->model->text_decoder;
    for (size_t i = 0; i < decoder->layer->size(); i++) {
        auto cross = decoder->layer[i]->as<TextLayerImpl>()->crossattention->self;
        image_kv.emplace_back(cross->split(cross->key(image_states)).expand({beams, -1, -1, -1}),
                              cross->split(cross->value(image_states)).expand({beams, -1, -1, -1}));
    }

    std::vector<std::vector<int64_t>> sequences(beams, std::vector<int64_t>{impl_->text.bos_token_id});
    for (auto &sequence : sequences) sequence.insert(sequence.end(), prompt.begin(), prompt.end());
    const int prompt_length = static_cast<int>(sequences[0].size());
    if (prompt_length >= settings.max_length) throw InputError("the caption prompt is longer than the caption limit.");
    std::vector<double> beam_scores(beams, -1e9);
    beam_scores[0] = 0;
    FinishedBeams finished{beams, settings.length_penalty};
    const int64_t eos = impl_->text.sep_token_id, vocab = impl_->text.vocab_size;
    bool done = false;

    // The start token and the prompt fill the self-attention caches one position at a time.
    std::vector<std::pair<torch::Tensor, torch::Tensor>> caches(decoder->layer->size());
    auto feed = [&](const std::vector<int64_t> &tokens, int64_t position) {
        auto ids = torch::from_blob(const_cast<int64_t *>(tokens.data()), {beams, 1}, torch::kInt64).to(p.device);
        return decoder->step(ids, position, caches, image_kv).to(torch::kFloat32).to(torch::kCPU);
    };
    torch::Tensor logits;
    for (int position = 0; position < prompt_length; position++)
        logits = feed(std::vector<int64_t>(beams, sequences[0][position]), position);

    while (true) {
        int current = static_cast<int>(sequences[0].size());
        auto scores = torch::log_softmax(logits, -1).contiguous();
        auto *s = scores.data_ptr<float>();
        for (int b = 0; b < beams; b++) {
            float *row = s + b * vocab;
            // Repetition penalty on log-probabilities, once per distinct earlier token.
            if (settings.repetition_penalty != 1.0f) {
                std::vector<int64_t> seen = sequences[b];
                std::sort(seen.begin(), seen.end());
                seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
                for (int64_t token : seen) {
                    float &value = row[token];
                    value = value < 0 ? value * settings.repetition_penalty : value / settings.repetition_penalty;
                }
            }
            if (current < settings.min_length) row[eos] = -std::numeric_limits<float>::infinity();
            for (int64_t t = 0; t < vocab; t++) row[t] = static_cast<float>(row[t] + beam_scores[b]);
        }
        auto top = torch::topk(scores.view({1, beams * vocab}), 2 * beams, 1, true, true);
        auto top_scores = std::get<0>(top)[0].contiguous(), top_tokens = std::get<1>(top)[0].contiguous();

        std::vector<std::vector<int64_t>> next_sequences;
        std::vector<double> next_scores;
        std::vector<int64_t> sources, next_tokens;
        for (int rank = 0; rank < 2 * beams && static_cast<int>(next_sequences.size()) < beams; rank++) {
            int64_t flat = top_tokens[rank].item<int64_t>();
            int64_t beam = flat / vocab, token = flat % vocab;
            double score = top_scores[rank].item<float>();
            if (token == eos) {
                if (rank >= beams) continue;
                finished.add(sequences[beam], score, current + 1 - prompt_length);
            } else {
                next_sequences.push_back(sequences[beam]);
                next_sequences.back().push_back(token);
                next_scores.push_back(score);
                sources.push_back(beam);
                next_tokens.push_back(token);
            }
        }
        done = finished.done(top_scores.max().item<float>(), current + 1 - prompt_length);
        sequences = std::move(next_sequences);
        beam_scores = std::move(next_scores);
        if (done || static_cast<int>(sequences[0].size()) >= settings.max_length) break;
        // Each surviving beam continues from its source beam's cache.
        auto order = torch::tensor(sources, torch::kInt64).to(p.device);
        for (auto &cache : caches) cache = {cache.first.index_select(0, order), cache.second.index_select(0, order)};
        logits = feed(next_tokens, current);
    }
    if (!done)
        for (int b = 0; b < beams; b++)
            finished.add(sequences[b], beam_scores[b], static_cast<int>(sequences[b].size()) - prompt_length);
    // The best finished hypothesis; on equal scores the one added last, as transformers' sort-and-pop.
    const Hypothesis *best = &finished.list.front();
    for (const auto &hypothesis : finished.list)
        if (hypothesis.score >= best->score) best = &hypothesis;
    return best->ids;
}

std::string BlipCaptioner::decode(const std::vector<int64_t> &ids) const {
    std::string text;
    for (int64_t id : ids) {
        if (id < 0 || id >= static_cast<int64_t>(impl_->vocab.size())) continue;  // [DEC], [ENC]: added specials
        const std::string &token = impl_->vocab[id];
        // The tokenizer's special tokens (not the [unusedN] ones, which decode as they are).
        if (token == "[CLS]" || token == "[SEP]" || token == "[PAD]" || token == "[UNK]" || token == "[MASK]") continue;
        if (token.rfind("##", 0) == 0) text += token.substr(2);
        else text += (text.empty() ? "" : " ") + token;
    }
    // clean_up_tokenization_spaces, as transformers does by default.
    const std::pair<const char *, const char *> fixes[] = {{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
                                                          {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (auto [from, to] : fixes)
        for (size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, std::strlen(from), to);
    return text;
}

}  // namespace photovault
