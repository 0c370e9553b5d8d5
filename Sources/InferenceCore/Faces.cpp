#include "Faces.h"

#include <algorithm>
#include <cmath>
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <fstream>

#include "Safetensors.h"

namespace photovault {

namespace {

using namespace dlib;

// The network of dlib_face_recognition_resnet_model_v1.dat: a 29-layer ResNet on 150 px chips.
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using DescriptorNet = loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

// The network of mmod_human_face_detector.dat.
template <long filters, typename SUBNET> using con5d = con<filters, 5, 5, 2, 2, SUBNET>;
template <long filters, typename SUBNET> using con5 = con<filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler = relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET> using rcon5 = relu<affine<con5<45, SUBNET>>>;
using DetectorNet = loss_mmod<con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;

std::string require(const std::string &folder, const std::string &name) {
    std::string path = folder + "/" + name;
    if (!std::ifstream(path)) throw ModelError(path + ": missing or unreadable.");
    return path;
}

template <typename T> void load_dat(const std::string &path, T &target) {
    try {
        deserialize(path) >> target;
    } catch (const std::exception &error) {
        throw ModelError(path + ": not a usable dlib model (" + std::string(error.what()).substr(0, 200) + ").");
    }
}

float sigmoid(double x) { return static_cast<float>(1.0 / (1.0 + std::exp(-x))); }

/// Variance of the 4-neighbour Laplacian over a grey chip: low for blurry faces.
float laplacian_variance(const matrix<rgb_pixel> &chip) {
    long rows = chip.nr(), cols = chip.nc();
    std::vector<double> grey(static_cast<size_t>(rows * cols));
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) {
            const rgb_pixel &p = chip(r, c);
            grey[r * cols + c] = 0.299 * p.red + 0.587 * p.green + 0.114 * p.blue;
        }
    double sum = 0, squares = 0;
    long count = 0;
    for (long r = 1; r + 1 < rows; r++)
        for (long c = 1; c + 1 < cols; c++) {
            double v = grey[(r - 1) * cols + c] + grey[(r + 1) * cols + c] + grey[r * cols + c - 1] +
                       grey[r * cols + c + 1] - 4 * grey[r * cols + c];
            sum += v;
            squares += v * v;
            count++;
        }
    if (count == 0) return 0;
    double mean = sum / count;
    return static_cast<float>(squares / count - mean * mean);
}

dpoint centre(const full_object_detection &shape, std::initializer_list<unsigned long> parts) {
    dpoint sum(0, 0);
    for (auto part : parts) sum += shape.part(part);
    return sum / static_cast<double>(parts.size());
}

}  // namespace

struct FaceAnalyzer::Impl {
    bool use_cnn;
    int upsample;
    frontal_face_detector hog;
    DetectorNet cnn;
    shape_predictor five;
    shape_predictor sixty_eight;
    DescriptorNet descriptor;
};

FaceAnalyzer::FaceAnalyzer(const std::string &folder, bool use_cnn, int upsample) : impl_(std::make_unique<Impl>()) {
    impl_->use_cnn = use_cnn;
    impl_->upsample = std::max(0, std::min(upsample, 2));
    load_dat(require(folder, "shape_predictor_5_face_landmarks.dat"), impl_->five);
    load_dat(require(folder, "dlib_face_recognition_resnet_model_v1.dat"), impl_->descriptor);
    // The 68-point model gives the nose tip and the mouth corners that the 5-point model lacks;
    // alignment (and so the descriptor) uses the 5-point model, as dlib's ResNet was trained.
    load_dat(require(folder, "shape_predictor_68_face_landmarks.dat"), impl_->sixty_eight);
    if (use_cnn) load_dat(require(folder, "mmod_human_face_detector.dat"), impl_->cnn);
    else impl_->hog = get_frontal_face_detector();
}

FaceAnalyzer::~FaceAnalyzer() = default;

std::string FaceAnalyzer::name() const { return impl_->use_cnn ? "dlib_mmod+resnet128" : "dlib_hog+resnet128"; }

std::vector<pv_face> FaceAnalyzer::detect(const RGBImage &image) {
    matrix<rgb_pixel> pixels(image.height, image.width);
    std::memcpy(&pixels(0, 0), image.pixels.data(), image.pixels.size());
    matrix<rgb_pixel> scaled = pixels;
    double scale = 1;
    for (int i = 0; i < impl_->upsample; i++) {
        pyramid_up(scaled);
        scale *= 2;
    }

    std::vector<std::pair<rectangle, double>> found;  // box in original pixels, raw detector score
    if (impl_->use_cnn) {
        for (const auto &d : impl_->cnn(scaled)) found.emplace_back(d.rect, d.detection_confidence);
    } else {
        std::vector<rect_detection> detections;
        impl_->hog(scaled, detections, 0.0);
        for (const auto &d : detections) found.emplace_back(d.rect, d.detection_confidence);
    }

    std::vector<pv_face> faces;
    for (auto &[scaled_box, raw_score] : found) {
        drectangle box(scaled_box.left() / scale, scaled_box.top() / scale, scaled_box.right() / scale,
                       scaled_box.bottom() / scale);
        rectangle detection(static_cast<long>(std::lround(box.left())), static_cast<long>(std::lround(box.top())),
                            static_cast<long>(std::lround(box.right())), static_cast<long>(std::lround(box.bottom())));
        full_object_detection shape = impl_->five(pixels, detection);
        matrix<rgb_pixel> chip;
        extract_image_chip(pixels, get_face_chip_details(shape, 150, 0.25), chip);

        pv_face face{};
        // Clip to the image: detections may reach past its edges.
        double left = std::max(0.0, box.left()), top = std::max(0.0, box.top());
        double right = std::min<double>(image.width, box.right() + 1), bottom = std::min<double>(image.height, box.bottom() + 1);
        face.x = static_cast<float>(left);
        face.y = static_cast<float>(top);
        face.width = static_cast<float>(std::max(0.0, right - left));
        face.height = static_cast<float>(std::max(0.0, bottom - top));
        // 5-point model: parts 0–1 and 2–3 are the corners of the two eyes, 4 is below the nose.
        dpoint eye_a = centre(shape, {0, 1}), eye_b = centre(shape, {2, 3});
        if (eye_b.x() < eye_a.x()) std::swap(eye_a, eye_b);
        full_object_detection full = impl_->sixty_eight(pixels, detection);
        dpoint nose = full.part(30), mouth_left = full.part(48), mouth_right = full.part(54);
        if (mouth_right.x() < mouth_left.x()) std::swap(mouth_left, mouth_right);
        dpoint points[5] = {eye_a, eye_b, nose, mouth_left, mouth_right};
        for (int i = 0; i < 5; i++) {
            face.landmarks[2 * i] = static_cast<float>(points[i].x());
            face.landmarks[2 * i + 1] = static_cast<float>(points[i].y());
        }
        face.score = sigmoid(raw_score);
        face.blur_variance = laplacian_variance(chip);
        matrix<float, 0, 1> descriptor = impl_->descriptor(chip);
        double norm = std::max(1e-12, static_cast<double>(length(descriptor)));
        for (int i = 0; i < 128; i++) face.descriptor[i] = static_cast<float>(descriptor(i) / norm);
        faces.push_back(face);
    }
    std::sort(faces.begin(), faces.end(),
              [](const pv_face &a, const pv_face &b) { return a.width * a.height > b.width * b.height; });
    return faces;
}

}  // namespace photovault
