import Foundation
import Logging

/// The events domain behind EventService: a photographer's events and the images filed under
/// them, within the caller's reach (their own events; an admin's reach is everyone's).
/// Sharing with guests is in `EventLibrary+Sharing.swift`.
public struct EventLibrary: Sendable {
    let database: Database
    let events: EventRepository
    let images: ImageLibrary
    let search: ImageSearch
    let hasher: PasswordHasher
    let limiter: RateLimiter
    let limits: RateLimits
    let checkedPasswords = CheckedPasswords()
    let logger: Logger

    /// Limits of the event fields and calls (titles share the album rule: 1–200 characters).
    public static let maxDescriptionLength = 10_000
    public static let maxLocationLength = 500
    public static let maxImagesPerCall = 1_000

    public init(
        database: Database, images: ImageLibrary, search: ImageSearch, hasher: PasswordHasher, limits: RateLimits, logger: Logger
    ) {
        self.database = database
        self.events = EventRepository(database: database)
        self.images = images
        self.search = search
        self.hasher = hasher
        self.limiter = RateLimiter(database: database)
        self.limits = limits
        self.logger = logger
    }

    /// What CreateEvent asks for.
    public struct NewEvent: Sendable {
        public var title: String
        public var description = ""
        public var location = ""
        public var startsAt: Date?
        public var endsAt: Date?

        public init(title: String) { self.title = title }
    }

    /// Creates an event owned by `owner`.
    public func create(owner: UUID, _ request: NewEvent) async throws -> Event {
        let title = try AlbumLibrary.title(request.title)
        let description = try Self.text(request.description, field: "description", limit: Self.maxDescriptionLength)
        let location = try Self.text(
            request.location.trimmingCharacters(in: .whitespacesAndNewlines), field: "location", limit: Self.maxLocationLength)
        if let start = request.startsAt, let end = request.endsAt, end < start {
            throw APIError.invalid("ends_at", "is before starts_at")
        }
        let id = try await database.transaction { transaction in
            let id = try await EventRepository.insert(
                owner: owner, title: title, description: description, location: location, startsAt: request.startsAt,
                endsAt: request.endsAt, in: transaction)
            try await ImageLibrary.recordActivity(
                "event_created", owner: owner, image: nil, detail: ["event_id": String(id), "title": title], in: transaction)
            return id
        }
        logger.info("event created", metadata: ["event_id": "\(id)", "user_id": "\(owner)"])
        return try await event(reach: .owner(owner), id: id)
    }

    /// One event within reach; NOT_FOUND for another user's (unless the reach is everyone's) or an unknown one.
    func event(reach: EventReach, id: Int64) async throws -> Event {
        try Self.checkID(id)
        guard let event = try await events.find(reach: reach, id: id) else { throw APIError.notFound("Event \(id)") }
        return event
    }

    /// A page of the events within reach, newest start first.
    func list(reach: EventReach, pageSize: Int32, pageToken: String) async throws -> ([Event], String) {
        let size = try PageToken.pageSize(pageSize)
        let scope = "events|\(reach.owner?.lowercased ?? "all")"
        var cursor: (Int64, Int64)?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 2) {
            guard let micros = Int64(values[0]), let id = Int64(values[1]) else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (micros, id)
        }
        let rows = try await events.list(reach: reach, after: cursor, limit: size + 1)
        var next = ""
        if rows.count > size { next = PageToken.encode(scope: scope, values: [String(rows[size - 1].1), String(rows[size - 1].0.id)]) }
        return (rows.prefix(size).map(\.0), next)
    }

    /// Files images of the event's owner under the event, moving them out of any other one.
    /// Ids that are not the owner's live images are returned, and the others are filed anyway.
    func addImages(reach: EventReach, event id: Int64, imageIDs raw: [String]) async throws -> (added: Int, notFound: [UUID]) {
        try Self.checkID(id)
        if raw.isEmpty { throw APIError.invalid("image_ids", "is empty") }
        guard raw.count <= Self.maxImagesPerCall else {
            throw APIError.invalid("image_ids", "holds \(raw.count) ids; at most \(Self.maxImagesPerCall) are allowed per call")
        }
        let ids = try AlbumLibrary.imageIDs(raw, allowEmpty: false)
        let (found, moved) = try await database.transaction { transaction in
            guard let owner = try await EventRepository.lock(reach: reach, id: id, in: transaction) else {
                throw APIError.notFound("Event \(id)")
            }
            return try await EventRepository.file(ids, owner: owner, event: id, in: transaction)
        }
        return (moved, ids.filter { !found.contains($0) })
    }

    /// A free-text field as stored: at most `limit` characters.
    static func text(_ raw: String, field: String, limit: Int) throws -> String {
        guard raw.count <= limit else {
            throw APIError.invalid(field, "is \(raw.count) characters long; at most \(limit) are allowed")
        }
        return raw
    }

    /// Event ids are positive; 0 is the unset field.
    static func checkID(_ id: Int64) throws {
        guard id > 0 else { throw APIError.invalid("event_id", "must name an event (a positive number)") }
    }
}
