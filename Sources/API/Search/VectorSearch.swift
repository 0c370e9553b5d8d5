import Foundation
import PostgresNIO

/// Nearest neighbours among one owner's vectors, with the recall of an exact search.
///
/// HNSW indexes span every owner, and pgvector filters by owner after the index scan: a scan
/// that visits `ef_search` candidates finds only about `ef_search × share` of an owner whose
/// share of the table is small. So: owners with at most `exactLimit` vectors, and searches with
/// filters, are searched exactly (a sequential scan of that owner's rows, fast at that size);
/// larger owners use the index with `ef_search` raised in proportion to how much of the table
/// is theirs, and exactly again when that would exceed 1,000.
public struct VectorSearch: Sendable {
    let database: Database
    let settings: SearchSettings

    public init(database: Database, settings: SearchSettings) {
        self.database = database
        self.settings = settings
    }

    /// One neighbour and its cosine similarity (1 is identical).
    public struct Neighbour: Sendable, Equatable {
        public var image: UUID
        public var similarity: Float
    }

    /// How a search was done, for tests and logs.
    public enum Method: Sendable, Equatable {
        case exact
        case index(efSearch: Int)
    }

    /// The owner's `limit` nearest images to `vector` among vectors of `kind` made by `model`.
    public func nearest(
        owner: UUID, kind: String, model: String, vector: [Float], filters: SearchFilters = SearchFilters(),
        excluding: UUID? = nil, limit: Int
    ) async throws -> (neighbours: [Neighbour], method: Method) {
        precondition(["image", "text"].contains(kind))
        let dim = vector.count
        let method = try await method(owner: owner, kind: kind, model: model, dim: dim, limit: limit, filtered: !filters.isEmpty)
        let literal = VectorText.literal(vector)
        var builder = SQLBuilder("")
        let q = try builder.bind(literal)
        // The index's expression and predicate are spelt out literally (kind and dim are ours, not
        // the caller's) so that the planner can use it; the exact form avoids it on purpose.
        let distance = switch method {
        case .exact: "(v.embedding <=> \(q)::vector)"
        case .index: "(v.embedding::vector(\(dim)) <=> \(q)::vector(\(dim)))"
        }
        builder.append("""
            SELECT v.image_id, 1 - \(distance) FROM image_vectors v JOIN images i ON i.id = v.image_id
            WHERE v.kind = '\(kind)' AND v.dim = \(dim) AND v.owner_id = \(try builder.bind(owner))
              AND v.model = \(try builder.bind(model)) AND i.owner_id = v.owner_id AND i.deleted_at IS NULL
            """)
        if let excluding { builder.append(" AND v.image_id <> \(try builder.bind(excluding))") }
        try filters.apply(to: &builder)
        builder.append(" ORDER BY \(distance) LIMIT \(limit)")
        let query = builder.query
        let neighbours = try await database.transaction { transaction in
            if case .index(let ef) = method {
                try await transaction.execute("SELECT set_config('hnsw.ef_search', \(String(ef)), true)")
            }
            return try await transaction.rows(query) { row in
                let (image, similarity) = try row.decode((UUID, Double).self)
                return Neighbour(image: image, similarity: Float(similarity))
            }
        }
        return (neighbours, method)
    }

    /// Exact below the size threshold or with filters; otherwise the index with an `ef_search`
    /// large enough to leave `limit` of this owner's rows after filtering.
    func method(owner: UUID, kind: String, model: String, dim: Int, limit: Int, filtered: Bool) async throws -> Method {
        if filtered { return .exact }
        let mine = try await database.row(
            "SELECT count(*) FROM image_vectors WHERE owner_id = \(owner) AND kind = \(kind) AND model = \(model) AND dim = \(Int32(dim))",
            { try $0.decode(Int64.self) }) ?? 0
        guard mine > Int64(settings.exactLimit) else { return .exact }
        let total = try await database.row(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = \(VectorIndexes.name(kind: kind, dim: dim))",
            { try $0.decode(Int64.self) }) ?? 0
        // Statistics not gathered yet: the table is new, and an exact search is safe.
        guard total > 0 else { return .exact }
        let share = min(1, Double(mine) / Double(max(total, mine)))
        let needed = Int((Double(limit) / share * 1.5).rounded(.up))
        guard needed <= 1000 else { return .exact }
        return .index(efSearch: min(1000, max(needed, settings.efSearch, limit)))
    }
}

/// How search ranks and where it draws the line.
public struct SearchSettings: Sendable, Equatable {
    /// Owners with at most this many vectors of a kind are searched exactly.
    public var exactLimit = 20_000
    /// `hnsw.ef_search` for index scans (raised further for owners with a small share).
    public var efSearch = 100
    /// Least cosine similarity of a query's sentence embedding to an image's text that counts as a match.
    public var minimumTextSimilarity: Float = 0.2
    /// Least CLIP text-to-image cosine similarity that counts as a match.
    public var minimumClipSimilarity: Float = 0.2
    /// Most Euclidean distance between face descriptors that counts as the same person. dlib
    /// documents 0.6 for telling two photos apart; searching a whole gallery for one face meets
    /// many strangers, and at 0.6 some come through (scikit-image's cameraman matches the
    /// astronaut at 0.56), which a guest must never see. 0.5, as for clustering.
    public var faceMatchDistance: Float = 0.5
    /// Faces in a searched photo detected less certainly are ignored (the clustering minimum:
    /// `PHOTOVAULT_FACE_MIN_SCORE` sets both).
    public var minimumFaceScore: Float = ClusteringSettings.dlib.minDetectionScore
    /// Candidates each signal contributes before fusion.
    public var candidatesPerSignal = 200

    public init() {}
}
