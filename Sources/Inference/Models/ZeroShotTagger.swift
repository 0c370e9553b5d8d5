import Foundation
import Synchronization

/// CLIP zero-shot tagging: scores an image against labels, each embedded as the normalised mean
/// of its ``TagPrompt`` sentences. The built-in vocabulary is embedded once, on first use, rather
/// than at start-up: about seven thousand sentences take a while on a CPU, and start-up, health
/// and ListModels must not wait for them.
public final class ZeroShotTagger: Sendable {
    /// Embeds sentences into CLIP's space, one L2-normalised vector each (the CLIP text batcher).
    public typealias Embed = @Sendable ([String]) async throws -> [[Float]]

    /// One label and its probability among the labels scored.
    public struct Tag: Sendable, Equatable {
        public let label: String
        public let score: Float
    }

    /// The labels scored when a caller gives none.
    public let vocabulary: [String]
    /// exp(logit_scale): the factor on cosine similarities before the softmax.
    public let logitScale: Float
    private let embed: Embed
    private let chunkSize: Int
    /// The vocabulary's vectors, computed by the first caller's task and shared with every later one.
    private let vocabularyTask = Mutex<Task<[[Float]], any Error>?>(nil)

    /// `embed` is called with at most `chunkSize` sentences at a time, one call after the other, so
    /// the vocabulary's sentences queue behind, not ahead of, other callers of the same batcher.
    public init(vocabulary: [String] = TagVocabulary.labels, logitScale: Float, chunkSize: Int, embed: @escaping Embed) {
        self.vocabulary = vocabulary
        self.logitScale = logitScale
        self.chunkSize = max(1, chunkSize)
        self.embed = embed
    }

    /// Tags for an image vector, best first, at most `limit`: against `candidateLabels`, or the
    /// vocabulary when there are none.
    public func tags(for image: [Float], candidateLabels: [String] = [], limit: Int) async throws -> [Tag] {
        if candidateLabels.isEmpty {
            return Self.rank(image: image, labels: vocabulary, vectors: try await vocabularyVectors(), logitScale: logitScale, limit: limit)
        }
        let vectors = try await vectors(for: candidateLabels)
        return Self.rank(image: image, labels: candidateLabels, vectors: vectors, logitScale: logitScale, limit: limit)
    }

    /// The vocabulary's ensemble vectors, computed once: concurrent first callers await the same
    /// task. A failed computation (a full queue, shutdown) is not kept; the next caller retries.
    public func vocabularyVectors() async throws -> [[Float]] {
        let task = vocabularyTask.withLock { task in
            if let task { return task }
            let started = Task { try await self.vectors(for: self.vocabulary) }
            task = started
            return started
        }
        do {
            return try await task.value
        } catch {
            vocabularyTask.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }

    /// One ensemble vector per label: the mean of its prompts' normalised vectors, normalised.
    public func vectors(for labels: [String]) async throws -> [[Float]] {
        let prompts = labels.flatMap(TagPrompt.prompts(for:))
        var embeddings: [[Float]] = []
        embeddings.reserveCapacity(prompts.count)
        for start in stride(from: 0, to: prompts.count, by: chunkSize) {
            embeddings += try await embed(Array(prompts[start..<min(prompts.count, start + chunkSize)]))
        }
        let perLabel = TagPrompt.templates.count
        return labels.indices.map { index in Self.ensemble(embeddings[index * perLabel..<(index + 1) * perLabel]) }
    }

    /// The L2-normalised mean of L2-normalised vectors.
    public static func ensemble(_ vectors: some Collection<[Float]>) -> [Float] {
        guard let dimension = vectors.first?.count else { return [] }
        var sum = [Float](repeating: 0, count: dimension)
        for vector in vectors {
            let normalised = normalise(vector)
            for index in 0..<dimension { sum[index] += normalised[index] }
        }
        return normalise(sum)
    }

    /// Softmax over the labels of logit scale × cosine, best first, at most `limit`. The image
    /// vector and label vectors are normalised, so a dot product is the cosine.
    public static func rank(image: [Float], labels: [String], vectors: [[Float]], logitScale: Float, limit: Int) -> [Tag] {
        let logits = vectors.map { vector in Double(logitScale) * zip(vector, image).reduce(0) { $0 + Double($1.0 * $1.1) } }
        let largest = logits.max() ?? 0
        let exponentials = logits.map { Foundation.exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return zip(labels, exponentials)
            .map { label, value in Tag(label: label, score: Float(value / total)) }
            .sorted { $0.score > $1.score }
            .prefix(max(0, limit))
            .map { $0 }
    }

    private static func normalise(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
