// Default faces with dlib: HOG (or MMOD CNN) detection, 5-point alignment to 150 px chips,
// ResNet 128-d descriptors, with the weights of PyPI's face_recognition_models.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "Image.h"
#include "InferenceCore.h"

namespace photovault {

/// dlib's face pipeline; not safe for concurrent use.
class FaceAnalyzer {
public:
    /// Loads the .dat files from `folder`; `use_cnn` picks the MMOD CNN detector over HOG;
    /// `upsample` doubles the image that many times before detecting (finds smaller faces).
    FaceAnalyzer(const std::string &folder, bool use_cnn, int upsample);
    ~FaceAnalyzer();

    /// Faces, largest first.
    std::vector<pv_face> detect(const RGBImage &image);
    std::string name() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace photovault
