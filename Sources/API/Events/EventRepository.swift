import Foundation
import PostgresNIO

/// SQL over `events` and `share_links`, and the filing of images under events. Every method
/// takes the caller's reach (an owner, or everyone for an admin) or, for guests, the token's
/// digest, so another user's event reads as not found.
struct EventRepository: Sendable {
    let database: Database

    /// Inserts an event and returns its id.
    static func insert(
        owner: UUID, title: String, description: String, location: String, startsAt: Date?, endsAt: Date?,
        in transaction: Transaction
    ) async throws -> Int64 {
        guard let id = try await transaction.row("""
            INSERT INTO events (owner_id, title, description, location, starts_at, ends_at)
            VALUES (\(owner), \(title), \(description), \(location), \(startsAt), \(endsAt))
            RETURNING id
            """, { try $0.decode(Int64.self) })
        else { throw APIError.unavailable("The database did not return the new event's id.") }
        return id
    }

    /// One event within reach, with its image count.
    func find(reach: EventReach, id: Int64) async throws -> Event? {
        let owner = reach.owner
        return try await database.row(
            "\(unescaped: Event.select) WHERE e.id = \(id) AND (\(owner)::uuid IS NULL OR e.owner_id = \(owner))", Event.init(row:))
    }

    /// A page of the events within reach, newest start first, after the keyset `cursor`
    /// (microseconds since 1970, id); each with its sort key.
    func list(reach: EventReach, after cursor: (Int64, Int64)?, limit: Int) async throws -> [(Event, Int64)] {
        var sql = SQLBuilder("SELECT * FROM (\(Event.select)")
        if case .owner(let owner) = reach { sql.append(" WHERE e.owner_id = \(try sql.bind(owner))") }
        sql.append(") x")
        if let (time, id) = cursor { sql.append(" WHERE (sort_us, id) < (\(try sql.bind(time)), \(try sql.bind(id)))") }
        sql.append(" ORDER BY sort_us DESC, id DESC LIMIT \(try sql.bind(Int32(limit)))")
        return try await database.rows(sql.query) { row in
            (try Event(row: row), try row.makeRandomAccess()["sort_us"].decode(Int64.self))
        }
    }

    /// The owner of an event within reach, locking the event against concurrent filing; nil when out of reach.
    static func lock(reach: EventReach, id: Int64, in transaction: Transaction) async throws -> UUID? {
        let owner = reach.owner
        return try await transaction.row(
            "SELECT owner_id FROM events WHERE id = \(id) AND (\(owner)::uuid IS NULL OR owner_id = \(owner)) FOR SHARE",
            { try $0.decode(UUID.self) })
    }

    /// Whether `owner` owns the event: uploads may be filed only under the uploader's own events.
    func isOwned(by owner: UUID, id: Int64) async throws -> Bool {
        try await database.row("SELECT 1 FROM events WHERE id = \(id) AND owner_id = \(owner)", { _ in true }) ?? false
    }

    /// Files the owner's live images among `ids` under the event, moving them out of any other;
    /// returns the ids it found and how many changed event.
    static func file(_ ids: [UUID], owner: UUID, event: Int64, in transaction: Transaction) async throws -> (found: Set<UUID>, moved: Int) {
        let found = try await transaction.rows(
            "SELECT id FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL AND id = ANY(\(ids)) FOR UPDATE",
            { try $0.decode(UUID.self) })
        let moved = try await transaction.rows("""
            UPDATE images SET event_id = \(event), updated_at = now()
            WHERE owner_id = \(owner) AND id = ANY(\(found)) AND event_id IS DISTINCT FROM \(event)
            RETURNING id
            """, { try $0.decode(UUID.self) })
        return (Set(found), moved.count)
    }

    /// Files an image the owner just uploaded again under the event, unless it is already in one.
    static func fileDuplicate(_ image: UUID, owner: UUID, event: Int64, in transaction: Transaction) async throws {
        try await transaction.execute("""
            UPDATE images SET event_id = \(event), updated_at = now()
            WHERE id = \(image) AND owner_id = \(owner) AND event_id IS NULL
              AND EXISTS (SELECT 1 FROM events WHERE id = \(event) AND owner_id = \(owner))
            """)
    }

    // MARK: - Share links

    /// Inserts a link to an event within reach; nil when the event is out of reach.
    static func insertLink(
        id: UUID, reach: EventReach, event: Int64, tokenDigest: String, passwordHash: String?, allowDownload: Bool, expiresAt: Date?,
        in transaction: Transaction
    ) async throws -> Bool {
        let owner = reach.owner
        return try await transaction.row("""
            INSERT INTO share_links (id, event_id, token_hash, password_hash, allow_download, expires_at)
            SELECT \(id), e.id, decode(\(tokenDigest), 'hex'), \(passwordHash), \(allowDownload), \(expiresAt)
            FROM events e WHERE e.id = \(event) AND (\(owner)::uuid IS NULL OR e.owner_id = \(owner))
            RETURNING 1
            """, { _ in true }) ?? false
    }

    /// One link of an event within reach.
    func link(reach: EventReach, id: UUID) async throws -> ShareLink? {
        let owner = reach.owner
        return try await database.row("""
            \(unescaped: ShareLink.select) JOIN events e ON e.id = l.event_id
            WHERE l.id = \(id) AND (\(owner)::uuid IS NULL OR e.owner_id = \(owner))
            """, ShareLink.init(row:))
    }

    /// Revokes a link of an event within reach (a revoked one keeps its first revocation time);
    /// false when the link is out of reach.
    func revoke(reach: EventReach, id: UUID) async throws -> Bool {
        let owner = reach.owner
        return try await database.row("""
            UPDATE share_links l SET revoked_at = coalesce(l.revoked_at, now())
            FROM events e
            WHERE l.id = \(id) AND e.id = l.event_id AND (\(owner)::uuid IS NULL OR e.owner_id = \(owner))
            RETURNING 1
            """, { _ in true }) ?? false
    }

    /// A page of an event's links, newest first, after the keyset `cursor` (microseconds since
    /// 1970, id); the caller has checked that the event is within reach.
    func links(event: Int64, includeRevoked: Bool, after cursor: (Int64, UUID)?, limit: Int) async throws -> [(ShareLink, Int64)] {
        var sql = SQLBuilder("SELECT * FROM (\(ShareLink.select) WHERE l.event_id = ")
        sql.append(try sql.bind(event))
        if !includeRevoked { sql.append(" AND l.revoked_at IS NULL") }
        sql.append(") x")
        if let (time, id) = cursor { sql.append(" WHERE (sort_us, id) < (\(try sql.bind(time)), \(try sql.bind(id)))") }
        sql.append(" ORDER BY sort_us DESC, id DESC LIMIT \(try sql.bind(Int32(limit)))")
        return try await database.rows(sql.query) { row in
            (try ShareLink(row: row), try row.makeRandomAccess()["sort_us"].decode(Int64.self))
        }
    }

    /// The live link with this token digest (not revoked, not expired, its owner's account
    /// enabled), with its password hash; nil otherwise.
    func openLink(tokenDigest: String) async throws -> (shared: SharedEvent, passwordHash: String?)? {
        try await database.row("""
            SELECT l.id, l.event_id, e.owner_id, l.allow_download, l.expires_at, l.password_hash
            FROM share_links l JOIN events e ON e.id = l.event_id JOIN users u ON u.id = e.owner_id
            WHERE l.token_hash = decode(\(tokenDigest), 'hex') AND l.revoked_at IS NULL
              AND (l.expires_at IS NULL OR l.expires_at > now()) AND NOT u.disabled
            """) { row in
            let (id, event, owner, allowDownload, expires, hash) = try row.decode((UUID, Int64, UUID, Bool, Date?, String?).self)
            return (SharedEvent(linkID: id, eventID: event, ownerID: owner, allowDownload: allowDownload, expiresAt: expires), hash)
        }
    }

    /// Notes that a guest used the link, at most once a minute, so that a gallery of
    /// thumbnails does not write a row per image.
    func touch(link: UUID) async throws {
        try await database.execute("""
            UPDATE share_links SET last_used_at = now()
            WHERE id = \(link) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            """)
    }
}

extension EventReach {
    /// The one owner in reach; nil for everyone's events.
    var owner: UUID? {
        if case .owner(let owner) = self { return owner }
        return nil
    }
}
