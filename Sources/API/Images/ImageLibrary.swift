import Foundation
import Logging
import Media
import PostgresNIO

/// The images domain behind ImageService: uploads, listings, edits, trash and downloads,
/// always within one owner's library.
public struct ImageLibrary: Sendable {
    let database: Database
    let images: ImageRepository
    let vault: BlobVault
    let limits: ImageLimits
    let logger: Logger

    public init(database: Database, vault: BlobVault, limits: ImageLimits, logger: Logger) {
        self.database = database
        self.images = ImageRepository(database: database)
        self.vault = vault
        self.limits = limits
        self.logger = logger
    }

    /// One of the owner's images, trashed ones included.
    public func image(owner: UUID, id: UUID) async throws -> ImageRecord {
        guard let record = try await images.find(owner: owner, id: id) else { throw APIError.notFound("Image \(id.lowercased)") }
        return record
    }

    /// A page of the owner's images and the token of the next page ("" on the last).
    func list(owner: UUID, _ listing: ImageRepository.Listing, pageSize: Int32, pageToken: String) async throws -> ([ImageRecord], String) {
        let size = try PageToken.pageSize(pageSize)
        var cursor: (Int64, UUID)?
        if let values = try PageToken.decode(pageToken, scope: listing.scope, count: 2) {
            guard let micros = Int64(values[0]), let id = UUID(uuidString: values[1]) else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (micros, id)
        }
        let rows = try await images.list(owner: owner, listing, after: cursor, limit: size + 1)
        var next = ""
        if rows.count > size {
            let last = rows[size - 1]
            next = PageToken.encode(scope: listing.scope, values: [String(last.1), last.0.id.lowercased])
        }
        return (rows.prefix(size).map(\.0), next)
    }

    /// Records what happened for the dashboard's activity feed.
    static func recordActivity(
        _ kind: String, owner: UUID, image: UUID?, detail: [String: String] = [:], in transaction: Transaction
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
        try await transaction.execute("""
            INSERT INTO activity (owner_id, kind, image_id, detail) VALUES (\(owner), \(kind), \(image), \(json)::jsonb)
            """)
    }

    /// Checks an album or event named at upload, before any byte is stored: each must be one
    /// of the caller's (NOT_FOUND otherwise, as for an unknown one).
    func checkTargets(owner: UUID, albumID: String, eventID: Int64?) async throws -> UUID? {
        if let eventID {
            guard eventID > 0, try await EventRepository(database: database).isOwned(by: owner, id: eventID) else {
                throw APIError.notFound("Event \(eventID)")
            }
        }
        if albumID.isEmpty { return nil }
        guard let id = UUID(uuidString: albumID), try await AlbumRepository(database: database).exists(owner: owner, id: id) else {
            throw APIError.notFound("Album \(albumID.prefix(64))")
        }
        return id
    }

    /// A file name as stored: directories stripped, refused when hostile.
    static func cleanFileName(_ raw: String) throws -> String {
        guard raw.utf8.count <= 4096 else { throw APIError.invalid("file_name", "is longer than 255 characters") }
        guard !raw.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.value == 0x7F }) else {
            throw APIError.invalid("file_name", "contains control characters")
        }
        let parts = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).map(String.init)
        guard !parts.contains("..") else { throw APIError.invalid("file_name", "must not contain '..' (a path that climbs out of its folder)") }
        let base = (parts.last ?? "").trimmingCharacters(in: .whitespaces)
        guard !base.isEmpty, base != "." else { throw APIError.invalid("file_name", "is empty") }
        guard base.count <= 255 else { throw APIError.invalid("file_name", "is longer than 255 characters") }
        return base
    }
}
