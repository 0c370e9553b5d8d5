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
    return image;
}

}  // namespace photovault
