// Image decoding for the inference service: JPEG and PNG through stb_image, WebP through
// libwebp; the pixel count is checked from the header before any pixel is decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace photovault {

/// 8-bit RGB pixels, row-major.
struct RGBImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;
};

/// Decodes `bytes`, or throws InputError with one sentence saying why not.
RGBImage decode_image(const uint8_t *bytes, size_t length, uint64_t max_pixels);

}  // namespace photovault
