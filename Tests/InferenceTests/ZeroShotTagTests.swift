import Foundation
import Inference
import Logging
import Synchronization
import Testing

/// CLIP zero-shot tags: the built-in vocabulary, the prompt ensemble, and the vocabulary embedded
/// once, lazily, through the CLIP text batcher (the golden tiny CLIP stands in for ViT-B/32).
@Suite struct ZeroShotTagTests {
    /// A registry with only the tiny CLIP loaded, as photovault-inference builds it.
    static func registry() -> ModelRegistry {
        var config = InferenceConfig()
        config.clipModelDirectory = ClipGoldenTests.folder
        config.device = "cpu"
        return ModelRegistry(config: config, logger: Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() })
    }

    /// One registry whose vocabulary the tests that need it embed once between them (about 7,000 prompts).
    static let shared = registry()

    static func imageVector(_ clip: ModelRegistry.ClipRuntime) async throws -> [Float] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/clip-small.png"))
        return try await clip.images.submit(try DecodedImage(bytes: [UInt8](bytes), maxPixels: 50_000_000))
    }

    /// What the ensemble should be, computed without ``ZeroShotTagger``: every prompt alone through the embedder.
    static func expectedEnsemble(_ label: String, embedder: ClipEmbedder) throws -> [Float] {
        func normalised(_ vector: [Float]) -> [Float] {
            let norm = vector.map { $0 * $0 }.reduce(0, +).squareRoot()
            return vector.map { $0 / norm }
        }
        let vectors = try TagPrompt.prompts(for: label).map { try embedder.embed(texts: [$0])[0] }
        let sum = vectors.map(normalised).reduce([Float](repeating: 0, count: embedder.dimension)) { zip($0, $1).map(+) }
        return normalised(sum.map { $0 / Float(vectors.count) })
    }

    @Test func theVocabularyHoldsAboutAThousandUniqueLowerCaseLabels() {
        let labels = TagVocabulary.labels
        #expect((900...1100).contains(labels.count), "\(labels.count) labels")
        #expect(Set(labels).count == labels.count, "duplicates: \(Dictionary(grouping: labels) { $0 }.filter { $0.value.count > 1 }.keys.sorted())")
        #expect(labels.allSatisfy { $0 == $0.lowercased() })
        #expect(labels.allSatisfy { !$0.isEmpty && $0 == $0.trimmingCharacters(in: .whitespaces) && !$0.contains("  ") })
        // No singular and plural of one word ("dog" and "dogs"): they would split one concept's probability.
        let set = Set(labels)
        let pairs = labels.filter { set.contains($0 + "s") || set.contains($0 + "es") }
        #expect(pairs.isEmpty, "\(pairs)")
        // The article exceptions name labels (or last words) that exist.
        #expect(TagVocabulary.withoutArticle.isSubset(of: set))
    }

    @Test func promptsPutTheLabelInEveryTemplateWithTheRightArticle() {
        #expect(TagPrompt.templates.count >= 6)
        for label in ["dog", "Grandma's garden", "snow"] {
            let prompts = TagPrompt.prompts(for: label)
            #expect(prompts.count == TagPrompt.templates.count)
            #expect(prompts.allSatisfy { $0.contains(label) && !$0.contains("{") })
            #expect(Set(prompts).count == prompts.count)
        }
        let first = { (label: String) in TagPrompt.prompts(for: label)[0] }
        #expect(first("dog") == "a photo of a dog.")
        #expect(first("apple") == "a photo of an apple.")
        #expect(first("uniform") == "a photo of a uniform.")
        #expect(first("x-ray") == "a photo of an x-ray.")
        #expect(first("school bus") == "a photo of a school bus.")
        #expect(first("apartment building") == "a photo of an apartment building.")
        #expect(first("balloons") == "a photo of balloons.")
        #expect(first("snow") == "a photo of snow.")
        #expect(first("hiking") == "a photo of hiking.")
        #expect(first("Grandma's garden") == "a photo of Grandma's garden.")
        #expect(first("my dog") == "a photo of my dog.")
        #expect(TagPrompt.prompts(for: "dog")[1] == "a good photo of the dog.")
        #expect(TagPrompt.prompts(for: "christmas")[1] == "a good photo of christmas.")
    }

    @Test func loadingCLIPDoesNotEmbedTheVocabulary() throws {
        let registry = Self.registry()
        defer { registry.stop() }
        let clip = try #require(registry.clip)
        #expect(registry.entries.first { $0.name == ModelRegistry.clipModelName }?.loaded == true)
        #expect(clip.texts.batchCount == 0)
    }

    @Test func aLabelsVectorIsTheNormalisedMeanOfItsTemplateVectorsWithin1e5() async throws {
        let clip = try #require(Self.shared.clip)
        let embedder = try ClipEmbedder(folder: ClipGoldenTests.folder, device: "cpu")
        // Caller-given labels, one of them outside the vocabulary.
        let labels = ["dog", "birthday party", "snow", "Grandma's garden"]
        let vectors = try await clip.tagger.vectors(for: labels)
        for (label, vector) in zip(labels, vectors) {
            let expected = try Self.expectedEnsemble(label, embedder: embedder)
            #expect(Fixtures.maxDifference(vector, expected) < 1e-5, "\(label)")
            #expect(abs(Fixtures.dot(vector, vector) - 1) < 1e-5)
        }
        // The vocabulary's vectors, embedded in batches with other labels' prompts, are the same.
        let vocabulary = try await clip.tagger.vocabularyVectors()
        #expect(vocabulary.count == TagVocabulary.labels.count)
        for label in ["dog", "apartment building", "walking the dog", TagVocabulary.labels.last!] {
            let index = try #require(TagVocabulary.labels.firstIndex(of: label))
            let expected = try Self.expectedEnsemble(label, embedder: embedder)
            #expect(Fixtures.maxDifference(vocabulary[index], expected) < 1e-5, "\(label)")
        }
    }

    @Test func tagsComeBestFirstWithSoftmaxScoresOverTheWholeVocabulary() async throws {
        let clip = try #require(Self.shared.clip)
        let image = try await Self.imageVector(clip)
        let tagger = clip.tagger
        let vectors = try await tagger.vocabularyVectors()
        // The softmax computed here in Double, over every label, independently of the tagger.
        let logits = vectors.map { Double(tagger.logitScale) * Double(Fixtures.dot($0, image)) }
        let total = logits.map { exp($0) }.reduce(0, +)
        let probability = Dictionary(uniqueKeysWithValues: zip(TagVocabulary.labels, logits.map { exp($0) / total }))

        for limit in [10, 100] {
            let tags = try await tagger.tags(for: image, limit: limit)
            #expect(tags.count == limit)
            #expect(zip(tags, tags.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(tags.map(\.score).reduce(0, +) <= 1)
            for tag in tags {
                let expected = try #require(probability[tag.label])
                #expect(abs(Double(tag.score) - expected) < 1e-6, "\(tag.label)")
            }
            // Nothing left out scores above the last tag returned.
            let kept = Set(tags.map(\.label))
            let best = probability.filter { !kept.contains($0.key) }.values.max() ?? 0
            #expect(best <= Double(tags.last!.score) + 1e-7)
        }

        // Caller-given labels: fewer than the limit, so their scores sum to 1.
        let candidates = ["dog", "cat", "beach", "birthday cake", "snow"]
        let tags = try await tagger.tags(for: image, candidateLabels: candidates, limit: 10)
        #expect(Set(tags.map(\.label)) == Set(candidates))
        #expect(zip(tags, tags.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(abs(tags.map(\.score).reduce(0, +) - 1) < 1e-5)
        let candidateVectors = try await tagger.vectors(for: candidates)
        for tag in tags {
            let other = try #require(tags.first { $0.label != tag.label })
            let ratio = Double(tag.score) / Double(other.score)
            let cosine = { (label: String) in Double(Fixtures.dot(candidateVectors[candidates.firstIndex(of: label)!], image)) }
            let expected = exp(Double(tagger.logitScale) * (cosine(tag.label) - cosine(other.label)))
            #expect(abs(ratio / expected - 1) < 1e-4, "\(tag.label) against \(other.label)")
        }
    }

    @Test func concurrentFirstRequestsEmbedTheVocabularyOnce() async throws {
        let registry = Self.registry()
        defer { registry.stop() }
        let clip = try #require(registry.clip)
        let image = try await Self.imageVector(clip)
        let embedded = Mutex(0)
        let tagger = ZeroShotTagger(logitScale: clip.embedder.logitScale, chunkSize: 32) { prompts in
            embedded.withLock { $0 += prompts.count }
            return try await clip.texts.submit(prompts, weight: prompts.count)
        }
        let answers = try await withThrowingTaskGroup(of: [ZeroShotTagger.Tag].self) { group in
            for _ in 0..<8 { group.addTask { try await tagger.tags(for: image, limit: 5) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(embedded.withLock { $0 } == TagVocabulary.labels.count * TagPrompt.templates.count)
        #expect(answers.count == 8 && answers.allSatisfy { $0 == answers[0] })
        // Later requests reuse the vectors.
        _ = try await tagger.tags(for: image, limit: 5)
        #expect(embedded.withLock { $0 } == TagVocabulary.labels.count * TagPrompt.templates.count)
    }

    @Test func aFailedVocabularyEmbeddingIsRetriedByTheNextRequest() async throws {
        struct Refused: Error {}
        let calls = Mutex(0)
        let tagger = ZeroShotTagger(vocabulary: ["dog", "cat"], logitScale: 100, chunkSize: 4) { prompts in
            let call = calls.withLock { count in
                count += 1
                return count
            }
            if call == 1 { throw Refused() }
            return prompts.map { $0.contains("dog") ? [1, 0] : [0, 1] }
        }
        await #expect(throws: Refused.self) { try await tagger.vocabularyVectors() }
        let vectors = try await tagger.vocabularyVectors()
        #expect(vectors == [[1, 0], [0, 1]])
        let tags = try await tagger.tags(for: [0, 1], limit: 1)
        #expect(tags.map(\.label) == ["cat"])
    }
}
