import Foundation
import Inference
import Testing

/// all-MiniLM-L6-v2 end to end (text in, vector out) against transformers + mean pooling.
@Suite struct MiniLMTests {
    struct Reference: Decodable {
        let sentences: [String]
        let vectors: [[Float]]
    }

    static let model: TextEmbedder? = Paths.defaults.textModelDirectory.flatMap { try? TextEmbedder(folder: $0, device: "cpu") }

    @Test func embeddingsMatchTheReferenceWithin1e4() throws {
        let model = try #require(Self.model, "MiniLM is installed by scripts/setup.sh")
        let reference = try Fixtures.load("minilm.json", as: Reference.self)
        let vectors = try model.embed(reference.sentences)
        #expect(vectors.count == reference.sentences.count)
        for (index, vector) in vectors.enumerated() {
            #expect(vector.count == 384)
            #expect(abs(Fixtures.dot(vector, vector) - 1) < 1e-5)
            #expect(Fixtures.maxDifference(vector, reference.vectors[index]) < 1e-4, "\(reference.sentences[index])")
        }
        // One at a time (no padding) gives the same vectors as the padded batch.
        let alone = try model.embed([reference.sentences[3]])[0]
        #expect(Fixtures.maxDifference(alone, reference.vectors[3]) < 1e-4)
    }

    @Test func relatedSentencesScoreCloserThanUnrelatedOnes() throws {
        let model = try #require(Self.model)
        let vectors = try model.embed([
            "A dog runs along the beach at sunset.",
            "A puppy is playing on the sand by the sea.",
            "The quarterly tax report is due on Friday.",
        ])
        let related = Fixtures.dot(vectors[0], vectors[1])
        let unrelated = Fixtures.dot(vectors[0], vectors[2])
        #expect(related > 0.5)
        #expect(related > unrelated + 0.3)
    }
}
