// The C API: every entry point catches everything, so no C++ exception reaches Swift, and turns
// it into a status and one sentence.
#include <cstring>
#include <new>
#include <string>

#include "Bert.h"
#include "Blip.h"
#include "Clip.h"
#include "ClipTokenizer.h"
#include "ImageResize.h"
#include "FaceNet.h"
#include "Faces.h"
#include "Image.h"
#include "InferenceCore.h"
#include "Safetensors.h"
#include "WordPiece.h"

struct pv_image {
    photovault::RGBImage image;
};
struct pv_wordpiece {
    photovault::WordPiece tokenizer;
};
struct pv_text_model {
    photovault::SentenceEncoder encoder;
    std::string device, dtype;
};
struct pv_clip_bpe {
    photovault::ClipTokenizer tokenizer;
};
struct pv_clip_model {
    photovault::ClipModel model;
    std::string device, dtype;
};
struct pv_caption_model {
    photovault::BlipCaptioner model;
    std::string device, dtype;
};
struct pv_facenet {
    photovault::FaceNet model;
};
struct pv_face_model {
    photovault::FaceAnalyzer analyzer;
    std::string name;
};

namespace {

void write_error(char *error, size_t capacity, const std::string &message) {
    if (!error || capacity == 0) return;
    size_t count = std::min(capacity - 1, message.size());
    std::memcpy(error, message.data(), count);
    error[count] = '\0';
}

/// Runs `body`, mapping exceptions to statuses: InputError → invalid input, ModelError → model,
/// anything else → internal.
template <typename Body> pv_status guarded(char *error, size_t capacity, Body &&body) {
    try {
        body();
        return PV_OK;
    } catch (const photovault::InputError &e) {
        write_error(error, capacity, e.what());
        return PV_ERROR_INVALID_INPUT;
    } catch (const photovault::ModelError &e) {
        write_error(error, capacity, e.what());
        return PV_ERROR_MODEL;
    } catch (const std::bad_alloc &) {
        write_error(error, capacity, "out of memory.");
        return PV_ERROR_INTERNAL;
    } catch (const std::exception &e) {
        write_error(error, capacity, std::string(e.what()).substr(0, 500));
        return PV_ERROR_INTERNAL;
    } catch (...) {
        write_error(error, capacity, "an unknown C++ exception.");
        return PV_ERROR_INTERNAL;
    }
}

}  // namespace

namespace {
photovault::CaptionSettings caption_settings(pv_caption_settings settings) {
    if (settings.num_beams < 1 || settings.num_beams > 16) throw photovault::InputError("num_beams must be 1 to 16.");
    if (settings.max_length < 2 || settings.max_length > 512) throw photovault::InputError("max_length must be 2 to 512.");
    return {settings.num_beams, settings.max_length, settings.min_length, settings.repetition_penalty, settings.length_penalty};
}
}  // namespace

extern "C" {

pv_status pv_image_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, pv_image **image, char *error,
                          size_t error_capacity) {
    *image = nullptr;
    return guarded(error, error_capacity,
                   [&] { *image = new pv_image{photovault::decode_image(bytes, length, max_pixels)}; });
}

int pv_image_width(const pv_image *image) { return image->image.width; }
int pv_image_height(const pv_image *image) { return image->image.height; }
const uint8_t *pv_image_pixels(const pv_image *image) { return image->image.pixels.data(); }
void pv_image_free(pv_image *image) { delete image; }

pv_status pv_image_resize_and_crop(const pv_image *image, int size, int crop, uint8_t *pixels, char *error,
                                   size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (size <= 0 || crop <= 0) throw photovault::InputError("size and crop must be positive.");
        auto out = photovault::resize_shortest_side_and_centre_crop(image->image, size, crop);
        std::memcpy(pixels, out.pixels.data(), out.pixels.size());
    });
}

pv_status pv_clip_bpe_load(const char *vocab_path, const char *merges_path, pv_clip_bpe **tokenizer, char *error,
                           size_t error_capacity) {
    *tokenizer = nullptr;
    return guarded(error, error_capacity,
                   [&] { *tokenizer = new pv_clip_bpe{photovault::ClipTokenizer(vocab_path, merges_path)}; });
}

int pv_clip_bpe_encode(const pv_clip_bpe *tokenizer, const char *text, size_t length, int max_length, int32_t *ids,
                       int capacity) {
    try {
        auto encoded = tokenizer->tokenizer.encode(std::string(text, length), max_length);
        int count = static_cast<int>(encoded.size());
        std::memcpy(ids, encoded.data(), sizeof(int32_t) * std::min(count, capacity));
        return count;
    } catch (...) {
        return -1;
    }
}

void pv_clip_bpe_free(pv_clip_bpe *tokenizer) { delete tokenizer; }

pv_status pv_clip_model_load(const char *folder, const char *device, pv_clip_model **model, char *error,
                             size_t error_capacity) {
    *model = nullptr;
    return guarded(error, error_capacity, [&] {
        *model = new pv_clip_model{photovault::ClipModel(folder, device ? device : "auto"), "", ""};
        (*model)->device = (*model)->model.device();
        (*model)->dtype = (*model)->model.dtype();
    });
}

int pv_clip_model_dim(const pv_clip_model *model) { return model->model.dim(); }
int pv_clip_model_image_size(const pv_clip_model *model) { return model->model.image_size(); }
float pv_clip_model_logit_scale(const pv_clip_model *model) { return model->model.logit_scale(); }
const char *pv_clip_model_device(const pv_clip_model *model) { return model->device.c_str(); }
const char *pv_clip_model_dtype(const pv_clip_model *model) { return model->dtype.c_str(); }

pv_status pv_clip_embed_images(pv_clip_model *model, const pv_image *const *images, int count, float *vectors,
                               char *error, size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0) throw photovault::InputError("no images to embed.");
        std::vector<const photovault::RGBImage *> list;
        for (int i = 0; i < count; i++) list.push_back(&images[i]->image);
        model->model.embed_images(list, vectors);
    });
}

pv_status pv_clip_embed_pixels(pv_clip_model *model, const float *pixels, int count, float *vectors, char *error,
                               size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0) throw photovault::InputError("no images to embed.");
        model->model.embed_pixels(pixels, count, vectors);
    });
}

pv_status pv_clip_embed_texts(pv_clip_model *model, const char *const *texts, const size_t *lengths, int count,
                              float *vectors, char *error, size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0) throw photovault::InputError("no texts to embed.");
        std::vector<std::vector<int32_t>> rows;
        for (int i = 0; i < count; i++)
            rows.push_back(model->model.tokenizer().encode(std::string(texts[i], lengths[i]), model->model.context_length()));
        model->model.embed_ids(rows, vectors);
    });
}

void pv_clip_model_free(pv_clip_model *model) { delete model; }

pv_status pv_wordpiece_load(const char *vocab_path, int lower_case, pv_wordpiece **tokenizer, char *error,
                            size_t error_capacity) {
    *tokenizer = nullptr;
    return guarded(error, error_capacity,
                   [&] { *tokenizer = new pv_wordpiece{photovault::WordPiece(vocab_path, lower_case != 0)}; });
}

int pv_wordpiece_encode(const pv_wordpiece *tokenizer, const char *text, size_t length, int max_length, int32_t *ids,
                        int capacity) {
    try {
        auto encoded = tokenizer->tokenizer.encode(std::string(text, length), max_length);
        int count = static_cast<int>(encoded.size());
        std::memcpy(ids, encoded.data(), sizeof(int32_t) * std::min(count, capacity));
        return count;
    } catch (...) {
        return -1;
    }
}

void pv_wordpiece_free(pv_wordpiece *tokenizer) { delete tokenizer; }

pv_status pv_text_model_load(const char *folder, const char *device, pv_text_model **model, char *error,
                             size_t error_capacity) {
    *model = nullptr;
    return guarded(error, error_capacity, [&] {
        *model = new pv_text_model{photovault::SentenceEncoder(folder, device ? device : "auto"), "", ""};
        (*model)->device = (*model)->encoder.device();
        (*model)->dtype = (*model)->encoder.dtype();
    });
}

int pv_text_model_dim(const pv_text_model *model) { return model->encoder.dim(); }
int pv_text_model_max_tokens(const pv_text_model *model) { return model->encoder.max_tokens(); }
const char *pv_text_model_device(const pv_text_model *model) { return model->device.c_str(); }
const char *pv_text_model_dtype(const pv_text_model *model) { return model->dtype.c_str(); }

pv_status pv_text_model_embed(pv_text_model *model, const char *const *texts, const size_t *lengths, int count,
                              float *vectors, char *error, size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0) throw photovault::InputError("no texts to embed.");
        std::vector<std::vector<int32_t>> rows;
        rows.reserve(count);
        for (int i = 0; i < count; i++)
            rows.push_back(model->encoder.tokenizer().encode(std::string(texts[i], lengths[i]), model->encoder.max_tokens()));
        model->encoder.embed(rows, vectors, nullptr);
    });
}

pv_status pv_text_model_embed_ids(pv_text_model *model, const int32_t *ids, const int32_t *lengths, int count,
                                  int length, float *vectors, float *hidden, char *error, size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0 || length <= 0) throw photovault::InputError("no token ids to embed.");
        std::vector<std::vector<int32_t>> rows;
        for (int i = 0; i < count; i++) {
            if (lengths[i] <= 0 || lengths[i] > length) throw photovault::InputError("a row length is out of range.");
            rows.emplace_back(ids + static_cast<size_t>(i) * length, ids + static_cast<size_t>(i) * length + lengths[i]);
        }
        // Rows shorter than `length` are padded to the longest row, which the caller made `length`.
        model->encoder.embed(rows, vectors, hidden);
    });
}

void pv_text_model_free(pv_text_model *model) { delete model; }


pv_caption_settings pv_caption_default_settings(void) {
    photovault::CaptionSettings defaults;
    return {defaults.num_beams, defaults.max_length, defaults.min_length, defaults.repetition_penalty, defaults.length_penalty};
}

pv_status pv_caption_model_load(const char *folder, const char *device, pv_caption_model **model, char *error,
                                size_t error_capacity) {
    *model = nullptr;
    return guarded(error, error_capacity, [&] {
        *model = new pv_caption_model{photovault::BlipCaptioner(folder, device ? device : "auto"), "", ""};
        (*model)->device = (*model)->model.device();
        (*model)->dtype = (*model)->model.dtype();
    });
}

const char *pv_caption_model_device(const pv_caption_model *model) { return model->device.c_str(); }
const char *pv_caption_model_dtype(const pv_caption_model *model) { return model->dtype.c_str(); }

pv_status pv_caption_generate(pv_caption_model *model, const pv_image *image, const char *prompt, size_t prompt_length,
                              pv_caption_settings settings, char *text, size_t text_capacity, char *error,
                              size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        auto ids = model->model.generate(image->image, std::string(prompt ? prompt : "", prompt ? prompt_length : 0),
                                         caption_settings(settings));
        write_error(text, text_capacity, model->model.decode(ids));
    });
}

pv_status pv_caption_generate_ids(pv_caption_model *model, const float *pixels, const int64_t *prompt_ids,
                                  int prompt_count, pv_caption_settings settings, int64_t *ids, int capacity,
                                  int *count, char *error, size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        auto out = model->model.generate(pixels, std::vector<int64_t>(prompt_ids, prompt_ids + prompt_count),
                                         caption_settings(settings));
        *count = static_cast<int>(out.size());
        std::memcpy(ids, out.data(), sizeof(int64_t) * std::min<size_t>(out.size(), capacity));
    });
}

void pv_caption_model_free(pv_caption_model *model) { delete model; }

pv_status pv_facenet_load(const char *folder, const char *device, pv_facenet **model, char *error,
                          size_t error_capacity) {
    *model = nullptr;
    return guarded(error, error_capacity,
                   [&] { *model = new pv_facenet{photovault::FaceNet(folder, device ? device : "auto")}; });
}

pv_status pv_facenet_embed(pv_facenet *model, const uint8_t *faces, int count, float *vectors, char *error,
                           size_t error_capacity) {
    return guarded(error, error_capacity, [&] {
        if (count <= 0) throw photovault::InputError("no faces to embed.");
        model->model.embed(faces, count, vectors);
    });
}

void pv_facenet_free(pv_facenet *model) { delete model; }

pv_status pv_face_model_load(const char *folder, int use_cnn, int upsample, pv_face_model **model, char *error,
                             size_t error_capacity) {
    *model = nullptr;
    return guarded(error, error_capacity, [&] {
        *model = new pv_face_model{photovault::FaceAnalyzer(folder, use_cnn != 0, upsample), ""};
        (*model)->name = (*model)->analyzer.name();
    });
}

int pv_face_detect(pv_face_model *model, const pv_image *image, pv_face *faces, int capacity, char *error,
                   size_t error_capacity) {
    int found = -1;
    pv_status status = guarded(error, error_capacity, [&] {
        auto detected = model->analyzer.detect(image->image);
        found = static_cast<int>(detected.size());
        for (int i = 0; i < std::min(found, capacity); i++) faces[i] = detected[i];
    });
    return status == PV_OK ? found : -1;
}

const char *pv_face_model_name(const pv_face_model *model) { return model->name.c_str(); }
void pv_face_model_free(pv_face_model *model) { delete model; }

}
