import Foundation
import PostgresNIO

/// SQL over `albums` and `album_images`. Every method takes the owner, so another user's album
/// or image reads as not found.
struct AlbumRepository: Sendable {
    let database: Database

    /// Whether the owner has this (live) album.
    func exists(owner: UUID, id: UUID) async throws -> Bool {
        try await database.row(
            "SELECT 1 FROM albums WHERE id = \(id) AND owner_id = \(owner) AND deleted_at IS NULL", { _ in true }) ?? false
    }

    /// One of the owner's live albums with its figures.
    func find(owner: UUID, id: UUID, in transaction: Transaction? = nil) async throws -> Album? {
        let query: PostgresQuery = "\(unescaped: Album.select) WHERE a.id = \(id) AND a.owner_id = \(owner) AND a.deleted_at IS NULL"
        if let transaction { return try await transaction.row(query, Album.init(row:)) }
        return try await database.row(query, Album.init(row:))
    }

    /// Locks one of the owner's live albums for a change; its kind, nil when absent.
    static func lock(owner: UUID, id: UUID, in transaction: Transaction) async throws -> AlbumKind? {
        try await transaction.row(
            "SELECT kind FROM albums WHERE id = \(id) AND owner_id = \(owner) AND deleted_at IS NULL FOR UPDATE",
            { AlbumKind(rawValue: try $0.decode(String.self)) ?? .manual })
    }

    /// Of `ids`, those that are not the owner's images outside the trash.
    static func missingImages(owner: UUID, ids: [UUID], in transaction: Transaction) async throws -> [UUID] {
        let found = Set(try await transaction.rows(
            "SELECT id FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL AND id = ANY(\(ids))", { try $0.decode(UUID.self) }))
        return ids.filter { !found.contains($0) }
    }

    /// Inserts an album.
    static func insert(
        id: UUID, owner: UUID, kind: AlbumKind, title: String, description: String, sortOrder: AlbumSortOrder,
        cover: UUID?, generationKey: String?, place: Place, in transaction: Transaction
    ) async throws {
        try await transaction.execute("""
            INSERT INTO albums (id, owner_id, kind, title, description, sort_order, cover_image_id, generation_key,
                place_city, place_region, place_country_code, place_country)
            VALUES (\(id), \(owner), \(kind.rawValue), \(title), \(description), \(sortOrder.rawValue), \(cover), \(generationKey),
                \(place.city), \(place.region), \(place.countryCode), \(place.country))
            """)
    }

    /// Adds images (already checked to be the owner's) to an album; returns how many were new.
    static func add(_ ids: [UUID], to album: UUID, in transaction: Transaction) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return Int(try await transaction.row("""
            WITH added AS (
                INSERT INTO album_images (album_id, image_id) SELECT \(album), unnest(\(ids)::uuid[])
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT count(*)::bigint FROM added
            """, { try $0.decode(Int64.self) }) ?? 0)
    }

    /// Removes images from an album; returns the ids that were in it.
    static func remove(_ ids: [UUID], from album: UUID, in transaction: Transaction) async throws -> [UUID] {
        try await transaction.rows(
            "DELETE FROM album_images WHERE album_id = \(album) AND image_id = ANY(\(ids)) RETURNING image_id",
            { try $0.decode(UUID.self) })
    }

    /// Makes an album hold exactly `ids`; returns whether anything changed.
    static func replaceImages(of album: UUID, with ids: [UUID], in transaction: Transaction) async throws -> Bool {
        let removed = try await transaction.rows(
            "DELETE FROM album_images WHERE album_id = \(album) AND NOT (image_id = ANY(\(ids))) RETURNING 1", { _ in 1 }).count
        let added = try await add(ids, to: album, in: transaction)
        return removed + added > 0
    }

    /// Notes a change by the owner: a generated album becomes edited_by_user.
    static func touch(owner: UUID, id: UUID, in transaction: Transaction) async throws {
        try await transaction.execute("""
            UPDATE albums SET updated_at = now(), edited_by_user = edited_by_user OR kind <> 'manual'
            WHERE id = \(id) AND owner_id = \(owner)
            """)
    }

    /// Adds a just-uploaded image to the owner's album, if the album is still there.
    static func addUploaded(_ image: UUID, to album: UUID, owner: UUID, in transaction: Transaction) async throws {
        guard try await lock(owner: owner, id: album, in: transaction) != nil else { return }
        if try await add([image], to: album, in: transaction) > 0 {
            try await touch(owner: owner, id: album, in: transaction)
        }
    }

    /// A page of the owner's live albums, newest content first (empty ones by creation), after
    /// the keyset `cursor` (microseconds since 1970, id); each with its sort key.
    func list(owner: UUID, kind: AlbumKind?, query: String?, after cursor: (Int64, UUID)?, limit: Int) async throws -> [(Album, Int64)] {
        var sql = SQLBuilder("SELECT * FROM (SELECT x.*, (extract(epoch FROM coalesce(x.end_time, x.created_at)) * 1000000)::bigint AS sort_us FROM (")
        sql.append(Album.select)
        sql.append(" WHERE a.owner_id = \(try sql.bind(owner)) AND a.deleted_at IS NULL")
        if let kind { sql.append(" AND a.kind = \(try sql.bind(kind.rawValue))") }
        if let query { sql.append(" AND strpos(lower(a.title), lower(\(try sql.bind(query)))) > 0") }
        sql.append(") x) y")
        if let (time, id) = cursor {
            sql.append(" WHERE (sort_us, id) < (\(try sql.bind(time)), \(try sql.bind(id)))")
        }
        sql.append(" ORDER BY sort_us DESC, id DESC LIMIT \(try sql.bind(Int32(limit)))")
        return try await database.rows(sql.query) { row in
            (try Album(row: row), try row.makeRandomAccess()["sort_us"].decode(Int64.self))
        }
    }

    /// A page of an album's images (trash left out) in its sort order after the keyset `cursor`.
    func images(owner: UUID, album: UUID, order: AlbumSortOrder, after cursor: (Int64, UUID)?, limit: Int) async throws -> [(ImageRecord, Int64)] {
        let key = order.sortKey
        var sql = SQLBuilder("""
            SELECT \(ImageRecord.columns), (extract(epoch FROM \(key)) * 1000000)::bigint AS sort_us
            FROM images JOIN album_images ON album_images.image_id = images.id
            WHERE album_images.album_id = 
            """)
        sql.append("\(try sql.bind(album)) AND images.owner_id = \(try sql.bind(owner)) AND images.deleted_at IS NULL")
        let comparison = order.descending ? "<" : ">"
        if let (time, id) = cursor {
            sql.append(" AND ((extract(epoch FROM \(key)) * 1000000)::bigint, images.id) \(comparison) (\(try sql.bind(time)), \(try sql.bind(id)))")
        }
        let direction = order.descending ? "DESC" : "ASC"
        sql.append(" ORDER BY sort_us \(direction), images.id \(direction) LIMIT \(try sql.bind(Int32(limit)))")
        let rows = try await database.rows(sql.query) { row in
            (try ImageRecord(row: row), try row.makeRandomAccess()["sort_us"].decode(Int64.self))
        }
        let detailed = try await ImageRepository(database: database).withDetails(rows.map(\.0))
        return zip(detailed, rows.map(\.1)).map { ($0, $1) }
    }
}
