import Foundation
import Media
import PostgresNIO

/// SQL over `images`, `image_tags` and `image_stages`. Every method takes the owner, so a
/// handler cannot forget to scope a query: another user's id reads as not found.
struct ImageRepository: Sendable {
    let database: Database

    /// One of the owner's images, with tags and stages; nil when absent or someone else's.
    func find(owner: UUID, id: UUID) async throws -> ImageRecord? {
        guard let record = try await database.row(
            "SELECT \(unescaped: ImageRecord.columns) FROM images WHERE id = \(id) AND owner_id = \(owner)",
            ImageRecord.init(row:))
        else { return nil }
        return try await withDetails([record]).first
    }

    /// The owner's images among `ids` that are not in the trash, with tags and stages, in no order.
    func find(owner: UUID, ids: [UUID]) async throws -> [ImageRecord] {
        guard !ids.isEmpty else { return [] }
        let records = try await database.rows(
            "SELECT \(unescaped: ImageRecord.columns) FROM images WHERE id = ANY(\(ids)) AND owner_id = \(owner) AND deleted_at IS NULL",
            ImageRecord.init(row:))
        return try await withDetails(records)
    }

    /// The owner's image with these exact bytes, if any.
    func find(owner: UUID, sha256: [UInt8], in transaction: Transaction? = nil) async throws -> ImageRecord? {
        let hash = Data(sha256)
        let query: PostgresQuery = try "SELECT \(unescaped: ImageRecord.columns) FROM images WHERE owner_id = \(owner) AND sha256 = \(hash)"
        let record: ImageRecord?
        if let transaction { record = try await transaction.row(query, ImageRecord.init(row:)) } else {
            record = try await database.row(query, ImageRecord.init(row:))
        }
        guard let record else { return nil }
        return try await withDetails([record]).first
    }

    /// Fills in tags and stages for `records`, two queries for all of them.
    func withDetails(_ records: [ImageRecord]) async throws -> [ImageRecord] {
        guard !records.isEmpty else { return [] }
        let ids = records.map(\.id)
        let tags = try await database.rows(
            "SELECT image_id, name, source, score FROM image_tags WHERE image_id = ANY(\(ids)) ORDER BY score DESC, name"
        ) { row in
            let (image, name, source, score) = try row.decode((UUID, String, String, Float).self)
            return (image, ImageRecord.Tag(name: name, source: source, score: score))
        }
        let stages = try await database.rows(
            "SELECT image_id, stage, state, error, updated_at FROM image_stages WHERE image_id = ANY(\(ids))"
        ) { row in
            let (image, stage, state, error, updated) = try row.decode((UUID, String, String, String, Date).self)
            return (image, ImageRecord.Stage(stage: stage, state: state, error: error, updatedAt: updated))
        }
        let order = Dictionary(uniqueKeysWithValues: Pipeline.Stage.allCases.enumerated().map { ($1.rawValue, $0) })
        return records.map { record in
            var record = record
            record.tags = tags.filter { $0.0 == record.id }.map(\.1)
            record.stages = stages.filter { $0.0 == record.id }.map(\.1).sorted { (order[$0.stage] ?? 99) < (order[$1.stage] ?? 99) }
            return record
        }
    }

    /// Inserts a new image with its first stages, in the upload's transaction.
    func insert(_ image: NewImage, in transaction: Transaction) async throws {
        let exif = image.probe.exif
        try await transaction.execute("""
            INSERT INTO images (
                id, owner_id, file_name, format, byte_size, sha256, width, height, orientation,
                taken_at, taken_at_offset_minutes, file_taken_at, file_taken_at_offset_minutes, has_exif,
                camera_make, camera_model, lens, f_number, exposure_time, iso, focal_length,
                latitude, longitude, altitude, event_id, data_key_version, original_key)
            VALUES (
                \(image.id), \(image.owner), \(image.fileName), \(image.probe.format.rawValue), \(image.byteSize), \(Data(image.sha256)),
                \(Int32(image.probe.width)), \(Int32(image.probe.height)), \(Int32(image.probe.orientation)),
                \(exif?.takenAt), \(exif?.takenAtOffsetMinutes.map(Int32.init)), \(exif?.takenAt), \(exif?.takenAtOffsetMinutes.map(Int32.init)),
                \(exif != nil), \(exif?.make ?? ""), \(exif?.model ?? ""), \(exif?.lens ?? ""), \(exif?.fNumber ?? 0),
                \(exif?.exposureTimeSeconds ?? 0), \(Int32(clamping: exif?.iso ?? 0)), \(exif?.focalLengthMM ?? 0),
                \(exif?.latitude), \(exif?.longitude), \(exif?.altitudeM), \(image.eventID),
                \(Int32(image.keyVersion)), \(image.originalKey))
            """)
        for (stage, state) in Pipeline.stagesAtUpload {
            try await transaction.execute("""
                INSERT INTO image_stages (image_id, stage, state) VALUES (\(image.id), \(stage.rawValue), \(state))
                """)
        }
    }

    /// Filters and order of a listing.
    struct Listing {
        var takenFrom: Date?
        var takenBefore: Date?
        var hasGPS: Bool?
        var format: ImageFormat?
        var eventID: Int64?
        var trash: Trash = .exclude
        var order: Order = .takenDescending

        enum Trash: String { case exclude, include, only }
        enum Order: String { case takenDescending, takenAscending, uploadedDescending }

        /// Identifies the query, so a page token is refused with other filters.
        var scope: String {
            ["images", takenFrom.map { "\($0.timeIntervalSince1970)" } ?? "", takenBefore.map { "\($0.timeIntervalSince1970)" } ?? "",
             hasGPS.map { "\($0)" } ?? "", format?.rawValue ?? "", eventID.map { "\($0)" } ?? "", trash.rawValue, order.rawValue]
                .joined(separator: "|")
        }
    }

    /// A page of the owner's images after the keyset `cursor` (sort time in microseconds since
    /// 1970, id), each with its own sort time for the next cursor. Integer microseconds keep the
    /// keyset exact; a Double round trip could repeat or skip a row.
    func list(owner: UUID, _ listing: Listing, after cursor: (Int64, UUID)?, limit: Int) async throws -> [(ImageRecord, Int64)] {
        let sortKey = listing.order == .uploadedDescending ? "uploaded_at" : "coalesce(taken_at, uploaded_at)"
        var sql = SQLBuilder(
            "SELECT \(ImageRecord.columns), (extract(epoch FROM \(sortKey)) * 1000000)::bigint AS sort_us FROM images WHERE owner_id = ")
        sql.append(try sql.bind(owner))
        switch listing.trash {
        case .exclude: sql.append(" AND deleted_at IS NULL")
        case .include: break
        case .only: sql.append(" AND deleted_at IS NOT NULL")
        }
        if let from = listing.takenFrom { sql.append(" AND coalesce(taken_at, uploaded_at) >= \(try sql.bind(from))") }
        if let before = listing.takenBefore { sql.append(" AND coalesce(taken_at, uploaded_at) < \(try sql.bind(before))") }
        if let hasGPS = listing.hasGPS { sql.append(hasGPS ? " AND latitude IS NOT NULL" : " AND latitude IS NULL") }
        if let format = listing.format { sql.append(" AND format = \(try sql.bind(format.rawValue))") }
        if let event = listing.eventID { sql.append(" AND event_id = \(try sql.bind(event))") }
        let descending = listing.order != .takenAscending
        if let (time, id) = cursor {
            sql.append(" AND (\(sortKey), id) \(descending ? "<" : ">") (timestamptz 'epoch' + \(try sql.bind(time)) * interval '1 microsecond', \(try sql.bind(id)))")
        }
        let direction = descending ? "DESC" : "ASC"
        sql.append(" ORDER BY \(sortKey) \(direction), id \(direction) LIMIT \(try sql.bind(Int32(limit)))")
        let rows = try await database.rows(sql.query) { row in
            (try ImageRecord(row: row), try row.makeRandomAccess()["sort_us"].decode(Int64.self))
        }
        let detailed = try await withDetails(rows.map(\.0))
        return zip(detailed, rows.map(\.1)).map { ($0, $1) }
    }
}

/// What an upload stores.
struct NewImage: Sendable {
    var id: UUID
    var owner: UUID
    var fileName: String
    var byteSize: Int64
    var sha256: [UInt8]
    var probe: ImageProbe
    var eventID: Int64?
    var keyVersion: UInt32
    var originalKey: String
}
