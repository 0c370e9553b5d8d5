import Foundation
import PostgresNIO

/// One event as the event RPCs return it, with the count of its images outside the trash.
public struct Event: Sendable, Equatable {
    public var id: Int64
    public var ownerID: UUID
    public var title: String
    public var description: String
    public var location: String
    public var startsAt: Date?
    public var endsAt: Date?
    public var imageCount: Int
    public var createdAt: Date

    /// The SELECT list and FROM clause that ``init(row:)`` reads (alias `e` for the event), with
    /// `sort_us`, the listing key: the start, else the creation time, in microseconds since 1970.
    static let select = """
        SELECT e.id, e.owner_id, e.title, e.description, e.location, e.starts_at, e.ends_at, e.created_at,
            (SELECT count(*) FROM images i WHERE i.event_id = e.id AND i.owner_id = e.owner_id AND i.deleted_at IS NULL)::bigint
                AS image_count,
            (extract(epoch FROM coalesce(e.starts_at, e.created_at)) * 1000000)::bigint AS sort_us
        FROM events e
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(Int64.self)
        ownerID = try r["owner_id"].decode(UUID.self)
        title = try r["title"].decode(String.self)
        description = try r["description"].decode(String.self)
        location = try r["location"].decode(String.self)
        startsAt = try r["starts_at"].decode(Date?.self)
        endsAt = try r["ends_at"].decode(Date?.self)
        createdAt = try r["created_at"].decode(Date.self)
        imageCount = Int(try r["image_count"].decode(Int64.self))
    }
}

/// A guest link to an event, as its owner sees it (never with the token, which is not stored).
public struct ShareLink: Sendable, Equatable {
    public var id: UUID
    public var eventID: Int64
    public var expiresAt: Date?
    public var hasPassword: Bool
    public var allowDownload: Bool
    public var revoked: Bool
    public var createdAt: Date
    public var lastUsedAt: Date?

    /// The SELECT list and FROM clause that ``init(row:)`` reads (alias `l` for the link).
    static let select = """
        SELECT l.id, l.event_id, l.expires_at, l.password_hash IS NOT NULL AS has_password, l.allow_download,
            l.revoked_at IS NOT NULL AS revoked, l.created_at, l.last_used_at,
            (extract(epoch FROM l.created_at) * 1000000)::bigint AS sort_us
        FROM share_links l
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(UUID.self)
        eventID = try r["event_id"].decode(Int64.self)
        expiresAt = try r["expires_at"].decode(Date?.self)
        hasPassword = try r["has_password"].decode(Bool.self)
        allowDownload = try r["allow_download"].decode(Bool.self)
        revoked = try r["revoked"].decode(Bool.self)
        createdAt = try r["created_at"].decode(Date.self)
        lastUsedAt = try r["last_used_at"].decode(Date?.self)
    }
}

/// What a working share link opens: one event of one owner, and whether originals may be read.
///
/// Only ``EventLibrary/open(token:password:)`` makes one, so holding it proves the guest
/// presented a live link (and its password); every guest read is scoped by it.
public struct SharedEvent: Sendable, Equatable {
    public let linkID: UUID
    public let eventID: Int64
    public let ownerID: UUID
    public let allowDownload: Bool
    public let expiresAt: Date?
}

/// Whose events a signed-in caller reaches: their own, or, for an admin, everyone's.
enum EventReach: Sendable, Equatable {
    case owner(UUID)
    case everyone

    /// An admin reaches every event; photographers (and anyone else) their own.
    init(_ caller: Caller) {
        self = caller.role == .admin ? .everyone : .owner(caller.userID)
    }
}
