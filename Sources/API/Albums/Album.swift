import Foundation
import PostgresNIO

/// How an album came to be (the `albums.kind` values).
public enum AlbumKind: String, Sendable, CaseIterable {
    case manual, trip, location, person
}

/// The order of an album's images (the `albums.sort_order` values).
public enum AlbumSortOrder: String, Sendable {
    case takenAscending = "taken_asc", takenDescending = "taken_desc"
    case addedAscending = "added_asc", addedDescending = "added_desc"

    /// The images' sort key in SQL over `images` joined with `album_images`.
    var sortKey: String {
        switch self {
        case .takenAscending, .takenDescending: "coalesce(taken_at, uploaded_at)"
        case .addedAscending, .addedDescending: "added_at"
        }
    }

    var descending: Bool { self == .takenDescending || self == .addedDescending }
}

/// One album as the album RPCs return it, with the figures of its images (trash left out).
public struct Album: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UUID
    public var kind: AlbumKind
    public var title: String
    public var description: String
    public var sortOrder: AlbumSortOrder
    /// The cover the owner chose, if it is still in the album; else the first image in sort order.
    public var coverImageID: UUID?
    public var imageCount: Int
    public var startTime: Date?
    public var endTime: Date?
    public var place: Place
    public var personID: UUID?
    public var editedByUser: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// The SELECT list and FROM clause that ``init(row:)`` reads (alias `a` for the album).
    static let select = """
        SELECT a.id, a.owner_id, a.kind, a.title, a.description, a.sort_order, a.place_city, a.place_region,
            a.place_country_code, a.place_country, a.person_id, a.edited_by_user, a.created_at, a.updated_at,
            s.image_count, s.start_time, s.end_time,
            coalesce(
                (SELECT c.image_id FROM album_images c JOIN images ci ON ci.id = c.image_id AND ci.deleted_at IS NULL
                 WHERE c.album_id = a.id AND c.image_id = a.cover_image_id),
                (SELECT f.image_id FROM album_images f JOIN images fi ON fi.id = f.image_id AND fi.deleted_at IS NULL
                 WHERE f.album_id = a.id
                 ORDER BY CASE WHEN a.sort_order = 'taken_asc' THEN coalesce(fi.taken_at, fi.uploaded_at) END ASC,
                     CASE WHEN a.sort_order = 'taken_desc' THEN coalesce(fi.taken_at, fi.uploaded_at) END DESC,
                     CASE WHEN a.sort_order = 'added_asc' THEN f.added_at END ASC,
                     CASE WHEN a.sort_order = 'added_desc' THEN f.added_at END DESC, f.image_id
                 LIMIT 1)) AS cover
        FROM albums a
        LEFT JOIN LATERAL (
            SELECT count(*)::bigint AS image_count, min(i.taken_at) AS start_time, max(i.taken_at) AS end_time
            FROM album_images ai JOIN images i ON i.id = ai.image_id AND i.deleted_at IS NULL
            WHERE ai.album_id = a.id
        ) s ON true
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(UUID.self)
        ownerID = try r["owner_id"].decode(UUID.self)
        kind = AlbumKind(rawValue: try r["kind"].decode(String.self)) ?? .manual
        title = try r["title"].decode(String.self)
        description = try r["description"].decode(String.self)
        sortOrder = AlbumSortOrder(rawValue: try r["sort_order"].decode(String.self)) ?? .takenAscending
        place = Place(
            city: try r["place_city"].decode(String.self), region: try r["place_region"].decode(String.self),
            countryCode: try r["place_country_code"].decode(String.self), country: try r["place_country"].decode(String.self))
        personID = try r["person_id"].decode(UUID?.self)
        editedByUser = try r["edited_by_user"].decode(Bool.self)
        createdAt = try r["created_at"].decode(Date.self)
        updatedAt = try r["updated_at"].decode(Date.self)
        imageCount = Int(try r["image_count"].decode(Int64?.self) ?? 0)
        startTime = try r["start_time"].decode(Date?.self)
        endTime = try r["end_time"].decode(Date?.self)
        coverImageID = try r["cover"].decode(UUID?.self)
    }
}
