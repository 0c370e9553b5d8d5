#include "ImageResize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "Safetensors.h"

namespace photovault {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x) {
    const double a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

/// Per output pixel: the first input pixel, how many follow, and their fixed-point weights.
struct Coefficients {
    int kernel_size;
    std::vector<int> first, count;
    std::vector<int> weights;  // out_size × kernel_size
};

Coefficients coefficients(int in_size, int out_size) {
    double scale = static_cast<double>(in_size) / out_size;
    double filter_scale = std::max(scale, 1.0);
    double support = 2.0 * filter_scale;
    Coefficients c;
    c.kernel_size = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.first.resize(out_size);
    c.count.resize(out_size);
    c.weights.assign(static_cast<size_t>(out_size) * c.kernel_size, 0);
    std::vector<double> k(c.kernel_size);
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filter_scale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double total = 0;
        for (int x = 0; x < xmax; x++) {
            k[x] = bicubic((x + xmin - center + 0.5) * ss);
            total += k[x];
        }
        for (int x = 0; x < xmax; x++) {
            double w = total != 0 ? k[x] / total : k[x];
            double scaled = w * (1 << kPrecisionBits);
            c.weights[static_cast<size_t>(xx) * c.kernel_size + x] = static_cast<int>(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
        }
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

uint8_t clip8(int64_t value) {
    value >>= kPrecisionBits;
    return static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
}

/// Columns [first, first + count) of the image resized to `width` wide (same height).
RGBImage horizontal(const RGBImage &in, int width, int first, int count) {
    Coefficients c = coefficients(in.width, width);
    RGBImage out{count, in.height, std::vector<uint8_t>(static_cast<size_t>(count) * in.height * 3)};
    for (int y = 0; y < in.height; y++) {
        const uint8_t *row = &in.pixels[static_cast<size_t>(y) * in.width * 3];
        uint8_t *target = &out.pixels[static_cast<size_t>(y) * count * 3];
        for (int xx = first; xx < first + count; xx++) {
            const int *k = &c.weights[static_cast<size_t>(xx) * c.kernel_size];
            for (int channel = 0; channel < 3; channel++) {
                int64_t sum = 1 << (kPrecisionBits - 1);
                for (int x = 0; x < c.count[xx]; x++) sum += int64_t(row[(x + c.first[xx]) * 3 + channel]) * k[x];
                target[(xx - first) * 3 + channel] = clip8(sum);
            }
        }
    }
    return out;
}

/// Rows [first, first + count) of the image resized to `height` high (same width).
RGBImage vertical(const RGBImage &in, int height, int first, int count) {
    Coefficients c = coefficients(in.height, height);
    RGBImage out{in.width, count, std::vector<uint8_t>(static_cast<size_t>(in.width) * count * 3)};
    size_t stride = static_cast<size_t>(in.width) * 3;
    for (int yy = first; yy < first + count; yy++) {
        const int *k = &c.weights[static_cast<size_t>(yy) * c.kernel_size];
        uint8_t *target = &out.pixels[(yy - first) * stride];
        for (size_t i = 0; i < stride; i++) {
            int64_t sum = 1 << (kPrecisionBits - 1);
            for (int y = 0; y < c.count[yy]; y++) sum += int64_t(in.pixels[(y + c.first[yy]) * stride + i]) * k[y];
            target[i] = clip8(sum);
        }
    }
    return out;
}

/// The window (x, y, w, h) of the image resized to width × height, computing only that window:
/// each output pixel depends on its own filter taps alone, so this equals resize-then-crop.
RGBImage resize_window(const RGBImage &image, int width, int height, int x, int y, int w, int h) {
    RGBImage out = image.width != width || x != 0 || w != width ? horizontal(image, width, x, w) : image;
    return out.height != height || y != 0 || h != height ? vertical(out, height, y, h) : out;
}

}  // namespace

RGBImage resize_bicubic(const RGBImage &image, int width, int height) {
    // Pillow resizes horizontally first, then vertically, skipping a pass whose size is unchanged.
    return resize_window(image, width, height, 0, 0, width, height);
}

RGBImage resize_shortest_side_and_centre_crop(const RGBImage &image, int size, int crop) {
    // As transformers computes it: int(size * long / short), in floating point.
    double ratio = static_cast<double>(std::max(image.width, image.height)) / std::min(image.width, image.height);
    if (ratio * size > 1e6)
        throw InputError("the image is " + std::to_string(image.width) + "×" + std::to_string(image.height) +
                         " pixels, too elongated to resize for the model.");
    int width, height;
    if (image.width <= image.height) {
        width = size;
        height = static_cast<int>(static_cast<double>(int64_t(size) * image.height) / image.width);
    } else {
        height = size;
        width = static_cast<int>(static_cast<double>(int64_t(size) * image.width) / image.height);
    }
    // The centre crop, computed alone; where the crop is larger than the image, zero padding.
    int top = (height - crop) / 2, left = (width - crop) / 2;
    int x0 = std::max(0, left), y0 = std::max(0, top);
    int w = std::min(width, left + crop) - x0, h = std::min(height, top + crop) - y0;
    RGBImage window = resize_window(image, width, height, x0, y0, w, h);
    RGBImage out{crop, crop, std::vector<uint8_t>(static_cast<size_t>(crop) * crop * 3, 0)};
    for (int y = 0; y < h; y++)
        std::copy_n(&window.pixels[static_cast<size_t>(y) * w * 3], static_cast<size_t>(w) * 3,
                    &out.pixels[(static_cast<size_t>(y + y0 - top) * crop + (x0 - left)) * 3]);
    return out;
}

}  // namespace photovault
