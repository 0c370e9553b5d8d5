import Foundation
import Logging
import PostgresNIO

/// Puts an image in a duplicate set with the owner's near-identical images: CLIP cosine
/// distance at most ``maximumDistance`` between image embeddings of the same model, or, where
/// either image has no embedding, an equal perceptual hash of the upright thumbnail.
///
/// Sets only grow and merge here; an image that leaves (deleted) simply stops counting.
public struct DuplicatesJob: JobHandler {
    public let kind = Pipeline.duplicates
    let database: Database
    let logger: Logger
    /// Cosine distance under which two images are the same picture (re-encoded, resized).
    static let maximumDistance = 0.01

    public func run(_ job: Job) async throws -> JobOutcome {
        guard let imageID = job.imageID, let owner = job.ownerID else { throw JobFailure.permanent("The job names no image.") }
        try await database.transaction { transaction in
            // One owner's sets change one job at a time, so two images joining at once cannot
            // each found a set of their own.
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(owner.lowercased), 7))")
            guard
                let (hash, setID) = try await transaction.row(
                    "SELECT perceptual_hash, duplicate_set_id FROM images WHERE id = \(imageID) AND owner_id = \(owner) AND deleted_at IS NULL",
                    { try $0.decode((Int64?, UUID?).self) })
            else { return }
            let byEmbedding = try await transaction.rows("""
                SELECT other.image_id FROM image_vectors mine
                JOIN image_vectors other ON other.owner_id = mine.owner_id AND other.kind = 'image'
                    AND other.model = mine.model AND other.dim = mine.dim AND other.image_id <> mine.image_id
                JOIN images i ON i.id = other.image_id AND i.deleted_at IS NULL
                WHERE mine.image_id = \(imageID) AND mine.kind = 'image' AND mine.owner_id = \(owner)
                  AND (other.embedding <=> mine.embedding) <= \(Self.maximumDistance)
                """) { try $0.decode(UUID.self) }
            var byHash: [UUID] = []
            if let hash {
                byHash = try await transaction.rows("""
                    SELECT i.id FROM images i
                    WHERE i.owner_id = \(owner) AND i.perceptual_hash = \(hash) AND i.id <> \(imageID) AND i.deleted_at IS NULL
                      AND (NOT EXISTS (SELECT 1 FROM image_vectors v WHERE v.image_id = \(imageID) AND v.kind = 'image')
                           OR NOT EXISTS (SELECT 1 FROM image_vectors v WHERE v.image_id = i.id AND v.kind = 'image'))
                    """) { try $0.decode(UUID.self) }
            }
            let matches = Array(Set(byEmbedding + byHash))
            guard !matches.isEmpty else { return }
            let sets = try await transaction.rows("""
                SELECT DISTINCT duplicate_set_id FROM images
                WHERE id = ANY(\(matches)) AND owner_id = \(owner) AND duplicate_set_id IS NOT NULL
                """) { try $0.decode(UUID.self) } + (setID.map { [$0] } ?? [])
            // The oldest set id survives, so a set keeps its id as it grows.
            let survivor = sets.min { $0.uuidString < $1.uuidString } ?? UUID()
            try await transaction.execute("""
                UPDATE images SET duplicate_set_id = \(survivor)
                WHERE owner_id = \(owner) AND (id = ANY(\(matches + [imageID])) OR duplicate_set_id = ANY(\(sets)))
                """)
            logger.debug("duplicates found", metadata: ["image_id": "\(imageID)", "matches": "\(matches.count)"])
        }
        return .done
    }
}
