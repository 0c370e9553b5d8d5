import Crypto
import Foundation
import Logging
import PhotoVaultProto
import PostgresNIO

/// Finds an owner's images by meaning, by example and by face (DESIGN §5).
///
/// A text search asks up to three signals — CLIP text-to-image similarity (when CLIP is
/// served), sentence-embedding similarity to each image's words, and PostgreSQL full text —
/// each one SQL query under the same filters, and fuses their rankings by reciprocal rank. When
/// the inference service is down the semantic signals drop out and full text still answers.
public struct ImageSearch: Sendable {
    let database: Database
    let images: ImageRepository
    let vectors: VectorSearch
    let inference: InferenceClient
    let settings: SearchSettings
    let logger: Logger

    /// The retrieval methods whose rankings are fused.
    public enum Signal: Sendable, Equatable, Hashable {
        case clip, textEmbedding, fullText
    }

    /// How one signal ranked a hit.
    public struct SignalMatch: Sendable, Equatable {
        public var signal: Signal
        /// 1-based.
        public var rank: Int
        public var score: Float
    }

    /// One result.
    public struct Hit: Sendable {
        public var image: ImageRecord
        public var score: Double
        public var signals: [SignalMatch]
    }

    /// One image where a searched face appears.
    public struct FaceHit: Sendable {
        public var image: ImageRecord
        public var faceID: UUID
        public var box: (x: Int, y: Int, width: Int, height: Int)
        public var distance: Float
    }

    /// Longest query, in characters.
    static let maximumQuery = 1000
    /// Reciprocal-rank fusion constant (Cormack et al.): dampens the weight of the very top ranks.
    static let fusionK = 60.0

    // MARK: - Text search

    /// A page of the owner's images matching `query` (and `filters`), best first.
    public func search(
        owner: UUID, query rawQuery: String, filters: SearchFilters, pageSize: Int32, pageToken: String
    ) async throws -> (hits: [Hit], nextPageToken: String) {
        let query = rawQuery.trimmingCharacters(in: .whitespacesAndNewlines)
        guard query.count <= Self.maximumQuery else {
            throw APIError.invalid("query", "is \(query.count) characters; at most \(Self.maximumQuery)")
        }
        guard !query.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalid("query", "contains control characters")
        }
        guard !query.isEmpty || !filters.isEmpty else {
            throw APIError.invalid("query", "is empty; give words to search for or at least one filter")
        }
        let size = try PageToken.pageSize(pageSize)
        let scope = Self.scope(owner: owner, parts: ["search", query, Self.canonicalJSON(filters)])
        let offset = try PageToken.offset(pageToken, scope: scope)
        try await filters.checkOwnership(owner: owner, database: database)

        var ranked: [(UUID, Double, [SignalMatch])]
        if query.isEmpty {
            ranked = try await listing(owner: owner, filters: filters, limit: offset + size + 1).map { ($0, 0, []) }
        } else {
            ranked = Self.fuse(try await signals(owner: owner, query: query, filters: filters))
        }
        let page = Array(ranked.dropFirst(offset).prefix(size))
        let next = ranked.count > offset + size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        let records = try await load(owner: owner, ids: page.map(\.0))
        return (page.compactMap { id, score, signals in records[id].map { Hit(image: $0, score: score, signals: signals) } }, next)
    }

    /// Runs every available signal, each under the filters.
    func signals(owner: UUID, query: String, filters: SearchFilters) async throws -> [Signal: [(UUID, Float)]] {
        let models = inference.servedModels
        let limit = settings.candidatesPerSignal
        async let clipRanking: [(UUID, Float)] = {
            guard let clip = models?.clip, let vector = await embed(query, kind: .clipText) else { return [] }
            return try await vectors.nearest(owner: owner, kind: "image", model: clip.name, vector: vector, filters: filters, limit: limit)
                .neighbours.filter { $0.similarity >= settings.minimumClipSimilarity }.map { ($0.image, $0.similarity) }
        }()
        async let textRanking: [(UUID, Float)] = {
            guard let text = models?.text, let vector = await embed(query, kind: .text) else { return [] }
            return try await vectors.nearest(owner: owner, kind: "text", model: text.name, vector: vector, filters: filters, limit: limit)
                .neighbours.filter { $0.similarity >= settings.minimumTextSimilarity }.map { ($0.image, $0.similarity) }
        }()
        let fullText = try await fullTextRanking(owner: owner, query: query, filters: filters, limit: limit)
        return [.clip: try await clipRanking, .textEmbedding: try await textRanking, .fullText: fullText]
    }

    /// The query's vector, or nil (and a log line) when the inference service cannot make it:
    /// search then goes on with the signals it has.
    private func embed(_ query: String, kind: Photovault_Inference_V1_TextEmbeddingKind) async -> [Float]? {
        do {
            let reply = try await inference.embedText([query], kind: kind)
            guard let values = reply.embeddings.first?.values, !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
            return values
        } catch {
            logger.warning("search goes on without a semantic signal", metadata: ["kind": "\(kind)", "error": "\(error)"])
            return nil
        }
    }

    /// Full-text matches of any of the query's words (stemmed, stop words dropped), by rank.
    func fullTextRanking(owner: UUID, query: String, filters: SearchFilters, limit: Int) async throws -> [(UUID, Float)] {
        var builder = SQLBuilder("")
        let text = try builder.bind(query)
        builder.append("""
            WITH q AS (SELECT nullif(replace(plainto_tsquery('english', \(text))::text, ' & ', ' | '), '')::tsquery AS query)
            SELECT i.id, ts_rank_cd(i.search_document, q.query, 1) FROM images i, q
            WHERE q.query IS NOT NULL AND i.owner_id = \(try builder.bind(owner)) AND i.deleted_at IS NULL
              AND i.search_document @@ q.query
            """)
        try filters.apply(to: &builder)
        builder.append(" ORDER BY 2 DESC, i.id LIMIT \(limit)")
        return try await database.rows(builder.query) { try $0.decode((UUID, Float).self) }
    }

    /// The owner's images under `filters`, newest capture first.
    func listing(owner: UUID, filters: SearchFilters, limit: Int) async throws -> [UUID] {
        var builder = SQLBuilder("SELECT i.id FROM images i WHERE i.deleted_at IS NULL AND i.owner_id = ")
        builder.append(try builder.bind(owner))
        try filters.apply(to: &builder)
        builder.append(" ORDER BY coalesce(i.taken_at, i.uploaded_at) DESC, i.id DESC LIMIT \(limit)")
        return try await database.rows(builder.query) { try $0.decode(UUID.self) }
    }

    /// Reciprocal-rank fusion: each signal adds 1 / (k + rank) for the images it ranked.
    static func fuse(_ rankings: [Signal: [(UUID, Float)]]) -> [(UUID, Double, [SignalMatch])] {
        var fused: [UUID: (Double, [SignalMatch])] = [:]
        for (signal, ranking) in rankings {
            for (index, (image, score)) in ranking.enumerated() {
                let rank = index + 1
                fused[image, default: (0, [])].0 += 1 / (fusionK + Double(rank))
                fused[image, default: (0, [])].1.append(SignalMatch(signal: signal, rank: rank, score: score))
            }
        }
        return fused
            .map { image, entry in (image, entry.0, entry.1.sorted { $0.rank < $1.rank }) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.uuidString < $1.0.uuidString }
    }

    // MARK: - Similar images

    /// The owner's images that look like `image` (CLIP), most similar first, without itself.
    public func similar(owner: UUID, image: UUID, pageSize: Int32, pageToken: String) async throws -> (hits: [Hit], nextPageToken: String) {
        let size = try PageToken.pageSize(pageSize)
        let scope = Self.scope(owner: owner, parts: ["similar", image.lowercased])
        let offset = try PageToken.offset(pageToken, scope: scope)
        guard try await database.row("SELECT 1 FROM images WHERE id = \(image) AND owner_id = \(owner)", { _ in true }) != nil else {
            throw APIError.notFound("Image \(image.lowercased)")
        }
        guard
            let (model, text) = try await database.row(
                "SELECT model, embedding::text FROM image_vectors WHERE image_id = \(image) AND owner_id = \(owner) AND kind = 'image'",
                { try $0.decode((String, String).self) })
        else {
            throw APIError.failedPrecondition(
                "Image \(image.lowercased) has no image embedding yet: its analysis is pending, or no CLIP model is served.")
        }
        let neighbours = try await vectors.nearest(
            owner: owner, kind: "image", model: model, vector: VectorText.parse(text), excluding: image,
            limit: min(settings.candidatesPerSignal, 1000)).neighbours
        let page = Array(neighbours.dropFirst(offset).prefix(size))
        let next = neighbours.count > offset + size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        let records = try await load(owner: owner, ids: page.map(\.image))
        return (page.enumerated().compactMap { index, neighbour in
            records[neighbour.image].map {
                Hit(image: $0, score: Double(neighbour.similarity),
                    signals: [SignalMatch(signal: .clip, rank: offset + index + 1, score: neighbour.similarity)])
            }
        }, next)
    }

    // MARK: - Faces

    /// Whose faces a face search compares with: an owner's library, or one shared event's images.
    public enum FaceScope: Sendable {
        case library(owner: UUID)
        case event(SharedEvent)

        /// The owner of every image searched.
        var owner: UUID {
            switch self {
            case .library(let owner): owner
            case .event(let shared): shared.ownerID
            }
        }
    }

    /// Which face of a photo is searched for.
    public enum FaceChoice: Sendable {
        /// The largest clear face: an owner searching their own library with any photo.
        case largest
        /// The only clear face, refused when there are several: a guest must not search for
        /// someone else standing beside them.
        case onlyOne
    }

    /// The owner's images showing the largest face in `photo`, closest first. The photo is
    /// analysed in memory and never stored.
    public func byFace(
        owner: UUID, photo: [UInt8], pageSize: Int32, pageToken: String
    ) async throws -> (hits: [FaceHit], queryFace: (x: Int, y: Int, width: Int, height: Int), nextPageToken: String) {
        try await byFace(in: .library(owner: owner), photo: photo, field: "image", choice: .largest, pageSize: pageSize, pageToken: pageToken)
    }

    /// The images in `scope` showing the chosen face of `photo` (the request field `field`),
    /// closest first, each with its best-matching face. The photo is analysed in memory and
    /// never stored.
    public func byFace(
        in scope: FaceScope, photo: [UInt8], field: String, choice: FaceChoice, pageSize: Int32, pageToken: String
    ) async throws -> (hits: [FaceHit], queryFace: (x: Int, y: Int, width: Int, height: Int), nextPageToken: String) {
        let size = try PageToken.pageSize(pageSize)
        guard !photo.isEmpty else { throw APIError.invalid(field, "is empty; send a photo showing one face") }
        let digest = SHA256.hash(data: photo).map { String(format: "%02x", $0) }.joined()
        let tokenScope: String
        let event: Int64?
        switch scope {
        case .library(let owner):
            (tokenScope, event) = (Self.scope(owner: owner, parts: ["face", digest]), nil)
        case .event(let shared):
            (tokenScope, event) = (Self.scope(owner: shared.ownerID, parts: ["event-face", String(shared.eventID), digest]), shared.eventID)
        }
        let offset = try PageToken.offset(pageToken, scope: tokenScope)
        let face = try await face(in: photo, field: field, choice: choice)
        let owner = scope.owner
        // With an event, only its images count; the owner condition stays so that an event id
        // can never reach another user's faces.
        let rows = try await database.rows("""
            SELECT image_id, id, box_x, box_y, box_width, box_height, distance FROM (
                SELECT DISTINCT ON (f.image_id) f.image_id, f.id, f.box_x, f.box_y, f.box_width, f.box_height,
                    (f.descriptor <-> \(VectorText.literal(face.descriptor))::vector) AS distance
                FROM faces f JOIN images i ON i.id = f.image_id AND i.deleted_at IS NULL
                WHERE f.owner_id = \(owner) AND i.owner_id = \(owner) AND (\(event)::bigint IS NULL OR i.event_id = \(event))
                  AND f.model = \(face.model) AND f.dim = \(Int32(face.descriptor.count))
                ORDER BY f.image_id, distance) AS best
            WHERE distance <= \(Double(settings.faceMatchDistance))
            ORDER BY distance, image_id
            LIMIT \(Int32(offset + size + 1))
            """) { try $0.decode((UUID, UUID, Int32, Int32, Int32, Int32, Double).self) }
        let page = Array(rows.dropFirst(offset).prefix(size))
        let records = try await load(owner: owner, ids: page.map(\.0))
        let hits = page.compactMap { row in
            records[row.0].map {
                FaceHit(image: $0, faceID: row.1, box: (Int(row.2), Int(row.3), Int(row.4), Int(row.5)), distance: Float(row.6))
            }
        }
        let next = rows.count > offset + size ? PageToken.encode(scope: tokenScope, values: [String(offset + size)]) : ""
        return (hits, face.box, next)
    }

    /// The face of `photo` chosen by `choice`, as the inference service finds it, with its descriptor.
    func face(
        in photo: [UInt8], field: String, choice: FaceChoice
    ) async throws -> (descriptor: [Float], model: String, box: (x: Int, y: Int, width: Int, height: Int)) {
        let faceModel = try inference.requireModel(\.faces, for: "Face search")
        let response: Photovault_Inference_V1_AnalyzeResponse
        do {
            response = try await inference.analyze(.with {
                $0.image = Data(photo)
                $0.tasks = [.faces]
            })
        } catch {
            throw error.apiError(refusedField: field, because: "could not be read as a photo")
        }
        // Only certain detections, about as confident as the best one, count: a weak detection
        // (a pattern on a shirt, 0.52 on the astronaut's suit) should neither win over a clear
        // face nor make a selfie read as a group photo.
        let certain = response.faces.filter { $0.detectionScore >= settings.minimumFaceScore }
        let best = certain.map(\.detectionScore).max() ?? 0
        let clear = certain.filter { $0.detectionScore >= best * 0.7 }
        let chosen: Photovault_Inference_V1_Face
        switch choice {
        case .largest:
            guard let largest = clear.max(by: { $0.box.width * $0.box.height < $1.box.width * $1.box.height }) else {
                throw APIError.invalid(field, "shows no face that could be found; send a photo where a face is clearly visible")
            }
            chosen = largest
        case .onlyOne:
            guard let only = clear.first else {
                throw APIError.invalid(field, "could not be used: no face found; send a photo where your face is clearly visible")
            }
            guard clear.count == 1 else { throw APIError.invalid(field, "could not be used: several faces, send a photo with one") }
            chosen = only
        }
        guard chosen.descriptor.count == faceModel.dim || faceModel.dim == 0, chosen.descriptor.allSatisfy(\.isFinite) else {
            throw APIError.unavailable("The inference service returned a face descriptor of an unexpected length.")
        }
        let box = (Int(chosen.box.x.rounded()), Int(chosen.box.y.rounded()), Int(chosen.box.width.rounded()), Int(chosen.box.height.rounded()))
        return (chosen.descriptor, chosen.model.isEmpty ? faceModel.name : chosen.model, box)
    }

    // MARK: - Helpers

    /// The owner's live images by id, with tags and stages.
    private func load(owner: UUID, ids: [UUID]) async throws -> [UUID: ImageRecord] {
        Dictionary(uniqueKeysWithValues: try await images.find(owner: owner, ids: ids).map { ($0.id, $0) })
    }

    /// A page token's scope: the owner and the request, hashed, so a token is refused with any
    /// other query, filters or user.
    static func scope(owner: UUID, parts: [String]) -> String {
        let digest = SHA256.hash(data: Data(([owner.lowercased] + parts).joined(separator: "\u{1F}").utf8))
        return "s:" + Data(digest).prefix(12).base64EncodedString()
    }

    /// The filters as JSON with sorted keys, so equal filters always give the same scope.
    static func canonicalJSON(_ filters: SearchFilters) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(filters)) ?? Data(), as: UTF8.self)
    }
}
