import Foundation
import Logging
import PostgresNIO

/// Indexes an image's words: metadata tags (year, month, season, place, camera), then the
/// full-text document over caption, tags, description, place and file name, then the sentence
/// embedding of the same text.
///
/// The full-text part needs no model, so it is written first: while the inference service is
/// down the job waits for the embedding, but the image can already be found by its words.
public struct TextIndexJob: JobHandler {
    public let kind = Pipeline.textIndex
    let database: Database
    let indexes: VectorIndexes
    let inference: InferenceClient
    let logger: Logger

    /// The words of one image, as indexed.
    struct Document: Sendable, Equatable {
        var caption: String
        var description: String
        var tags: [String]
        var place: String
        var fileWords: String

        /// The text the sentence model embeds: one sentence per part, empty parts left out.
        var sentence: String {
            [caption, description, tags.joined(separator: ", "), place, fileWords]
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .map { $0.hasSuffix(".") ? $0 : $0 + "." }
                .joined(separator: " ")
        }

        /// The words of a file name worth indexing: separators become spaces, camera counters
        /// ("IMG_0042", "DSC01234") and the extension go.
        static func words(ofFileName name: String) -> String {
            var stem = name
            if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = String(stem[..<dot]) }
            let generic: Set<String> = ["img", "dsc", "dscn", "dscf", "pxl", "mvimg", "image", "photo", "pic", "gopr", "dji", "p", "sam"]
            return stem
                .split(whereSeparator: { !$0.isLetter && !$0.isNumber })
                .flatMap { token -> [Substring] in
                    // "IMG1234" → "IMG", "1234"
                    var parts: [Substring] = []
                    var start = token.startIndex
                    for index in token.indices.dropFirst() where token[index].isNumber != token[token.index(before: index)].isNumber {
                        parts.append(token[start..<index])
                        start = index
                    }
                    parts.append(token[start...])
                    return parts
                }
                .filter { token in !token.allSatisfy(\.isNumber) && !generic.contains(token.lowercased()) }
                .joined(separator: " ")
        }
    }

    public func run(_ job: Job) async throws -> JobOutcome {
        guard let imageID = job.imageID, let owner = job.ownerID else { throw JobFailure.permanent("The job names no image.") }
        guard let document = try await writeDocument(owner: owner, image: imageID) else { return .done }
        guard inference.isConfigured else { return .skipped("Text embeddings are off: no inference server is configured; full-text search works.") }
        guard let models = inference.servedModels else {
            throw JobFailure.waiting(InferenceError.unavailable("no inference server is healthy").description)
        }
        guard let model = models.text else {
            return .skipped("The inference service serves no text embedding model; full-text search works.")
        }
        let text = document.sentence
        guard !text.isEmpty else {
            try await database.execute("DELETE FROM image_vectors WHERE image_id = \(imageID) AND kind = 'text'")
            return .done
        }
        let reply: Vector
        do {
            let response = try await inference.embedText([text], kind: .text)
            guard let values = response.embeddings.first?.values, values.count == Int(response.dim),
                  model.dim == 0 || values.count == model.dim, values.allSatisfy(\.isFinite)
            else {
                let count = response.embeddings.first?.values.count ?? 0
                logger.error("text embedding refused", metadata: ["image_id": "\(imageID)", "values": "\(count)", "expected": "\(model.dim)"])
                throw JobFailure.permanent(
                    "The inference service returned a \(count)-value text embedding, but \(model.name) announces \(model.dim) values; the result was refused.")
            }
            reply = Vector(model: response.model.isEmpty ? model.name : response.model, values: values)
        } catch let error as InferenceError {
            switch error {
            case .unavailable: throw JobFailure.waiting(error.description)
            case .notConfigured: return .skipped(error.description)
            case .rejected: throw JobFailure.permanent(error.description)
            }
        }
        try await indexes.ensure(kind: "text", dim: reply.dim)
        try await database.transaction { transaction in
            guard try await transaction.row(
                "SELECT 1 FROM images WHERE id = \(imageID) AND owner_id = \(owner) FOR UPDATE", { _ in true }) != nil
            else { return }
            try await AnalysisRepository.upsertVector(reply, kind: "text", owner: owner, image: imageID, in: transaction)
        }
        return .done
    }

    typealias Vector = AnalysisResult.Vector

    /// Replaces the metadata tags and writes the full-text document; nil when the image is gone.
    func writeDocument(owner: UUID, image: UUID) async throws -> Document? {
        try await database.transaction { transaction in
            guard
                let row = try await transaction.row("""
                    SELECT caption, description, file_name, place_city, place_region, place_country, taken_at,
                        taken_at_offset_minutes, latitude, camera_make, camera_model
                    FROM images WHERE id = \(image) AND owner_id = \(owner) FOR UPDATE
                    """, { try $0.decode((String, String, String, String, String, String, Date?, Int32?, Double?, String, String).self) })
            else { return nil }
            let (caption, description, fileName, city, region, country, takenAt, offset, latitude, make, model) = row
            let metadata = TagPolicy.metadataTags(
                takenAt: takenAt, offsetMinutes: offset.map(Int.init), latitude: latitude, city: city, country: country,
                make: make, model: model)
            try await transaction.execute("DELETE FROM image_tags WHERE image_id = \(image) AND source = 'metadata'")
            try await transaction.execute("""
                INSERT INTO image_tags (image_id, name, source, score)
                SELECT \(image), name, 'metadata', 1 FROM unnest(\(metadata)::text[]) AS t (name)
                WHERE NOT EXISTS (SELECT 1 FROM image_suppressed_tags s WHERE s.image_id = \(image) AND s.name = t.name)
                ON CONFLICT (image_id, name) DO NOTHING
                """)
            let tags = try await transaction.rows(
                "SELECT name FROM image_tags WHERE image_id = \(image) ORDER BY score DESC, name") { try $0.decode(String.self) }
            let document = Document(
                caption: caption, description: description, tags: tags,
                place: [city, region, country].filter { !$0.isEmpty }.joined(separator: ", "),
                fileWords: Document.words(ofFileName: fileName))
            // Weights: caption A, tags and description B, place C, file name D (ts_rank favours A).
            try await transaction.execute("""
                UPDATE images SET search_document =
                    setweight(to_tsvector('english', \(document.caption)), 'A')
                    || setweight(to_tsvector('english', \(document.tags.joined(separator: ", "))), 'B')
                    || setweight(to_tsvector('english', \(document.description)), 'B')
                    || setweight(to_tsvector('english', \(document.place)), 'C')
                    || setweight(to_tsvector('english', \(document.fileWords)), 'D'),
                    text_indexed_at = now()
                WHERE id = \(image)
                """)
            return document
        }
    }
}
