import Foundation
import Inference
import InferenceCore
import Testing

/// Native BLIP captioning against transformers' BlipForConditionalGeneration.generate on a tiny
/// random configuration: beam search (3 beams, at most 30 tokens, repetition penalty 1.2), with
/// and without a prompt, one caption ending by its end token and one by the length limit.
@Suite struct BlipCaptionGoldenTests {
    struct Case: Decodable {
        let prompt: String
        let prompt_ids: [Int64]
        let ids: [Int64]
        let text: String
    }
    struct Reference: Decodable { let cases: [Case] }

    static let folder = "\(Paths.fixtures)/tiny-blip"

    func load() throws -> OpaquePointer {
        var model: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        let status = pv_caption_model_load(Self.folder, "cpu", &model, &error, error.count)
        try #require(status == PV_OK, "\(message(error))")
        return model!
    }

    @Test func captionsMatchTheReferenceTokenForToken() throws {
        let reference = try Fixtures.load("tiny-blip.json", as: Reference.self)
        #expect(reference.cases.map(\.ids.count).contains(30) && reference.cases.map(\.ids.count).contains { $0 < 30 })
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/blip-pixels.f32"))
        let pixels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let model = try load()
        defer { pv_caption_model_free(model) }
        for testCase in reference.cases {
            var ids = [Int64](repeating: -1, count: 64)
            var count: Int32 = 0
            var error = [CChar](repeating: 0, count: 512)
            let status = pv_caption_generate_ids(
                model, pixels, testCase.prompt_ids, Int32(testCase.prompt_ids.count), pv_caption_default_settings(),
                &ids, 64, &count, &error, error.count)
            #expect(status == PV_OK, "\(message(error))")
            #expect(Array(ids.prefix(Int(count))) == testCase.ids, "prompt '\(testCase.prompt)'")
        }
    }

    @Test func captionsFromPNGBytesAndAPromptDecodeToTheReferenceText() throws {
        let reference = try Fixtures.load("tiny-blip.json", as: Reference.self)
        let image = try DecodedImage(
            bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/clip-large.png"))), maxPixels: 50_000_000)
        let model = try load()
        defer { pv_caption_model_free(model) }
        for testCase in reference.cases {
            var text = [CChar](repeating: 0, count: 1024)
            var error = [CChar](repeating: 0, count: 512)
            let prompt = Array(testCase.prompt.utf8).map { CChar(bitPattern: $0) }
            let status = pv_caption_generate(
                model, image.handleForTests, prompt, prompt.count, pv_caption_default_settings(), &text, text.count, &error, error.count)
            #expect(status == PV_OK, "\(message(error))")
            #expect(message(text) == testCase.text)
        }
    }
}
