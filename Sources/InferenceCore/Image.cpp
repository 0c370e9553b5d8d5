#include "Image.h"

#include <cstring>
#include <string>
#include <webp/decode.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include "InferenceCore.h"
#include "Safetensors.h"

namespace photovault {

namespace {

bool is_webp(const uint8_t *bytes, size_t length) {
    return length >= 12 && std::memcmp(bytes, "RIFF", 4) == 0 && std::memcmp(bytes + 8, "WEBP", 4) == 0;
}

void check_size(uint64_t width, uint64_t height, uint64_t max_pixels) {
    if (width == 0 || height == 0)
        throw InputError("the image is " + std::to_string(width) + "×" + std::to_string(height) + " pixels: it has no pixels.");
    if (width * height > max_pixels)
        throw InputError("the image is " + std::to_string(width) + "×" + std::to_string(height) + " pixels, more than the limit of " +
                         std::to_string(max_pixels) + " pixels.");
}

/// The EXIF orientation (1–8) of a JPEG, or 1 when it has none or it cannot be read.
int jpeg_orientation(const uint8_t *bytes, size_t length) {
    if (length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return 1;
    size_t at = 2;
    while (at + 4 <= length && bytes[at] == 0xFF) {
        uint8_t marker = bytes[at + 1];
        size_t size = (size_t(bytes[at + 2]) << 8) | bytes[at + 3];
        if (marker == 0xDA || size < 2 || at + 2 + size > length) break;  // image data, or a damaged segment
        const uint8_t *segment = bytes + at + 4;
        size_t segment_size = size - 2;
        if (marker == 0xE1 && segment_size >= 14 && std::memcmp(segment, "Exif\0\0", 6) == 0) {
            const uint8_t *tiff = segment + 6;
            size_t tiff_size = segment_size - 6;
            bool little = tiff[0] == 'I' && tiff[1] == 'I';
            if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
            auto u16 = [&](size_t o) -> uint32_t {
                return little ? tiff[o] | (tiff[o + 1] << 8) : (tiff[o] << 8) | tiff[o + 1];
            };
            auto u32 = [&](size_t o) -> uint32_t {
                return little ? u16(o) | (u16(o + 2) << 16) : (u16(o) << 16) | u16(o + 2);
            };
            uint32_t ifd = u32(4);
            if (ifd + 2 > tiff_size) return 1;
            uint32_t entries = u16(ifd);
            for (uint32_t i = 0; i < entries; i++) {
                size_t entry = ifd + 2 + size_t(i) * 12;
                if (entry + 12 > tiff_size) return 1;
                if (u16(entry) == 0x0112) {
                    uint32_t value = u16(entry + 8);
                    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
                }
            }
            return 1;
        }
        at += 2 + size;
    }
    return 1;
}

/// `image` turned upright according to EXIF `orientation`.
RGBImage apply_orientation(RGBImage image, int orientation) {
    if (orientation <= 1 || orientation > 8) return image;
    int w = image.width, h = image.height;
    bool swaps = orientation >= 5;
    RGBImage out{swaps ? h : w, swaps ? w : h, std::vector<uint8_t>(image.pixels.size())};
    for (int oy = 0; oy < out.height; oy++)
        for (int ox = 0; ox < out.width; ox++) {
            int x = ox, y = oy;
            switch (orientation) {
            case 2: x = w - 1 - ox; y = oy; break;
            case 3: x = w - 1 - ox; y = h - 1 - oy; break;
            case 4: x = ox; y = h - 1 - oy; break;
            case 5: x = oy; y = ox; break;
            case 6: x = oy; y = h - 1 - ox; break;
            case 7: x = w - 1 - oy; y = h - 1 - ox; break;
            case 8: x = w - 1 - oy; y = ox; break;
            }
            std::memcpy(&out.pixels[(size_t(oy) * out.width + ox) * 3], &image.pixels[(size_t(y) * w + x) * 3], 3);
        }
    return out;
}

}  // namespace

RGBImage decode_image(const uint8_t *bytes, size_t length, uint64_t max_pixels) {
    if (length == 0) throw InputError("the image is empty (0 bytes).");
    RGBImage image;
    if (is_webp(bytes, length)) {
        int width = 0, height = 0;
        if (!WebPGetInfo(bytes, length, &width, &height)) throw InputError("the WebP image is damaged or truncated.");
        check_size(width, height, max_pixels);
        image.width = width;
        image.height = height;
        image.pixels.resize(static_cast<size_t>(width) * height * 3);
        if (!WebPDecodeRGBInto(bytes, length, image.pixels.data(), image.pixels.size(), width * 3))
            throw InputError("the WebP image is damaged or truncated.");
        return image;
    }
    if (length > static_cast<size_t>(INT32_MAX)) throw InputError("the image is larger than 2 GiB.");
    // stb_image calls a PNG without pixels corrupt; say what it is.
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (length >= 24 && std::memcmp(bytes, png_signature, 8) == 0 && std::memcmp(bytes + 12, "IHDR", 4) == 0) {
        auto be32 = [&](size_t at) {
            return (uint32_t(bytes[at]) << 24) | (uint32_t(bytes[at + 1]) << 16) | (uint32_t(bytes[at + 2]) << 8) | bytes[at + 3];
        };
        check_size(be32(16), be32(20), max_pixels);
    }
    int width = 0, height = 0, channels = 0;
    int size = static_cast<int>(length);
    if (!stbi_info_from_memory(bytes, size, &width, &height, &channels))
        throw InputError("the bytes are not a JPEG, PNG or WebP image (or the header is damaged).");
    check_size(width, height, max_pixels);
    unsigned char *decoded = stbi_load_from_memory(bytes, size, &width, &height, &channels, 3);
    if (!decoded) throw InputError(std::string("the image cannot be decoded: ") + stbi_failure_reason() + ".");
    image.width = width;
    image.height = height;
    image.pixels.assign(decoded, decoded + static_cast<size_t>(width) * height * 3);
    stbi_image_free(decoded);
    // Models see the photo the way its camera meant it (EXIF orientation), as the proto promises.
    return apply_orientation(std::move(image), jpeg_orientation(bytes, length));
}

}  // namespace photovault
