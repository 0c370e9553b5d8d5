import Foundation
import Inference
import Testing

/// The native BERT encoder against transformers' BertModel on a tiny random configuration,
/// with weights stored as F32, F16 and BF16 safetensors.
@Suite struct BertGoldenTests {
    struct Reference: Decodable {
        let ids: [[Int32]]
        let lengths: [Int32]
        let hidden: [Float]
        let vectors: [[Float]]
    }

    @Test(arguments: ["f32", "f16", "bf16"])
    func hiddenStatesAndPooledVectorsMatchTransformersWithin1e4(dtype: String) throws {
        let reference = try Fixtures.load("tiny-bert.json", as: [String: Reference].self)[dtype]!
        let model = try TextEmbedder(folder: "\(Paths.fixtures)/tiny-bert-\(dtype)", device: "cpu")
        #expect(model.dimension == 32)
        let (vectors, hidden) = try model.embed(ids: reference.ids, lengths: reference.lengths)
        #expect(Fixtures.maxDifference(hidden, reference.hidden) < 1e-4)
        for (vector, expected) in zip(vectors, reference.vectors) {
            #expect(Fixtures.maxDifference(vector, expected) < 1e-4)
        }
    }
}
