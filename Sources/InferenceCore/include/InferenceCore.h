/// The C API of PhotoVault's native inference core (libtorch models, dlib faces, tokenizers,
/// image decoding). Plain C types only: no C++ type, template or exception crosses it, so the
/// Swift side never sees libtorch and a libtorch upgrade touches this target alone.
///
/// Conventions: functions that can fail return a status (PV_OK or a PV_ERROR_* kind) and, on
/// failure, write one sentence into `error` (at most `error_capacity` bytes, NUL-terminated).
/// Handles are not safe for concurrent use; the caller serialises calls per handle.
#ifndef PHOTOVAULT_INFERENCE_CORE_H
#define PHOTOVAULT_INFERENCE_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a call.
typedef enum {
    PV_OK = 0,
    /// The caller's input is unusable (not an image, too large, empty text …).
    PV_ERROR_INVALID_INPUT = 1,
    /// A model folder is unusable (missing file or tensor, wrong shape, other architecture …).
    PV_ERROR_MODEL = 2,
    /// Anything else (out of memory, a libtorch failure).
    PV_ERROR_INTERNAL = 3,
} pv_status;

// MARK: Runtime

/// Sets libtorch's intra-op threads; 0 or less means all cores.
void pv_set_threads(int threads);
/// The intra-op threads libtorch uses now.
int pv_threads(void);
/// 1 when libtorch sees a CUDA device.
int pv_cuda_available(void);

// MARK: Images

/// A decoded image: 8-bit RGB, row-major, no padding.
typedef struct pv_image pv_image;

/// Decodes JPEG, PNG or WebP bytes. Refuses images with more than `max_pixels` pixels before
/// decoding them (decompression bombs), and images without pixels.
pv_status pv_image_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, pv_image **image,
                          char *error, size_t error_capacity);
int pv_image_width(const pv_image *image);
int pv_image_height(const pv_image *image);
/// The RGB bytes, width × height × 3.
const uint8_t *pv_image_pixels(const pv_image *image);
void pv_image_free(pv_image *image);
/// CLIP's geometry with Pillow-exact bicubic resampling: the shortest side resized to `size`, then
/// the centre `crop` × `crop` square, written to `pixels` (crop × crop × 3 bytes).
pv_status pv_image_resize_and_crop(const pv_image *image, int size, int crop, uint8_t *pixels, char *error,
                                   size_t error_capacity);

// MARK: WordPiece tokenizer (BERT)

typedef struct pv_wordpiece pv_wordpiece;

/// Loads `vocab.txt`; `lower_case` also strips accents, as BERT uncased does.
pv_status pv_wordpiece_load(const char *vocab_path, int lower_case, pv_wordpiece **tokenizer, char *error,
                            size_t error_capacity);
/// Token ids of the UTF-8 `text` (`length` bytes, NULs allowed) with [CLS] … [SEP], truncated to
/// `max_length` ids. Writes at most `capacity` ids and returns how many there are (-1 on failure).
int pv_wordpiece_encode(const pv_wordpiece *tokenizer, const char *text, size_t length, int max_length, int32_t *ids,
                        int capacity);
void pv_wordpiece_free(pv_wordpiece *tokenizer);

// MARK: CLIP byte-level BPE tokenizer

typedef struct pv_clip_bpe pv_clip_bpe;

/// Loads `vocab.json` and `merges.txt`.
pv_status pv_clip_bpe_load(const char *vocab_path, const char *merges_path, pv_clip_bpe **tokenizer, char *error,
                           size_t error_capacity);
/// Token ids of the UTF-8 `text` with start and end tokens, truncated to `max_length` (77 for CLIP).
/// Writes at most `capacity` ids and returns how many there are (-1 on failure).
int pv_clip_bpe_encode(const pv_clip_bpe *tokenizer, const char *text, size_t length, int max_length, int32_t *ids,
                       int capacity);
void pv_clip_bpe_free(pv_clip_bpe *tokenizer);

// MARK: CLIP (image and text embeddings in one space)

typedef struct pv_clip_model pv_clip_model;

/// Loads a Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt).
pv_status pv_clip_model_load(const char *folder, const char *device, pv_clip_model **model, char *error,
                             size_t error_capacity);
int pv_clip_model_dim(const pv_clip_model *model);
int pv_clip_model_image_size(const pv_clip_model *model);
/// exp(logit_scale): the factor on cosine similarities before a softmax over labels.
float pv_clip_model_logit_scale(const pv_clip_model *model);
const char *pv_clip_model_device(const pv_clip_model *model);
const char *pv_clip_model_dtype(const pv_clip_model *model);
/// L2-normalised embeddings of `count` images (count × dim floats), preprocessed as the reference.
pv_status pv_clip_embed_images(pv_clip_model *model, const pv_image *const *images, int count, float *vectors,
                               char *error, size_t error_capacity);
/// The same from preprocessed pixels (count × 3 × size × size floats, normalised), for golden tests.
pv_status pv_clip_embed_pixels(pv_clip_model *model, const float *pixels, int count, float *vectors, char *error,
                               size_t error_capacity);
/// L2-normalised embeddings of `count` UTF-8 texts (`lengths[i]` bytes each).
pv_status pv_clip_embed_texts(pv_clip_model *model, const char *const *texts, const size_t *lengths, int count,
                              float *vectors, char *error, size_t error_capacity);
void pv_clip_model_free(pv_clip_model *model);

// MARK: Sentence embeddings (BERT, mean pooling, L2 normalisation)

typedef struct pv_text_model pv_text_model;

/// Loads a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt).
/// `device` is "auto" (CUDA with float16 when available), "cpu" or "cuda".
pv_status pv_text_model_load(const char *folder, const char *device, pv_text_model **model, char *error,
                             size_t error_capacity);
/// Length of the vectors (384 for all-MiniLM-L6-v2).
int pv_text_model_dim(const pv_text_model *model);
/// Longest input in tokens, [CLS] and [SEP] included.
int pv_text_model_max_tokens(const pv_text_model *model);
/// "cpu" or "cuda"; "float32" or "float16".
const char *pv_text_model_device(const pv_text_model *model);
const char *pv_text_model_dtype(const pv_text_model *model);
/// Embeds `count` UTF-8 texts (`lengths[i]` bytes each) as one padded batch into `vectors`
/// (count × dim floats, L2-normalised).
pv_status pv_text_model_embed(pv_text_model *model, const char *const *texts, const size_t *lengths, int count,
                              float *vectors, char *error, size_t error_capacity);
/// The forward pass on given token ids (count × length, 0-padded; `lengths` per row), for
/// golden tests: writes the pooled, normalised vectors and, when `hidden` is not NULL, the last
/// hidden states (count × length × hidden_size floats).
pv_status pv_text_model_embed_ids(pv_text_model *model, const int32_t *ids, const int32_t *lengths, int count,
                                  int length, float *vectors, float *hidden, char *error, size_t error_capacity);
void pv_text_model_free(pv_text_model *model);

// MARK: Captions (BLIP)

typedef struct pv_caption_model pv_caption_model;

/// Beam search settings.
typedef struct {
    int num_beams;
    /// Longest sequence in tokens, the start token and the prompt included.
    int max_length;
    int min_length;
    float repetition_penalty;
    float length_penalty;
} pv_caption_settings;

/// PhotoVault's defaults: 3 beams, at most 30 tokens, at least 5, repetition penalty 1.2.
pv_caption_settings pv_caption_default_settings(void);
/// Loads a BlipForConditionalGeneration folder (config.json, model.safetensors, vocab.txt).
pv_status pv_caption_model_load(const char *folder, const char *device, pv_caption_model **model, char *error,
                                size_t error_capacity);
const char *pv_caption_model_device(const pv_caption_model *model);
const char *pv_caption_model_dtype(const pv_caption_model *model);
/// Captions `image`, continuing the optional UTF-8 `prompt`; writes the text (NUL-terminated) to `text`.
pv_status pv_caption_generate(pv_caption_model *model, const pv_image *image, const char *prompt, size_t prompt_length,
                              pv_caption_settings settings, char *text, size_t text_capacity, char *error,
                              size_t error_capacity);
/// The same from preprocessed pixels (3 × size × size floats) and prompt token ids, for golden
/// tests: writes up to `capacity` token ids (start token and prompt first) and their count.
pv_status pv_caption_generate_ids(pv_caption_model *model, const float *pixels, const int64_t *prompt_ids,
                                  int prompt_count, pv_caption_settings settings, int64_t *ids, int capacity,
                                  int *count, char *error, size_t error_capacity);
void pv_caption_model_free(pv_caption_model *model);

// MARK: FaceNet (InceptionResnetV1, 512-d face descriptors)

typedef struct pv_facenet pv_facenet;

/// Loads model.safetensors (facenet-pytorch's state_dict keys) from `folder`.
pv_status pv_facenet_load(const char *folder, const char *device, pv_facenet **model, char *error,
                          size_t error_capacity);
/// Descriptors of `count` aligned 160 × 160 RGB faces (count × 160 × 160 × 3 bytes), prewhitened
/// as the reference; writes count × 512 L2-normalised floats.
pv_status pv_facenet_embed(pv_facenet *model, const uint8_t *faces, int count, float *vectors, char *error,
                           size_t error_capacity);
void pv_facenet_free(pv_facenet *model);

// MARK: Faces (dlib)

typedef struct pv_face_model pv_face_model;

/// One detected face, in pixels of the image.
typedef struct {
    float x, y, width, height;
    /// Left eye, right eye, nose, left and right mouth corner (as seen in the image), x then y.
    float landmarks[10];
    /// 0–1.
    float score;
    /// Variance of the Laplacian of the aligned 150 px grey chip.
    float blur_variance;
    /// L2-normalised identity descriptor.
    float descriptor[128];
} pv_face;

/// Loads dlib's 5-point shape predictor and ResNet descriptor (and, with `use_cnn`, the MMOD CNN
/// detector) from a folder holding face_recognition_models' .dat files. `upsample` (0–2) doubles
/// the image that many times before detection, to find faces smaller than about 80 px.
pv_status pv_face_model_load(const char *folder, int use_cnn, int upsample, pv_face_model **model, char *error,
                             size_t error_capacity);
/// Detects faces, largest first. Writes up to `capacity` faces and returns how many were found
/// (may exceed capacity), or -1 with `error` set.
int pv_face_detect(pv_face_model *model, const pv_image *image, pv_face *faces, int capacity, char *error,
                   size_t error_capacity);
/// "dlib_hog+resnet128" or "dlib_mmod+resnet128".
const char *pv_face_model_name(const pv_face_model *model);
void pv_face_model_free(pv_face_model *model);

#ifdef __cplusplus
}
#endif

#endif
