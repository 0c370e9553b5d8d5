import Foundation
import Logging

/// The albums domain behind AlbumService: manual albums, their images, generated albums and
/// browsing by place and date, always within one owner's library.
public struct AlbumLibrary: Sendable {
    let database: Database
    let albums: AlbumRepository
    let logger: Logger

    /// Limits of the album fields and calls.
    public static let maxTitleLength = 200
    public static let maxDescriptionLength = 10_000
    public static let maxImagesPerCall = 10_000

    public init(database: Database, logger: Logger) {
        self.database = database
        self.albums = AlbumRepository(database: database)
        self.logger = logger
    }

    /// What CreateAlbum asks for.
    public struct NewAlbum: Sendable {
        public var title: String
        public var description = ""
        public var sortOrder: AlbumSortOrder = .takenAscending
        public var imageIDs: [String] = []
        public var coverImageID = ""

        public init(title: String) { self.title = title }
    }

    /// Creates a manual album, with its first images; all or nothing.
    public func create(owner: UUID, _ request: NewAlbum) async throws -> Album {
        let title = try Self.title(request.title)
        let description = try Self.description(request.description)
        let ids = try Self.imageIDs(request.imageIDs, allowEmpty: true)
        var chosenCover: UUID?
        if !request.coverImageID.isEmpty {
            let id = try parseID(request.coverImageID, field: "cover_image_id")
            guard ids.contains(id) else { throw APIError.invalid("cover_image_id", "must be one of image_ids") }
            chosenCover = id
        }
        let cover = chosenCover
        let id = UUID()
        try await database.transaction { transaction in
            let missing = try await AlbumRepository.missingImages(owner: owner, ids: ids, in: transaction)
            guard missing.isEmpty else { throw AlbumError.imagesNotFound(missing) }
            try await AlbumRepository.insert(
                id: id, owner: owner, kind: .manual, title: title, description: description, sortOrder: request.sortOrder,
                cover: cover, generationKey: nil, place: Place(), in: transaction)
            _ = try await AlbumRepository.add(ids, to: id, in: transaction)
            try await ImageLibrary.recordActivity(
                "album_created", owner: owner, image: nil,
                detail: ["album_id": id.lowercased, "title": title, "count": String(ids.count)], in: transaction)
        }
        logger.info("album created", metadata: ["album_id": "\(id)", "user_id": "\(owner)", "images": "\(ids.count)"])
        return try await album(owner: owner, id: id.lowercased)
    }

    /// One of the owner's albums; NOT_FOUND for another user's or an unknown one.
    public func album(owner: UUID, id rawID: String) async throws -> Album {
        let id = try parseID(rawID, field: "album_id")
        guard let album = try await albums.find(owner: owner, id: id) else { throw APIError.notFound("Album \(id.lowercased)") }
        return album
    }

    /// A page of the owner's albums, optionally of one kind or with a title containing `query`.
    public func list(owner: UUID, kind: AlbumKind?, query rawQuery: String, pageSize: Int32, pageToken: String) async throws -> ([Album], String) {
        let size = try PageToken.pageSize(pageSize)
        let query = rawQuery.trimmingCharacters(in: .whitespaces)
        guard query.count <= Self.maxTitleLength else { throw APIError.invalid("query", "is longer than \(Self.maxTitleLength) characters") }
        let scope = ["albums", kind?.rawValue ?? "", query.lowercased()].joined(separator: "|")
        var cursor: (Int64, UUID)?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 2) {
            guard let micros = Int64(values[0]), let id = UUID(uuidString: values[1]) else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (micros, id)
        }
        let rows = try await albums.list(owner: owner, kind: kind, query: query.isEmpty ? nil : query, after: cursor, limit: size + 1)
        var next = ""
        if rows.count > size { next = PageToken.encode(scope: scope, values: [String(rows[size - 1].1), rows[size - 1].0.id.lowercased]) }
        return (rows.prefix(size).map(\.0), next)
    }

    /// What UpdateAlbum changes; nil fields stay.
    public struct AlbumEdit: Sendable {
        public var title: String?
        public var description: String?
        /// "" goes back to the automatic cover.
        public var coverImageID: String?
        public var sortOrder: AlbumSortOrder?

        public init() {}
    }

    /// Changes an album; a generated album becomes edited_by_user, so regeneration leaves it alone.
    public func update(owner: UUID, id rawID: String, _ edit: AlbumEdit) async throws -> Album {
        let id = try parseID(rawID, field: "album_id")
        let title = try edit.title.map(Self.title)
        let description = try edit.description.map(Self.description)
        let cover: UUID? = if let text = edit.coverImageID, !text.isEmpty { try parseID(text, field: "cover_image_id") } else { nil }
        try await database.transaction { transaction in
            guard try await AlbumRepository.lock(owner: owner, id: id, in: transaction) != nil else {
                throw APIError.notFound("Album \(id.lowercased)")
            }
            if let cover {
                let inAlbum = try await transaction.row("""
                    SELECT 1 FROM album_images ai JOIN images i ON i.id = ai.image_id
                    WHERE ai.album_id = \(id) AND ai.image_id = \(cover) AND i.owner_id = \(owner) AND i.deleted_at IS NULL
                    """, { _ in true }) ?? false
                guard inAlbum else { throw APIError.invalid("cover_image_id", "is not an image in this album") }
            }
            if let title { try await transaction.execute("UPDATE albums SET title = \(title) WHERE id = \(id)") }
            if let description { try await transaction.execute("UPDATE albums SET description = \(description) WHERE id = \(id)") }
            if let text = edit.coverImageID {
                let value: UUID? = text.isEmpty ? nil : cover
                try await transaction.execute("UPDATE albums SET cover_image_id = \(value) WHERE id = \(id)")
            }
            if let order = edit.sortOrder { try await transaction.execute("UPDATE albums SET sort_order = \(order.rawValue) WHERE id = \(id)") }
            if title != nil || description != nil || edit.coverImageID != nil || edit.sortOrder != nil {
                try await AlbumRepository.touch(owner: owner, id: id, in: transaction)
            }
        }
        return try await album(owner: owner, id: id.lowercased)
    }

    /// Deletes an album but none of its images. A generated album is kept as a tombstone so
    /// that regeneration does not bring it back.
    public func delete(owner: UUID, id rawID: String) async throws {
        let id = try parseID(rawID, field: "album_id")
        try await database.transaction { transaction in
            guard let kind = try await AlbumRepository.lock(owner: owner, id: id, in: transaction) else {
                throw APIError.notFound("Album \(id.lowercased)")
            }
            if kind == .manual {
                try await transaction.execute("DELETE FROM albums WHERE id = \(id) AND owner_id = \(owner)")
            } else {
                try await transaction.execute("UPDATE albums SET deleted_at = now(), updated_at = now() WHERE id = \(id) AND owner_id = \(owner)")
            }
            try await ImageLibrary.recordActivity("album_deleted", owner: owner, image: nil, detail: ["album_id": id.lowercased], in: transaction)
        }
    }

    /// Adds the owner's images to an album; ones already there are skipped. Any id that is not
    /// the owner's image outside the trash fails the whole call with NOT_FOUND naming it.
    public func addImages(owner: UUID, album rawID: String, imageIDs: [String]) async throws -> (added: Int, album: Album) {
        let id = try parseID(rawID, field: "album_id")
        let ids = try Self.imageIDs(imageIDs, allowEmpty: false)
        let added = try await database.transaction { transaction in
            guard try await AlbumRepository.lock(owner: owner, id: id, in: transaction) != nil else {
                throw APIError.notFound("Album \(id.lowercased)")
            }
            let missing = try await AlbumRepository.missingImages(owner: owner, ids: ids, in: transaction)
            guard missing.isEmpty else { throw AlbumError.imagesNotFound(missing) }
            let added = try await AlbumRepository.add(ids, to: id, in: transaction)
            if added > 0 {
                try await AlbumRepository.touch(owner: owner, id: id, in: transaction)
                try await ImageLibrary.recordActivity(
                    "album_images_added", owner: owner, image: nil, detail: ["album_id": id.lowercased, "count": String(added)],
                    in: transaction)
            }
            return added
        }
        return (added, try await album(owner: owner, id: id.lowercased))
    }

    /// Takes images out of an album (they stay in the library); returns the ids that were not in it.
    public func removeImages(owner: UUID, album rawID: String, imageIDs: [String]) async throws -> (removed: Int, notFound: [UUID], album: Album) {
        let id = try parseID(rawID, field: "album_id")
        let ids = try Self.imageIDs(imageIDs, allowEmpty: false)
        let removed = try await database.transaction { transaction in
            guard try await AlbumRepository.lock(owner: owner, id: id, in: transaction) != nil else {
                throw APIError.notFound("Album \(id.lowercased)")
            }
            let removed = try await AlbumRepository.remove(ids, from: id, in: transaction)
            if !removed.isEmpty {
                try await AlbumRepository.touch(owner: owner, id: id, in: transaction)
                try await ImageLibrary.recordActivity(
                    "album_images_removed", owner: owner, image: nil,
                    detail: ["album_id": id.lowercased, "count": String(removed.count)], in: transaction)
            }
            return removed
        }
        let gone = Set(removed)
        return (removed.count, ids.filter { !gone.contains($0) }, try await album(owner: owner, id: id.lowercased))
    }

    /// A page of an album's images in the album's order.
    public func images(owner: UUID, album rawID: String, pageSize: Int32, pageToken: String) async throws -> ([ImageRecord], String) {
        let album = try await album(owner: owner, id: rawID)
        let size = try PageToken.pageSize(pageSize)
        let scope = "album-images|\(album.id.lowercased)|\(album.sortOrder.rawValue)"
        var cursor: (Int64, UUID)?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 2) {
            guard let micros = Int64(values[0]), let id = UUID(uuidString: values[1]) else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (micros, id)
        }
        let rows = try await albums.images(owner: owner, album: album.id, order: album.sortOrder, after: cursor, limit: size + 1)
        var next = ""
        if rows.count > size { next = PageToken.encode(scope: scope, values: [String(rows[size - 1].1), rows[size - 1].0.id.lowercased]) }
        return (rows.prefix(size).map(\.0), next)
    }

    /// A title as stored: trimmed, 1–200 characters, no control characters.
    static func title(_ raw: String) throws -> String {
        try TextInput.line(raw, field: "title", maximum: maxTitleLength)
    }

    static func description(_ raw: String) throws -> String {
        guard raw.count <= maxDescriptionLength else {
            throw APIError.invalid("description", "is \(raw.count) characters long; at most \(maxDescriptionLength) are allowed")
        }
        return raw
    }

    /// Parsed, de-duplicated image ids, at most ``maxImagesPerCall``.
    static func imageIDs(_ raw: [String], allowEmpty: Bool) throws -> [UUID] {
        if raw.isEmpty, !allowEmpty { throw APIError.invalid("image_ids", "is empty") }
        guard raw.count <= maxImagesPerCall else {
            throw APIError.invalid("image_ids", "holds \(raw.count) ids; at most \(maxImagesPerCall) are allowed per call")
        }
        var seen = Set<UUID>()
        var ids: [UUID] = []
        for text in raw {
            guard text.count <= 64, let id = UUID(uuidString: text) else {
                throw APIError.invalid("image_ids", "contains '\(text.prefix(64))', which is not an image id")
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        return ids
    }
}
