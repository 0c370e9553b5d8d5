// FaceNet: facenet-pytorch's InceptionResnetV1 (VGGFace2 weights), 160 × 160 aligned faces in,
// 512-d L2-normalised descriptors out. libtorch stays behind the pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace photovault {

/// InceptionResnetV1 loaded from a folder with model.safetensors (facenet-pytorch's state_dict keys).
class FaceNet {
public:
    FaceNet(const std::string &folder, const std::string &device);
    ~FaceNet();

    std::string device() const;
    std::string dtype() const;

    /// Descriptors of `count` 160 × 160 RGB faces (count × 160 × 160 × 3 bytes), each
    /// prewhitened as the reference does; writes count × 512 floats.
    void embed(const uint8_t *faces, int count, float *vectors);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace photovault
