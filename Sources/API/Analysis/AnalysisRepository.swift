import Foundation
import PostgresNIO
import Synchronization

/// SQL of the AI pipeline: what an analysis needs to know about an image, and storing what it
/// found (vectors, caption, tags, faces, the text document). Every method takes the owner.
struct AnalysisRepository: Sendable {
    let database: Database
    let indexes: VectorIndexes

    /// What analysing an image needs.
    struct Target: Sendable {
        var previewKey: String?
        var width: Int
        var height: Int
        var previewWidth: Int
        var previewHeight: Int
        var captionByOwner: Bool
    }

    func target(owner: UUID, image: UUID) async throws -> Target? {
        try await database.row("""
            SELECT preview_key, width, height, coalesce(preview_width, 0), coalesce(preview_height, 0), caption_by_owner
            FROM images WHERE id = \(image) AND owner_id = \(owner)
            """) { row in
            let (key, width, height, previewWidth, previewHeight, byOwner) = try row.decode((String?, Int32, Int32, Int32, Int32, Bool).self)
            return Target(
                previewKey: key, width: Int(width), height: Int(height), previewWidth: Int(previewWidth),
                previewHeight: Int(previewHeight), captionByOwner: byOwner)
        }
    }

    /// Stores one analysis in one transaction. A caption the owner wrote, and AI tags the owner
    /// removed, are left alone; faces already found by the same model are kept (with whatever
    /// people they were assigned to).
    func store(_ result: AnalysisResult, owner: UUID, image: UUID, facesServed: Bool) async throws {
        if let embedding = result.imageEmbedding { try await indexes.ensure(kind: "image", dim: embedding.dim) }
        try await database.transaction { transaction in
            guard try await transaction.row(
                "SELECT 1 FROM images WHERE id = \(image) AND owner_id = \(owner) FOR UPDATE", { _ in true }) != nil
            else { return }
            if let embedding = result.imageEmbedding {
                try await Self.upsertVector(embedding, kind: "image", owner: owner, image: image, in: transaction)
            }
            if let caption = result.caption {
                try await transaction.execute("""
                    UPDATE images SET caption = \(caption.text), caption_model = \(caption.model), updated_at = now()
                    WHERE id = \(image) AND NOT caption_by_owner
                    """)
            }
            if let tags = result.tags {
                try await transaction.execute("DELETE FROM image_tags WHERE image_id = \(image) AND source = 'ai'")
                try await transaction.execute("""
                    INSERT INTO image_tags (image_id, name, source, score)
                    SELECT \(image), name, 'ai', score FROM unnest(\(tags.map(\.name))::text[], \(tags.map(\.score))::real[]) AS t (name, score)
                    WHERE NOT EXISTS (SELECT 1 FROM image_suppressed_tags s WHERE s.image_id = \(image) AND s.name = t.name)
                    ON CONFLICT (image_id, name) DO NOTHING
                    """)
            }
            if let faces = result.faces, let model = result.faceModel {
                let existing = try await transaction.rows(
                    "SELECT DISTINCT model FROM faces WHERE image_id = \(image)") { try $0.decode(String.self) }
                if existing != [model] {
                    try await transaction.execute("DELETE FROM faces WHERE image_id = \(image)")
                    for face in faces {
                        try await transaction.execute("""
                            INSERT INTO faces (id, image_id, owner_id, box_x, box_y, box_width, box_height, landmarks,
                                detection_score, blur_variance, too_small, too_blurry, model, dim, descriptor)
                            VALUES (\(UUID()), \(image), \(owner), \(Int32(face.x)), \(Int32(face.y)), \(Int32(face.width)),
                                \(Int32(face.height)), \(face.landmarks)::real[], \(face.detectionScore), \(face.blurVariance),
                                \(face.tooSmall), \(face.tooBlurry), \(model), \(Int32(face.descriptor.dim)),
                                \(VectorText.literal(face.descriptor.values))::vector)
                            """)
                    }
                }
                try await transaction.execute("""
                    UPDATE images SET face_count = (SELECT count(*) FROM faces WHERE image_id = \(image)), updated_at = now()
                    WHERE id = \(image)
                    """)
            }
            if result.faces != nil {
                try await ImageStages.set(image, stage: .faces, state: "done", error: "", in: transaction)
            } else if !facesServed {
                try await ImageStages.set(
                    image, stage: .faces, state: "skipped", error: "No face model is served.", in: transaction)
            }
        }
    }

    /// Marks the faces stage skipped, with why.
    func skipFaces(image: UUID, reason: String) async throws {
        try await database.transaction { transaction in
            try await ImageStages.set(image, stage: .faces, state: "skipped", error: reason, in: transaction)
        }
    }

    static func upsertVector(
        _ vector: AnalysisResult.Vector, kind: String, owner: UUID, image: UUID, in transaction: Transaction
    ) async throws {
        try await transaction.execute("""
            INSERT INTO image_vectors (image_id, owner_id, kind, model, dim, embedding)
            VALUES (\(image), \(owner), \(kind), \(vector.model), \(Int32(vector.dim)), \(VectorText.literal(vector.values))::vector)
            ON CONFLICT (image_id, kind) DO UPDATE
            SET model = excluded.model, dim = excluded.dim, embedding = excluded.embedding, updated_at = now()
            """)
    }
}

/// The partial HNSW indexes over `image_vectors`, one per (kind, length), created the first
/// time a vector of that length is stored (m 16, ef_construction 200, cosine distance).
///
/// Searches use the index through the same cast expression (`embedding::vector(512)`), which
/// is why the length is part of the SQL text; it comes from a model's announced length, never
/// from a request.
public final class VectorIndexes: Sendable {
    let database: Database
    private let known = Mutex<Set<String>>([])

    public init(database: Database) {
        self.database = database
    }

    static func name(kind: String, dim: Int) -> String { "image_vectors_\(kind)_\(dim)_hnsw" }

    /// Creates the index for vectors of `kind` and length `dim` unless it exists.
    public func ensure(kind: String, dim: Int) async throws {
        precondition(["image", "text"].contains(kind) && dim > 0)
        let name = Self.name(kind: kind, dim: dim)
        if known.withLock({ $0.contains(name) }) { return }
        do {
            try await database.execute("""
                CREATE INDEX IF NOT EXISTS \(unescaped: name) ON image_vectors
                USING hnsw ((embedding::vector(\(unescaped: String(dim)))) vector_cosine_ops) WITH (m = 16, ef_construction = 200)
                WHERE kind = '\(unescaped: kind)' AND dim = \(unescaped: String(dim))
                """)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" || error.serverInfo?[.sqlState] == "42P07" {
            // Another replica created it at the same moment.
        }
        known.withLock { _ = $0.insert(name) }
    }
}
