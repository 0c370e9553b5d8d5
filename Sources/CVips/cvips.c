#include "cvips.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <vips/vips.h>
#include <libexif/exif-data.h>

/* ---------------------------------------------------------------- errors */

/* libvips keeps one error buffer per process; copying and clearing in one call keeps the
 * window in which another thread's message can leak into ours as small as libvips allows. */
static void take_vips_error(char *error, size_t capacity, const char *fallback) {
    char *message = vips_error_buffer_copy();
    const char *text = (message != NULL && message[0] != '\0') ? message : fallback;
    if (error != NULL && capacity > 0) {
        snprintf(error, capacity, "%s", text);
    }
    g_free(message);
}

static void set_error(char *error, size_t capacity, const char *text) {
    if (error != NULL && capacity > 0) {
        snprintf(error, capacity, "%s", text);
    }
}

/* ---------------------------------------------------------------- start-up */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = CVIPS_OK;
static char init_error[CVIPS_ERROR_CAPACITY];

static void initialize_once(void) {
    if (vips_init("photovault") != 0) {
        init_status = CVIPS_E_FAILED;
        take_vips_error(init_error, sizeof init_error, "vips_init failed");
        return;
    }
    /* Every load reads through a custom source whose callbacks point into the caller's stack
     * frame; a cached operation would keep such a source alive past the call that owns it, and
     * caching whole uploads is useless to a server anyway. */
    vips_cache_set_max(0);
    /* Loaders libvips marks as unfit for untrusted input (matload, magick, ...) stay off. */
    vips_block_untrusted_set(TRUE);
}

int cvips_initialize(char *error, size_t error_capacity) {
    pthread_once(&init_once, initialize_once);
    if (init_status != CVIPS_OK) {
        set_error(error, error_capacity, init_error);
    }
    return init_status;
}

void cvips_free(void *pointer) {
    g_free(pointer);
}

static void *count_object(VipsObject *object, void *count, void *unused) {
    (void)object;
    (void)unused;
    (*(int64_t *)count)++;
    return NULL;
}

int64_t cvips_live_objects(void) {
    int64_t count = 0;
    vips_object_map((VipsSListMap2Fn)count_object, &count, NULL);
    return count;
}

/* ---------------------------------------------------------------- custom source */

typedef struct stream {
    cvips_reader reader;
    int64_t position;
    int failed;
} stream;

static gint64 on_read(VipsSourceCustom *source, void *buffer, gint64 length, gpointer data) {
    (void)source;
    stream *s = data;
    if (s->failed) {
        return -1;
    }
    if (length <= 0 || s->position >= s->reader.size) {
        return 0;
    }
    gint64 wanted = MIN(length, s->reader.size - s->position);
    int64_t got = s->reader.read_at(s->reader.context, s->position, buffer, wanted);
    if (got < 0 || got > wanted) {
        s->failed = 1;
        return -1;
    }
    s->position += got;
    return got;
}

static gint64 on_seek(VipsSourceCustom *source, gint64 offset, int whence, gpointer data) {
    (void)source;
    stream *s = data;
    gint64 base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = s->position; break;
    case SEEK_END: base = s->reader.size; break;
    default: return -1;
    }
    if ((offset > 0 && base > G_MAXINT64 - offset)) {
        return -1;
    }
    gint64 target = base + offset;
    if (target < 0) {
        return -1;
    }
    s->position = target;
    return target;
}

static VipsSource *source_new(stream *s) {
    VipsSourceCustom *custom = vips_source_custom_new();
    if (custom == NULL) {
        return NULL;
    }
    g_signal_connect(custom, "read", G_CALLBACK(on_read), s);
    g_signal_connect(custom, "seek", G_CALLBACK(on_seek), s);
    return VIPS_SOURCE(custom);
}

/* Disconnecting first guarantees no callback reaches `s` (a stack frame about to end) even if
 * something inside libvips still holds a reference to the source. */
static void source_free(VipsSource *source, stream *s) {
    if (source == NULL) {
        return;
    }
    g_signal_handlers_disconnect_by_data(source, s);
    g_object_unref(source);
}

static int failure_code(const stream *s, int otherwise) {
    return s->failed ? CVIPS_E_READ : otherwise;
}

/* ---------------------------------------------------------------- loaders */

static int loader_allowed(const char *name, const char *list) {
    if (name == NULL || list == NULL) {
        return 0;
    }
    for (const char *p = list; *p != '\0'; p += strlen(p) + 1) {
        if (strcmp(p, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Finds the loader libvips would use and checks it is one the caller expects, before any
 * loader has parsed more than its magic bytes. */
static int check_loader(VipsSource *source, stream *s, const char *expected, cvips_header *header,
                        char *error, size_t capacity) {
    const char *class_name = vips_foreign_find_load_source(source);
    if (class_name == NULL) {
        int code = failure_code(s, CVIPS_E_UNKNOWN_FORMAT);
        take_vips_error(error, capacity, "no loader recognises the data");
        return code;
    }
    const char *nickname = vips_nickname_find(g_type_from_name(class_name));
    snprintf(header->loader, sizeof header->loader, "%s", nickname != NULL ? nickname : class_name);
    if (!loader_allowed(header->loader, expected)) {
        snprintf(error, capacity, "libvips would load the data with %s", header->loader);
        return CVIPS_E_LOADER_MISMATCH;
    }
    return CVIPS_OK;
}

/* Header facts shared by probe and render; checks the pixel limit. */
static int read_header(VipsImage *image, int64_t max_pixels, cvips_header *header, char *error,
                       size_t capacity) {
    const char *loader = NULL;
    /* The image's own record of its loader must match what find_load_source named. */
    if (vips_image_get_typeof(image, VIPS_META_LOADER) != 0 &&
        vips_image_get_string(image, VIPS_META_LOADER, &loader) == 0 && loader != NULL &&
        strcmp(loader, header->loader) != 0) {
        snprintf(error, capacity, "libvips loaded the data with %s", loader);
        snprintf(header->loader, sizeof header->loader, "%s", loader);
        return CVIPS_E_LOADER_MISMATCH;
    }
    header->width = vips_image_get_width(image);
    header->height = vips_image_get_height(image);
    header->orientation = vips_image_get_orientation(image);
    if (header->orientation < 1 || header->orientation > 8) {
        header->orientation = 1;
    }
    if (max_pixels >= 0 && (int64_t)header->width * (int64_t)header->height > max_pixels) {
        snprintf(error, capacity, "%d x %d pixels", header->width, header->height);
        return CVIPS_E_TOO_MANY_PIXELS;
    }
    if (vips_image_get_typeof(image, VIPS_META_EXIF_NAME) != 0) {
        const void *blob = NULL;
        size_t length = 0;
        if (vips_image_get_blob(image, VIPS_META_EXIF_NAME, &blob, &length) == 0 && blob != NULL &&
            length > 0) {
            header->has_exif = 1;
            cvips_parse_exif(blob, length, &header->exif);
        }
    }
    return CVIPS_OK;
}

int cvips_probe(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                int decode_all_pixels, cvips_header *header, char *error, size_t error_capacity) {
    memset(header, 0, sizeof *header);
    if (error != NULL && error_capacity > 0) {
        error[0] = '\0';
    }
    if (cvips_initialize(error, error_capacity) != CVIPS_OK) {
        return CVIPS_E_FAILED;
    }
    stream s = { *reader, 0, 0 };
    VipsSource *source = source_new(&s);
    if (source == NULL) {
        take_vips_error(error, error_capacity, "could not create a libvips source");
        return CVIPS_E_FAILED;
    }
    VipsImage *image = NULL;
    int code = check_loader(source, &s, expected_loaders, header, error, error_capacity);
    if (code != CVIPS_OK) {
        goto done;
    }
    /* Header only: libvips decodes pixels lazily, so nothing large is allocated here. */
    image = vips_image_new_from_source(source, "",
        "access", decode_all_pixels ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
        "fail_on", decode_all_pixels ? VIPS_FAIL_ON_ERROR : VIPS_FAIL_ON_NONE,
        NULL);
    if (image == NULL) {
        code = failure_code(&s, CVIPS_E_UNDECODABLE);
        take_vips_error(error, error_capacity, "the header could not be read");
        goto done;
    }
    code = read_header(image, max_pixels, header, error, error_capacity);
    if (code != CVIPS_OK || !decode_all_pixels) {
        goto done;
    }
    /* vips_avg pulls every pixel through the sequential loader strip by strip, so memory stays
     * bounded by a few scanline buffers whatever the image size. */
    double average = 0;
    if (vips_avg(image, &average, NULL) != 0) {
        code = failure_code(&s, CVIPS_E_UNDECODABLE);
        take_vips_error(error, error_capacity, "the pixels could not be decoded");
        goto done;
    }
done:
    /* Some loaders treat a failed read as a truncated file and carry on; pixels from a source
     * that failed cannot be trusted, whatever libvips concluded. */
    if (code == CVIPS_OK && s.failed) {
        code = CVIPS_E_READ;
        set_error(error, error_capacity, "the source failed");
    }
    if (image != NULL) {
        g_object_unref(image);
    }
    source_free(source, &s);
    /* Errors libvips raised on paths that ended well must not surface in a later call. */
    if (code == CVIPS_OK) {
        vips_error_clear();
    }
    return code;
}

/* Replaces *image with `next` (which may be NULL on failure) and releases the old one. */
static int advance(VipsImage **image, VipsImage *next, int status) {
    if (status != 0) {
        return -1;
    }
    g_object_unref(*image);
    *image = next;
    return 0;
}

/* Probes the image behind `reader` (loader and size checks), then opens an upright thumbnail of it
 * at most (VIPS_SIZE_DOWN) or exactly (VIPS_SIZE_FORCE) `width` x `height`. On CVIPS_OK the caller
 * owns *source and *image and hands them to close_thumbnail. */
static int open_thumbnail(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                          int width, int height, VipsSize size, cvips_header *header, stream *s,
                          VipsSource **source, VipsImage **image, char *error, size_t error_capacity) {
    *source = NULL;
    *image = NULL;
    int code = cvips_probe(reader, expected_loaders, max_pixels, 0, header, error, error_capacity);
    if (code != CVIPS_OK) {
        return code;
    }
    /* A fresh source for the thumbnail: the probe's loader has already moved through the data. */
    *s = (stream){ *reader, 0, 0 };
    *source = source_new(s);
    if (*source == NULL) {
        take_vips_error(error, error_capacity, "could not create a libvips source");
        return CVIPS_E_FAILED;
    }
    /* vips_thumbnail shrinks on load where the format allows (JPEG, WebP, HEIF) and rotates
     * upright by the orientation tag unless told not to. */
    if (vips_thumbnail_source(*source, image, width, "height", height, "size", size, NULL) != 0) {
        take_vips_error(error, error_capacity, "the image could not be resized");
        return failure_code(s, CVIPS_E_UNDECODABLE);
    }
    return CVIPS_OK;
}

/* Converts *image to 8 bits per band when it is not already. */
static int cast_to_uchar(VipsImage **image, const stream *s, char *error, size_t error_capacity) {
    if (vips_image_get_format(*image) == VIPS_FORMAT_UCHAR) {
        return CVIPS_OK;
    }
    VipsImage *next = NULL;
    int status = vips_cast_uchar(*image, &next, NULL);
    if (advance(image, next, status) != 0) {
        take_vips_error(error, error_capacity, "conversion to 8 bits failed");
        return failure_code(s, CVIPS_E_FAILED);
    }
    return CVIPS_OK;
}

/* Releases what open_thumbnail gave; a source that failed under libvips turns success into
 * CVIPS_E_READ. Returns the final code. */
static int close_thumbnail(int code, stream *s, VipsSource *source, VipsImage *image, char *error, size_t error_capacity) {
    if (code == CVIPS_OK && s->failed) {
        code = CVIPS_E_READ;
        set_error(error, error_capacity, "the source failed");
    }
    if (image != NULL) {
        g_object_unref(image);
    }
    if (source != NULL) {
        source_free(source, s);
    }
    if (code == CVIPS_OK) {
        vips_error_clear();
    }
    return code;
}

int cvips_render(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                 int longest_side, int encoding, int quality, cvips_header *header,
                 cvips_rendition *rendition, char *error, size_t error_capacity) {
    memset(header, 0, sizeof *header);
    memset(rendition, 0, sizeof *rendition);
    if (error != NULL && error_capacity > 0) {
        error[0] = '\0';
    }
    if (longest_side < 1 || longest_side > 10000000 || quality < 1 || quality > 100 ||
        (encoding != CVIPS_ENCODE_JPEG && encoding != CVIPS_ENCODE_WEBP)) {
        set_error(error, error_capacity, "invalid rendition parameters");
        return CVIPS_E_FAILED;
    }
    stream s = { *reader, 0, 0 };
    VipsSource *source = NULL;
    VipsImage *image = NULL;
    void *buffer = NULL;
    size_t length = 0;
    int code = open_thumbnail(reader, expected_loaders, max_pixels, longest_side, longest_side, VIPS_SIZE_DOWN,
                              header, &s, &source, &image, error, error_capacity);
    if (code != CVIPS_OK) {
        goto done;
    }
    VipsImage *next = NULL;
    /* thumbnail converts images with profiles (and CMYK) to sRGB; this covers the rest, such as
     * greyscale, 16-bit or profile-less Lab/scRGB TIFFs. */
    if (vips_image_guess_interpretation(image) != VIPS_INTERPRETATION_sRGB) {
        int status = vips_colourspace(image, &next, VIPS_INTERPRETATION_sRGB, NULL);
        if (advance(&image, next, status) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "conversion to sRGB failed");
            goto done;
        }
    }
    if ((code = cast_to_uchar(&image, &s, error, error_capacity)) != CVIPS_OK) {
        goto done;
    }
    /* The saver's strip option is not enough: libvips 8.14's webpsave still writes the EXIF
     * (camera, GPS) it finds attached to the image. A copy with every metadata field removed
     * cannot leak anything, whatever the saver does. */
    {
        int status = vips_copy(image, &next, NULL);
        if (advance(&image, next, status) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "copying the image failed");
            goto done;
        }
        gchar **fields = vips_image_get_fields(image);
        for (gchar **field = fields; field != NULL && *field != NULL; field++) {
            /* Built-in header fields (width, bands, ...) are not in the metadata table; removing
             * them is a no-op. */
            vips_image_remove(image, *field);
        }
        g_strfreev(fields);
    }
    if (encoding == CVIPS_ENCODE_JPEG) {
        /* JPEG has no alpha: transparent areas become white rather than black. */
        if (vips_image_hasalpha(image)) {
            VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
            int status = vips_flatten(image, &next, "background", white, NULL);
            vips_area_unref(VIPS_AREA(white));
            if (advance(&image, next, status) != 0) {
                code = failure_code(&s, CVIPS_E_FAILED);
                take_vips_error(error, error_capacity, "flattening the alpha channel failed");
                goto done;
            }
        }
        if (vips_jpegsave_buffer(image, &buffer, &length,
                                 "Q", quality,
                                 "strip", TRUE,
                                 "optimize_coding", TRUE,
                                 NULL) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "JPEG encoding failed");
            goto done;
        }
    } else {
        if (vips_webpsave_buffer(image, &buffer, &length,
                                 "Q", quality,
                                 "strip", TRUE,
                                 NULL) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "WebP encoding failed");
            goto done;
        }
    }
    rendition->bytes = buffer;
    rendition->length = length;
    rendition->width = vips_image_get_width(image);
    rendition->height = vips_image_get_height(image);
    buffer = NULL;
    code = CVIPS_OK;
done:
    g_free(buffer);
    code = close_thumbnail(code, &s, source, image, error, error_capacity);
    if (code != CVIPS_OK && rendition->bytes != NULL) {
        g_free(rendition->bytes);
        memset(rendition, 0, sizeof *rendition);
    }
    return code;
}

/* ---------------------------------------------------------------- perceptual hash */

int cvips_difference_hash(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                          uint64_t *hash, char *error, size_t error_capacity) {
    *hash = 0;
    if (error != NULL && error_capacity > 0) {
        error[0] = '\0';
    }
    cvips_header header;
    stream s = { *reader, 0, 0 };
    VipsSource *source = NULL;
    VipsImage *image = NULL;
    VipsImage *next = NULL;
    void *pixels = NULL;
    size_t length = 0;
    /* 9 x 8 grey pixels, upright, aspect ratio ignored: each bit says whether a pixel is darker
     * than its right-hand neighbour (the "dHash" of Krawetz), which survives re-encoding and resizing. */
    int code = open_thumbnail(reader, expected_loaders, max_pixels, 9, 8, VIPS_SIZE_FORCE, &header, &s, &source, &image,
                              error, error_capacity);
    if (code != CVIPS_OK) {
        goto done;
    }
    if (vips_image_hasalpha(image)) {
        int status = vips_flatten(image, &next, NULL);
        if (advance(&image, next, status) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "flattening the alpha channel failed");
            goto done;
        }
    }
    {
        int status = vips_colourspace(image, &next, VIPS_INTERPRETATION_B_W, NULL);
        if (advance(&image, next, status) != 0) {
            code = failure_code(&s, CVIPS_E_FAILED);
            take_vips_error(error, error_capacity, "conversion to grey failed");
            goto done;
        }
    }
    if ((code = cast_to_uchar(&image, &s, error, error_capacity)) != CVIPS_OK) {
        goto done;
    }
    pixels = vips_image_write_to_memory(image, &length);
    int width = vips_image_get_width(image), height = vips_image_get_height(image);
    int bands = vips_image_get_bands(image);
    if (pixels == NULL || width != 9 || height != 8 || bands < 1 || length < (size_t)(9 * 8 * bands)) {
        code = failure_code(&s, CVIPS_E_FAILED);
        take_vips_error(error, error_capacity, "the hash image has an unexpected shape");
        goto done;
    }
    {
        const uint8_t *p = pixels;
        uint64_t bits = 0;
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                uint8_t left = p[(y * 9 + x) * bands], right = p[(y * 9 + x + 1) * bands];
                bits = (bits << 1) | (left < right ? 1u : 0u);
            }
        }
        *hash = bits;
    }
done:
    g_free(pixels);
    code = close_thumbnail(code, &s, source, image, error, error_capacity);
    if (code != CVIPS_OK) {
        *hash = 0;
    }
    return code;
}

/* ---------------------------------------------------------------- EXIF */

static const uint8_t exif_header[6] = { 'E', 'x', 'i', 'f', 0, 0 };

static int is_exif_header(const uint8_t *p, size_t n) {
    return n >= 6 && memcmp(p, exif_header, 6) == 0;
}

static int is_tiff_header(const uint8_t *p, size_t n) {
    return n >= 8 && ((p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0) ||
                      (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42));
}

/* Finds the TIFF structure inside the blob: JPEG's APP1 payload starts with "Exif\0\0", PNG's
 * eXIf chunk is bare TIFF, and HEIF's Exif item starts with a 4-byte big-endian offset to it. */
static const uint8_t *locate_tiff(const uint8_t *blob, size_t length, size_t *tiff_length) {
    if (is_exif_header(blob, length)) {
        *tiff_length = length - 6;
        return is_tiff_header(blob + 6, length - 6) ? blob + 6 : NULL;
    }
    if (is_tiff_header(blob, length)) {
        *tiff_length = length;
        return blob;
    }
    if (length >= 4) {
        uint32_t offset = ((uint32_t)blob[0] << 24) | ((uint32_t)blob[1] << 16) |
                          ((uint32_t)blob[2] << 8) | (uint32_t)blob[3];
        if (offset <= length - 4) {
            const uint8_t *p = blob + 4 + offset;
            size_t n = length - 4 - offset;
            if (is_exif_header(p, n) && is_tiff_header(p + 6, n - 6)) {
                *tiff_length = n - 6;
                return p + 6;
            }
            if (is_tiff_header(p, n)) {
                *tiff_length = n;
                return p;
            }
        }
    }
    /* Some writers pad before the header; look a little way in, no further. */
    for (size_t i = 1; i < length && i < 64; i++) {
        if (is_exif_header(blob + i, length - i) && is_tiff_header(blob + i + 6, length - i - 6)) {
            *tiff_length = length - i - 6;
            return blob + i + 6;
        }
        if (is_tiff_header(blob + i, length - i)) {
            *tiff_length = length - i;
            return blob + i;
        }
    }
    return NULL;
}

static ExifEntry *find_entry(ExifData *data, ExifIfd ifd, ExifTag tag) {
    if (data->ifd[ifd] == NULL) {
        return NULL;
    }
    return exif_content_get_entry(data->ifd[ifd], tag);
}

/* An entry is used only when its type and count are what the standard says and its data
 * really holds that many components; anything else is treated as absent. */
static int entry_is(const ExifEntry *entry, ExifFormat format, unsigned long min_components,
                    unsigned long max_components) {
    if (entry == NULL || entry->data == NULL || entry->format != format) {
        return 0;
    }
    if (entry->components < min_components || entry->components > max_components) {
        return 0;
    }
    unsigned long unit = exif_format_get_size(format);
    if (unit == 0 || entry->size / unit < entry->components) {
        return 0;
    }
    return 1;
}

static int rational_at(const ExifEntry *entry, ExifByteOrder order, unsigned long index,
                       double *out) {
    ExifRational r = exif_get_rational(entry->data + 8 * index, order);
    if (r.denominator == 0) {
        return 0;
    }
    *out = (double)r.numerator / (double)r.denominator;
    return 1;
}

static int single_rational(ExifData *data, ExifIfd ifd, ExifTag tag, ExifByteOrder order,
                           double *out) {
    ExifEntry *entry = find_entry(data, ifd, tag);
    return entry_is(entry, EXIF_FORMAT_RATIONAL, 1, 1) && rational_at(entry, order, 0, out);
}

static void copy_string(ExifData *data, ExifIfd ifd, ExifTag tag, char *out, size_t capacity) {
    out[0] = '\0';
    ExifEntry *entry = find_entry(data, ifd, tag);
    if (entry == NULL || entry->data == NULL ||
        (entry->format != EXIF_FORMAT_ASCII && entry->format != EXIF_FORMAT_UNDEFINED)) {
        return;
    }
    size_t n = 0;
    for (unsigned int i = 0; i < entry->size && n + 1 < capacity; i++) {
        if (entry->data[i] != 0) {
            out[n++] = (char)entry->data[i];
        }
    }
    out[n] = '\0';
}

/* Degrees, minutes and seconds as three rationals. */
static int coordinate(ExifData *data, ExifTag tag, ExifByteOrder order, double *out) {
    ExifEntry *entry = find_entry(data, EXIF_IFD_GPS, tag);
    double d, m, s;
    if (!entry_is(entry, EXIF_FORMAT_RATIONAL, 3, 3) || !rational_at(entry, order, 0, &d) ||
        !rational_at(entry, order, 1, &m) || !rational_at(entry, order, 2, &s)) {
        return 0;
    }
    *out = d + m / 60.0 + s / 3600.0;
    return 1;
}

static char reference(ExifData *data, ExifTag tag) {
    ExifEntry *entry = find_entry(data, EXIF_IFD_GPS, tag);
    if (!entry_is(entry, EXIF_FORMAT_ASCII, 1, 64)) {
        return 0;
    }
    return (char)entry->data[0];
}

static void read_fields(ExifData *data, cvips_exif *exif) {
    ExifByteOrder order = exif_data_get_byte_order(data);

    copy_string(data, EXIF_IFD_0, EXIF_TAG_MAKE, exif->make, sizeof exif->make);
    copy_string(data, EXIF_IFD_0, EXIF_TAG_MODEL, exif->model, sizeof exif->model);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, exif->lens, sizeof exif->lens);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, exif->date_time_original,
                sizeof exif->date_time_original);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED, exif->date_time_digitized,
                sizeof exif->date_time_digitized);
    copy_string(data, EXIF_IFD_0, EXIF_TAG_DATE_TIME, exif->date_time, sizeof exif->date_time);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, exif->offset_time_original,
                sizeof exif->offset_time_original);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_DIGITIZED, exif->offset_time_digitized,
                sizeof exif->offset_time_digitized);
    copy_string(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME, exif->offset_time,
                sizeof exif->offset_time);

    exif->has_f_number = single_rational(data, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, order,
                                         &exif->f_number);
    exif->has_exposure_time = single_rational(data, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, order,
                                              &exif->exposure_time);
    exif->has_focal_length = single_rational(data, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, order,
                                             &exif->focal_length);

    /* ISOSpeedRatings (PhotographicSensitivity) may list several values; the first is the one
     * the camera used. */
    ExifEntry *iso = find_entry(data, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS);
    if (entry_is(iso, EXIF_FORMAT_SHORT, 1, 1024)) {
        exif->iso = exif_get_short(iso->data, order);
        exif->has_iso = 1;
    } else if (entry_is(iso, EXIF_FORMAT_LONG, 1, 1024)) {
        exif->iso = exif_get_long(iso->data, order);
        exif->has_iso = 1;
    }

    ExifEntry *orientation = find_entry(data, EXIF_IFD_0, EXIF_TAG_ORIENTATION);
    if (entry_is(orientation, EXIF_FORMAT_SHORT, 1, 1)) {
        ExifShort value = exif_get_short(orientation->data, order);
        exif->orientation = (value >= 1 && value <= 8) ? value : 0;
    }

    exif->has_latitude = coordinate(data, EXIF_TAG_GPS_LATITUDE, order, &exif->latitude);
    exif->latitude_ref = reference(data, EXIF_TAG_GPS_LATITUDE_REF);
    exif->has_longitude = coordinate(data, EXIF_TAG_GPS_LONGITUDE, order, &exif->longitude);
    exif->longitude_ref = reference(data, EXIF_TAG_GPS_LONGITUDE_REF);
    ExifEntry *altitude = find_entry(data, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE);
    exif->has_altitude = entry_is(altitude, EXIF_FORMAT_RATIONAL, 1, 1) &&
                         rational_at(altitude, order, 0, &exif->altitude);
    ExifEntry *altitude_ref = find_entry(data, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF);
    exif->altitude_ref = -1;
    if (entry_is(altitude_ref, EXIF_FORMAT_BYTE, 1, 1) ||
        entry_is(altitude_ref, EXIF_FORMAT_UNDEFINED, 1, 1)) {
        exif->altitude_ref = altitude_ref->data[0];
    }
}

int cvips_parse_exif(const uint8_t *blob, size_t length, cvips_exif *exif) {
    memset(exif, 0, sizeof *exif);
    exif->altitude_ref = -1;
    if (blob == NULL || length == 0) {
        return 0;
    }
    size_t tiff_length = 0;
    const uint8_t *tiff = locate_tiff(blob, length, &tiff_length);
    if (tiff == NULL || tiff_length > (size_t)UINT32_MAX - 6) {
        return 0;
    }
    /* libexif wants the APP1 payload form, "Exif\0\0" then TIFF. */
    uint8_t *payload = g_try_malloc(tiff_length + 6);
    if (payload == NULL) {
        return 0;
    }
    memcpy(payload, exif_header, 6);
    memcpy(payload + 6, tiff, tiff_length);

    ExifData *data = exif_data_new();
    if (data == NULL) {
        g_free(payload);
        return 0;
    }
    /* FOLLOW_SPECIFICATION would "fix" the data by inventing mandatory tags (a DateTime of
     * now, default resolutions); we want only what the file says. Unknown tags are kept so
     * that newer ones (LensModel, OffsetTime*) survive on any libexif version. */
    exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(data, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(data, payload, (unsigned int)(tiff_length + 6));
    g_free(payload);

    int found = 0;
    for (int i = 0; i < EXIF_IFD_COUNT; i++) {
        if (data->ifd[i] != NULL && data->ifd[i]->count > 0) {
            found = 1;
        }
    }
    if (found) {
        read_fields(data, exif);
    }
    exif_data_unref(data);
    return found;
}
