// Resampling that matches Pillow's bicubic resize bit for bit (8-bit fixed-point, separable,
// antialiased when shrinking), since CLIP's and BLIP's reference preprocessing runs through Pillow.
#pragma once

#include "Image.h"

namespace photovault {

/// `image` resized to `width` × `height` with Pillow's BICUBIC filter.
RGBImage resize_bicubic(const RGBImage &image, int width, int height);

/// Hugging Face's CLIPImageProcessor geometry: the shortest side resized to `size` (the other
/// in proportion, truncated), then the centre `crop` × `crop` square.
RGBImage resize_shortest_side_and_centre_crop(const RGBImage &image, int size, int crop);

}  // namespace photovault
