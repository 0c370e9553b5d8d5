import Foundation
import Logging
import PostgresNIO

/// Keeps stored vectors in step with the served models. When the inference service starts
/// serving another model for a task (or a model appears that was missing), ``modelsSeen(_:)``
/// records it and queues a ``ReindexJob``, which queues analysis for every image whose vectors
/// were made by another model, or are missing although the model is now there.
public struct Reindexing: Sendable {
    let database: Database
    let logger: Logger

    /// Records the served models; queues a re-index when they differ from the last ones seen.
    public func modelsSeen(_ models: ServedModels) async throws {
        let current: [String: ServedModels.Model] = [
            "image": models.clip, "text": models.text, "caption": models.caption, "faces": models.faces,
        ].compactMapValues { $0 }
        try await database.transaction { transaction in
            // Replicas starting together see the same models; one at a time records them.
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended('photovault.served_models', 0))")
            let recorded = try await transaction.rows("SELECT task, model, dim FROM served_models") { row in
                let (task, model, dim) = try row.decode((String, String, Int32).self)
                return (task, ServedModels.Model(name: model, dim: Int(dim)))
            }
            let previous = Dictionary(recorded, uniquingKeysWith: { first, _ in first })
            guard previous != current else { return }
            try await transaction.execute("DELETE FROM served_models")
            for (task, model) in current {
                try await transaction.execute("""
                    INSERT INTO served_models (task, model, dim) VALUES (\(task), \(model.name), \(Int32(model.dim)))
                    """)
            }
            let waiting = try await transaction.row(
                "SELECT 1 FROM jobs WHERE kind = \(Pipeline.reindex) AND state IN ('queued', 'failed')", { _ in true }) ?? false
            if !waiting { try await JobQueue.enqueue(Pipeline.reindex, imageID: nil, ownerID: nil, in: transaction) }
            logger.notice("served models changed; stored vectors will be brought up to date", metadata: ["models": "\(models)"])
        }
    }
}

/// Queues `analyze` for images whose image vector is missing or from another model than the
/// served CLIP, and `text_index` for images whose text vector is from another text model or
/// missing although they have words; in batches, until none is left.
public struct ReindexJob: JobHandler {
    public let kind = Pipeline.reindex
    let database: Database
    let logger: Logger
    static let batch = 500

    public func run(_ job: Job) async throws -> JobOutcome {
        let models = try await database.rows("SELECT task, model, dim FROM served_models") { row in
            try row.decode((String, String, Int32).self)
        }
        let served = Dictionary(models.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { first, _ in first })
        var queued = 0
        if let (model, dim) = served["image"] {
            queued += try await queue(Pipeline.analyze, """
                SELECT i.id, i.owner_id FROM images i
                LEFT JOIN image_vectors v ON v.image_id = i.id AND v.kind = 'image'
                WHERE i.preview_key IS NOT NULL AND (v.image_id IS NULL OR v.model <> $1 OR v.dim <> $2)
                """, model: model, dim: dim)
        }
        if let (model, dim) = served["text"] {
            queued += try await queue(Pipeline.textIndex, """
                SELECT i.id, i.owner_id FROM images i
                LEFT JOIN image_vectors v ON v.image_id = i.id AND v.kind = 'text'
                WHERE i.text_indexed_at IS NOT NULL
                  AND (v.image_id IS NOT NULL AND (v.model <> $1 OR v.dim <> $2)
                       OR v.image_id IS NULL AND (i.caption <> '' OR i.description <> ''
                           OR EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id)))
                """, model: model, dim: dim)
        }
        if queued > 0 { logger.notice("re-index queued", metadata: ["images": "\(queued)"]) }
        return .done
    }

    /// Queues `kind` for the rows `candidates` selects (id, owner_id; $1 model, $2 dim) that have
    /// no live job of that kind yet, a batch per transaction.
    private func queue(_ kind: String, _ candidates: String, model: String, dim: Int32) async throws -> Int {
        var total = 0
        var after = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        while true {
            var builder = SQLBuilder("SELECT id, owner_id FROM (\(candidates)) AS candidate WHERE id > ")
            _ = try builder.bind(model)
            _ = try builder.bind(dim)
            builder.append(try builder.bind(after))
            builder.append(" ORDER BY id LIMIT \(Self.batch)")
            let rows = try await database.rows(builder.query) { try $0.decode((UUID, UUID).self) }
            guard let last = rows.last else { break }
            try await database.transaction { transaction in
                for (image, owner) in rows {
                    try await JobQueue.enqueue(kind, imageID: image, ownerID: owner, in: transaction)
                }
            }
            total += rows.count
            after = last.0
        }
        return total
    }
}
