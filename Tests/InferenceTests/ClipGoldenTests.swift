import Foundation
import Inference
import InferenceCore
import Testing

/// Native CLIP against transformers' CLIPModel and CLIPImageProcessor on a tiny random
/// configuration (224 px images, 32 px patches), from PNG bytes to normalised vectors.
@Suite struct ClipGoldenTests {
    struct Reference: Decodable {
        let images: [String]
        let image_vectors: [[Float]]
        let texts: [String]
        let text_vectors: [[Float]]
        let logit_scale: Float
    }

    static let folder = "\(Paths.fixtures)/tiny-clip"

    func image(_ name: String) throws -> DecodedImage {
        try DecodedImage(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/\(name)"))), maxPixels: 50_000_000)
    }

    @Test(arguments: ["clip-small", "clip-large"])
    func resizingAndCroppingMatchPillowPixelForPixel(name: String) throws {
        let decoded = try image("\(name).png")
        var pixels = [UInt8](repeating: 0, count: 224 * 224 * 3)
        var error = [CChar](repeating: 0, count: 256)
        #expect(pv_image_resize_and_crop(decoded.handleForTests, 224, 224, &pixels, &error, error.count) == PV_OK)
        let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/\(name)-224.rgb")))
        let differences = zip(pixels, expected).map { abs(Int($0) - Int($1)) }
        #expect(differences.max() == 0, "\(differences.filter { $0 > 0 }.count) bytes differ")
    }

    @Test func imageEmbeddingsFromPNGBytesMatchTheReferenceWithin1e4() throws {
        let reference = try Fixtures.load("tiny-clip.json", as: Reference.self)
        let model = try ClipEmbedder(folder: Self.folder, device: "cpu")
        #expect(model.dimension == 24)
        #expect(abs(model.logitScale - reference.logit_scale) < 1e-4)
        let vectors = try model.embed(images: try reference.images.map(image))
        for (vector, expected) in zip(vectors, reference.image_vectors) {
            #expect(Fixtures.maxDifference(vector, expected) < 1e-4)
        }
    }

    @Test func textEmbeddingsMatchTheReferenceWithin1e4() throws {
        let reference = try Fixtures.load("tiny-clip.json", as: Reference.self)
        let model = try ClipEmbedder(folder: Self.folder, device: "cpu")
        let vectors = try model.embed(texts: reference.texts)
        for (index, vector) in vectors.enumerated() {
            #expect(Fixtures.maxDifference(vector, reference.text_vectors[index]) < 1e-4, "\(reference.texts[index])")
        }
        // Alone (no padding) the vectors are the same as in the padded batch.
        let alone = try model.embed(texts: [reference.texts[0]])[0]
        #expect(Fixtures.maxDifference(alone, reference.text_vectors[0]) < 1e-4)
    }
}

/// CLIP's byte-level BPE against CLIPTokenizerFast (CLIP's real merges, cut to the first 1000).
@Suite struct ClipTokenizerTests {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
    }
    struct File: Decodable { let cases: [Case] }

    @Test func tokenIDsMatchTheReferenceForEveryTrickyString() throws {
        var tokenizer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        let folder = "\(Paths.fixtures)/tiny-clip"
        #expect(pv_clip_bpe_load("\(folder)/vocab.json", "\(folder)/merges.txt", &tokenizer, &error, error.count) == PV_OK)
        defer { pv_clip_bpe_free(tokenizer) }
        for testCase in try Fixtures.load("clip-bpe.json", as: File.self).cases {
            var ids = [Int32](repeating: -1, count: 128)
            let utf8 = Array(testCase.text.utf8)
            let count = utf8.withUnsafeBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) { pv_clip_bpe_encode(tokenizer, $0.baseAddress, $0.count, 77, &ids, 128) }
            }
            #expect(Array(ids.prefix(Int(count))) == testCase.ids, "\(testCase.text.prefix(60))")
        }
    }
}
