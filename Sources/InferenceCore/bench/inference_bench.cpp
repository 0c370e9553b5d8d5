// A small benchmark of the inference core through its C API, so that a GPU host that builds
// the core alone with CMake can measure it:
//   inference_bench <MiniLM folder> [<dlib folder> <image>] [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "InferenceCore.h"

namespace {

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(p * (values.size() - 1))];
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <MiniLM folder> [<dlib folder> <image>] [threads]\n", argv[0]);
        return 2;
    }
    int threads = argc >= 5 ? std::atoi(argv[4]) : (argc == 3 ? std::atoi(argv[2]) : 0);
    pv_set_threads(threads);
    char error[512];
    pv_text_model *model = nullptr;
    if (pv_text_model_load(argv[1], "auto", &model, error, sizeof error) != PV_OK) {
        std::fprintf(stderr, "%s\n", error);
        return 1;
    }
    std::printf("threads %d, device %s, dtype %s\n", pv_threads(), pv_text_model_device(model), pv_text_model_dtype(model));
    int dim = pv_text_model_dim(model);
    std::vector<float> vectors(32 * dim);
    const char *query[] = {"a dog running on the beach at sunset"};
    size_t query_length[] = {std::strlen(query[0])};
    for (int i = 0; i < 10; i++) pv_text_model_embed(model, query, query_length, 1, vectors.data(), error, sizeof error);
    std::vector<double> times;
    for (int i = 0; i < 200; i++) {
        auto start = std::chrono::steady_clock::now();
        pv_text_model_embed(model, query, query_length, 1, vectors.data(), error, sizeof error);
        times.push_back(milliseconds_since(start));
    }
    std::printf("MiniLM one query: p50 %.2f ms, p90 %.2f ms\n", percentile(times, 0.5), percentile(times, 0.9));

    std::vector<std::string> sentences;
    for (int i = 0; i < 32; i++)
        sentences.push_back("photo number " + std::to_string(i) + " of a family picnic in the park with a red kite");
    std::vector<const char *> batch;
    std::vector<size_t> lengths;
    for (auto &s : sentences) {
        batch.push_back(s.c_str());
        lengths.push_back(s.size());
    }
    pv_text_model_embed(model, batch.data(), lengths.data(), 32, vectors.data(), error, sizeof error);
    auto start = std::chrono::steady_clock::now();
    int rounds = 20;
    for (int i = 0; i < rounds; i++) pv_text_model_embed(model, batch.data(), lengths.data(), 32, vectors.data(), error, sizeof error);
    double elapsed = milliseconds_since(start);
    std::printf("MiniLM batch of 32: %.1f ms per batch, %.0f texts/s\n", elapsed / rounds, 32 * rounds * 1000 / elapsed);
    pv_text_model_free(model);

    if (argc >= 4) {
        pv_face_model *faces = nullptr;
        if (pv_face_model_load(argv[2], 0, 0, &faces, error, sizeof error) != PV_OK) {
            std::fprintf(stderr, "%s\n", error);
            return 1;
        }
        std::ifstream file(argv[3], std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        pv_image *image = nullptr;
        if (pv_image_decode(bytes.data(), bytes.size(), 100000000, &image, error, sizeof error) != PV_OK) {
            std::fprintf(stderr, "%s\n", error);
            return 1;
        }
        pv_face found[16];
        std::vector<double> face_times;
        int count = 0;
        for (int i = 0; i < 5; i++) {
            auto begin = std::chrono::steady_clock::now();
            count = pv_face_detect(faces, image, found, 16, error, sizeof error);
            face_times.push_back(milliseconds_since(begin));
        }
        std::printf("dlib faces on %dx%d: %d face(s), p50 %.1f ms per image\n", pv_image_width(image),
                    pv_image_height(image), count, percentile(face_times, 0.5));
        pv_image_free(image);
        pv_face_model_free(faces);
    }
    return 0;
}
