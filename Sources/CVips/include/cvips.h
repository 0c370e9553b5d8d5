#ifndef CVIPS_H
#define CVIPS_H

/*
 * A small C layer over libvips and libexif for PhotoVault's Media module.
 *
 * Only plain C types cross this header: Swift never sees GObject, glib or libexif types, and
 * libvips' variadic option lists stay on the C side.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads up to `length` bytes at `offset` into `buffer`. Returns the number of bytes read, 0 at
 * the end, or -1 on failure (the callee keeps its own error to report afterwards). */
typedef int64_t (*cvips_read_at_fn)(void *context, int64_t offset, void *buffer, int64_t length);

/* A random-access byte source that libvips reads through a custom source. `context` is passed
 * back unchanged to `read_at`; it must stay valid for the duration of the call it is given to. */
typedef struct cvips_reader {
    void *context;
    cvips_read_at_fn read_at;
    int64_t size;
} cvips_reader;

/* Result codes. */
enum {
    CVIPS_OK = 0,
    /* No libvips loader recognises the bytes. */
    CVIPS_E_UNKNOWN_FORMAT = 1,
    /* libvips would load the bytes with a loader other than the expected one. */
    CVIPS_E_LOADER_MISMATCH = 2,
    /* The loader refused the header or the pixels (corrupt, truncated). */
    CVIPS_E_UNDECODABLE = 3,
    /* width * height is over the caller's limit; width and height are filled in. */
    CVIPS_E_TOO_MANY_PIXELS = 4,
    /* Processing or encoding failed on a decodable image (out of memory, ...). */
    CVIPS_E_FAILED = 5,
    /* The reader callback returned -1. */
    CVIPS_E_READ = 6,
};

/* Room for libvips' error text; longer messages are truncated. */
#define CVIPS_ERROR_CAPACITY 1024
#define CVIPS_STRING_CAPACITY 128
#define CVIPS_SHORT_STRING_CAPACITY 32

/* Camera metadata as found in EXIF. Strings are NUL-terminated with embedded NULs removed and
 * empty when absent; `has_*` flags tell whether the numeric fields were present and well formed. */
typedef struct cvips_exif {
    char make[CVIPS_STRING_CAPACITY];
    char model[CVIPS_STRING_CAPACITY];
    char lens[CVIPS_STRING_CAPACITY];
    char date_time_original[CVIPS_SHORT_STRING_CAPACITY];
    char date_time_digitized[CVIPS_SHORT_STRING_CAPACITY];
    char date_time[CVIPS_SHORT_STRING_CAPACITY];
    char offset_time_original[CVIPS_SHORT_STRING_CAPACITY];
    char offset_time_digitized[CVIPS_SHORT_STRING_CAPACITY];
    char offset_time[CVIPS_SHORT_STRING_CAPACITY];
    int has_f_number;
    double f_number;
    int has_exposure_time;
    double exposure_time;
    int has_iso;
    int64_t iso;
    int has_focal_length;
    double focal_length;
    /* 0 when absent or not a single SHORT. */
    int orientation;
    /* Unsigned degrees (from degrees/minutes/seconds); the refs give the sign. */
    int has_latitude;
    double latitude;
    char latitude_ref;
    int has_longitude;
    double longitude;
    char longitude_ref;
    int has_altitude;
    double altitude;
    /* -1 when absent, else the byte (0 above sea level, 1 below). */
    int altitude_ref;
} cvips_exif;

/* What a header decode found. */
typedef struct cvips_header {
    /* Loader nickname, e.g. "jpegload_source"; empty when none was found. */
    char loader[64];
    /* As stored, before orientation. */
    int width;
    int height;
    /* libvips' orientation (1-8; 1 when absent). HEIF loaders apply the container's transforms
     * themselves and report 1. */
    int orientation;
    /* Whether the image carries an "exif-data" blob; `exif` is filled in only then. */
    int has_exif;
    cvips_exif exif;
} cvips_header;

/* Output encodings for cvips_render. */
enum { CVIPS_ENCODE_JPEG = 0, CVIPS_ENCODE_WEBP = 1 };

/* A rendition; `bytes` belongs to the caller, who frees it with cvips_free. */
typedef struct cvips_rendition {
    uint8_t *bytes;
    size_t length;
    int width;
    int height;
} cvips_rendition;

/* Starts libvips once per process; thread-safe and idempotent. Returns CVIPS_OK or
 * CVIPS_E_FAILED with the reason in `error`. */
int cvips_initialize(char *error, size_t error_capacity);

/* Reads the header through `reader`. `expected_loaders` is a NUL-separated, double-NUL-ended
 * list of acceptable loader nicknames; any other loader gives CVIPS_E_LOADER_MISMATCH (with the
 * loader's name in header->loader). `max_pixels` (negative for no limit) bounds width * height (checked before any pixel
 * is decoded). When `decode_all_pixels` is non-zero, every pixel is then decoded sequentially in
 * bounded memory, failing on truncation or errors. */
int cvips_probe(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                int decode_all_pixels, cvips_header *header, char *error, size_t error_capacity);

/* Makes a rendition whose longest side is at most `longest_side` (never enlarged), upright by
 * EXIF orientation, sRGB, with metadata stripped. `max_pixels` (negative for no limit) bounds the
 * source's width * height. */
int cvips_render(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                 int longest_side, int encoding, int quality, cvips_header *header,
                 cvips_rendition *rendition, char *error, size_t error_capacity);

/* A 64-bit difference hash ("dHash") of the image, upright by EXIF orientation: near-identical
 * pictures (re-encoded, resized) have equal or close hashes. */
int cvips_difference_hash(const cvips_reader *reader, const char *expected_loaders, int64_t max_pixels,
                          uint64_t *hash, char *error, size_t error_capacity);

/* Parses an EXIF blob (as libvips' "exif-data": optional "Exif\0\0", a TIFF header, or HEIF's
 * 4-byte offset prefix) into `exif`. Malformed fields are skipped. Returns 1 when any IFD entry
 * was read, 0 otherwise (`exif` is then all absent). */
int cvips_parse_exif(const uint8_t *blob, size_t length, cvips_exif *exif);

/* Frees memory returned by this library. */
void cvips_free(void *pointer);

/* How many libvips objects (images, sources, operations) are alive in the process; a
 * diagnostic for leak checks, meaningful only while nothing else uses libvips. */
int64_t cvips_live_objects(void);

#ifdef __cplusplus
}
#endif

#endif
