import Foundation
import PostgresNIO

/// What narrows a search, checked: every set field must match. Applied as SQL conditions on
/// `images i`, with every value bound.
public struct SearchFilters: Sendable, Equatable, Codable {
    public var takenFrom: Date?
    public var takenBefore: Date?
    /// Case-insensitive part of the city, region or country name, or an exact ISO code.
    public var place = ""
    public var personIDs: [UUID] = []
    public var albumID: UUID?
    public var tags: [String] = []
    public var cameraMake = ""
    public var cameraModel = ""
    public var hasFaces: Bool?

    public init() {}

    public var isEmpty: Bool { self == SearchFilters() }

    /// Refuses ids the owner cannot see (unknown, or another user's) as NOT_FOUND, never saying which.
    func checkOwnership(owner: UUID, database: Database) async throws {
        for person in personIDs {
            let known = try await database.row(
                "SELECT 1 FROM faces WHERE owner_id = \(owner) AND person_id = \(person) LIMIT 1", { _ in true }) ?? false
            guard known else { throw APIError.notFound("Person \(person.lowercased)") }
        }
        if let album = albumID {
            guard try await AlbumMembership.exists(album: album, owner: owner, database: database) else {
                throw APIError.notFound("Album \(album.lowercased)")
            }
        }
    }

    /// Appends ` AND …` conditions on `images i` to `builder`.
    func apply(to builder: inout SQLBuilder) throws {
        if let takenFrom {
            builder.append(" AND coalesce(i.taken_at, i.uploaded_at) >= \(try builder.bind(takenFrom))")
        }
        if let takenBefore {
            builder.append(" AND coalesce(i.taken_at, i.uploaded_at) < \(try builder.bind(takenBefore))")
        }
        if !place.isEmpty {
            let pattern = "%" + place.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            let like = try builder.bind(pattern), code = try builder.bind(place.uppercased())
            builder.append("""
                 AND (i.place_city ILIKE \(like) OR i.place_region ILIKE \(like) OR i.place_country ILIKE \(like)
                      OR i.place_country_code = \(code))
                """)
        }
        for person in personIDs {
            builder.append(" AND EXISTS (SELECT 1 FROM faces f WHERE f.image_id = i.id AND f.person_id = \(try builder.bind(person)))")
        }
        if let albumID {
            builder.append(" AND " + AlbumMembership.condition(album: try builder.bind(albumID)))
        }
        for tag in tags {
            builder.append(" AND EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.name = \(try builder.bind(tag)))")
        }
        if !cameraMake.isEmpty { builder.append(" AND lower(i.camera_make) = lower(\(try builder.bind(cameraMake)))") }
        if !cameraModel.isEmpty { builder.append(" AND lower(i.camera_model) = lower(\(try builder.bind(cameraModel)))") }
        if let hasFaces { builder.append(hasFaces ? " AND i.face_count > 0" : " AND i.face_count = 0") }
    }
}

/// Whether an image is in one of the owner's albums, for the album filter.
enum AlbumMembership {
    static func exists(album: UUID, owner: UUID, database: Database) async throws -> Bool {
        try await AlbumRepository(database: database).exists(owner: owner, id: album)
    }

    /// The condition on `images i`, with the album id bound at `placeholder`.
    static func condition(album placeholder: String) -> String {
        "EXISTS (SELECT 1 FROM album_images ai WHERE ai.album_id = \(placeholder) AND ai.image_id = i.id)"
    }
}
