import Foundation
import Logging
import PostgresNIO

/// An owner's edit of an image's metadata; nil fields stay as they are.
public struct MetadataEdit: Sendable {
    public var caption: String?
    public var description: String?
    public var tagsToAdd: [String] = []
    public var tagsToRemove: [String] = []
    public var takenAt: Date?
    public var takenAtOffsetMinutes: Int?
    public var clearTakenAt = false
    public init() {}
}

extension ImageLibrary {
    /// Applies an owner's edit in one transaction and records it.
    public func updateMetadata(owner: UUID, id: UUID, _ edit: MetadataEdit) async throws -> ImageRecord {
        if let caption = edit.caption, caption.count > 1000 { throw APIError.invalid("caption", "is longer than 1,000 characters") }
        for (field, text) in [("caption", edit.caption), ("description", edit.description)] {
            if let text, text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) {
                throw APIError.invalid(field, "contains control characters")
            }
        }
        if let description = edit.description, description.count > 10_000 {
            throw APIError.invalid("description", "is longer than 10,000 characters")
        }
        if edit.clearTakenAt, edit.takenAt != nil { throw APIError.invalid("clear_taken_at", "cannot be combined with taken_at") }
        if let offset = edit.takenAtOffsetMinutes {
            guard edit.takenAt != nil else { throw APIError.invalid("taken_at_offset_minutes", "needs taken_at") }
            guard (-14 * 60...14 * 60).contains(offset) else {
                throw APIError.invalid("taken_at_offset_minutes", "must be between -840 and 840 (UTC-14:00 to UTC+14:00)")
            }
        }
        guard edit.tagsToAdd.count + edit.tagsToRemove.count <= 200 else {
            throw APIError.invalid("tags_to_add", "and tags_to_remove may name at most 200 tags together")
        }
        let adding = try edit.tagsToAdd.map { try Self.tagName($0, field: "tags_to_add") }
        let removing = try edit.tagsToRemove.map { try Self.tagName($0, field: "tags_to_remove") }
        if let both = Set(adding).intersection(removing).first {
            throw APIError.invalid("tags_to_add", "and tags_to_remove both name '\(both)'")
        }
        try await database.transaction { transaction in
            guard
                try await transaction.row(
                    "SELECT id FROM images WHERE id = \(id) AND owner_id = \(owner) FOR UPDATE", { _ in true }) != nil
            else { throw APIError.notFound("Image \(id.lowercased)") }
            if let caption = edit.caption {
                try await transaction.execute("""
                    UPDATE images SET caption = \(caption), caption_by_owner = \(!caption.isEmpty), updated_at = now() WHERE id = \(id)
                    """)
            }
            if let description = edit.description {
                try await transaction.execute("UPDATE images SET description = \(description), updated_at = now() WHERE id = \(id)")
            }
            if let takenAt = edit.takenAt {
                try await transaction.execute("""
                    UPDATE images SET taken_at = \(takenAt), taken_at_offset_minutes = \(edit.takenAtOffsetMinutes.map(Int32.init)),
                        taken_at_overridden = true, updated_at = now() WHERE id = \(id)
                    """)
            } else if edit.clearTakenAt {
                try await transaction.execute("""
                    UPDATE images SET taken_at = file_taken_at, taken_at_offset_minutes = file_taken_at_offset_minutes,
                        taken_at_overridden = false, updated_at = now() WHERE id = \(id)
                    """)
            }
            for name in adding {
                try await transaction.execute("""
                    INSERT INTO image_tags (image_id, name, source, score) VALUES (\(id), \(name), 'user', 1)
                    ON CONFLICT (image_id, name) DO UPDATE SET source = 'user', score = 1
                    """)
                try await transaction.execute("DELETE FROM image_suppressed_tags WHERE image_id = \(id) AND name = \(name)")
            }
            for name in removing {
                try await transaction.execute("DELETE FROM image_tags WHERE image_id = \(id) AND name = \(name)")
                try await transaction.execute("""
                    INSERT INTO image_suppressed_tags (image_id, name) VALUES (\(id), \(name)) ON CONFLICT DO NOTHING
                    """)
            }
            if !adding.isEmpty || !removing.isEmpty {
                try await transaction.execute("UPDATE images SET updated_at = now() WHERE id = \(id)")
            }
            var changed: [String] = []
            if edit.caption != nil { changed.append("caption") }
            if edit.description != nil { changed.append("description") }
            if !adding.isEmpty || !removing.isEmpty { changed.append("tags") }
            if edit.takenAt != nil || edit.clearTakenAt { changed.append("taken_at") }
            // Words changed (or the date, which gives the year, month and season tags): index again.
            if !changed.isEmpty {
                for kind in Pipeline.afterEdit {
                    try await JobQueue.enqueue(kind, imageID: id, ownerID: owner, in: transaction)
                }
            }
            try await Self.recordActivity(
                "update_metadata", owner: owner, image: id, detail: ["fields": changed.joined(separator: ",")], in: transaction)
        }
        return try await image(owner: owner, id: id)
    }

    /// A tag as stored: trimmed, lower-case, 1–64 characters, no control characters.
    static func tagName(_ raw: String, field: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !name.isEmpty else { throw APIError.invalid(field, "contains an empty tag") }
        guard name.count <= 64 else { throw APIError.invalid(field, "contains a tag longer than 64 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalid(field, "contains a tag with control characters")
        }
        return name
    }

    /// Moves an image to the trash (a no-op when it is there already); returns when it went there.
    public func trash(owner: UUID, id: UUID) async throws -> Date {
        try await database.transaction { transaction in
            guard
                let (deletedAt, wasTrashed) = try await transaction.row("""
                    UPDATE images SET deleted_at = coalesce(deleted_at, now()), updated_at = now()
                    WHERE id = \(id) AND owner_id = \(owner)
                    RETURNING deleted_at, deleted_at < now()
                    """, { try $0.decode((Date, Bool).self) })
            else { throw APIError.notFound("Image \(id.lowercased)") }
            if !wasTrashed { try await Self.recordActivity("trash", owner: owner, image: id, in: transaction) }
            return deletedAt
        }
    }

    /// Takes an image out of the trash; a no-op for one that is not there.
    public func restore(owner: UUID, id: UUID) async throws -> ImageRecord {
        try await database.transaction { transaction in
            guard
                let wasTrashed = try await transaction.row(
                    "SELECT deleted_at IS NOT NULL FROM images WHERE id = \(id) AND owner_id = \(owner) FOR UPDATE",
                    { try $0.decode(Bool.self) })
            else { throw APIError.notFound("Image \(id.lowercased)") }
            if wasTrashed {
                try await transaction.execute("UPDATE images SET deleted_at = NULL, updated_at = now() WHERE id = \(id)")
                try await Self.recordActivity("restore", owner: owner, image: id, in: transaction)
            }
        }
        return try await image(owner: owner, id: id)
    }

    /// Deletes an image and everything derived from it for good.
    public func deletePermanently(owner: UUID, id: UUID) async throws {
        let keys = try await database.transaction { transaction in
            guard let keys = try await Self.delete(owner: owner, ids: [id], activity: "delete", in: transaction).first else {
                throw APIError.notFound("Image \(id.lowercased)")
            }
            return keys
        }
        // The collector would get them too; deleting now frees the space at once.
        for key in keys { await vault.deleteNow(key) }
    }

    /// Deletes rows, queues their blobs for deletion and records the activity; returns each
    /// deleted image's blob keys.
    static func delete(owner: UUID?, ids: [UUID], activity: String, in transaction: Transaction) async throws -> [[String]] {
        let rows = try await transaction.rows("""
            DELETE FROM images WHERE id = ANY(\(ids)) AND (\(owner)::uuid IS NULL OR owner_id = \(owner))
            RETURNING id, owner_id, file_name, byte_size, original_key, preview_key, thumbnail_key
            """) { try $0.decode((UUID, UUID, String, Int64, String, String?, String?).self) }
        var all: [[String]] = []
        for (image, imageOwner, fileName, bytes, original, preview, thumbnail) in rows {
            let keys = [original] + [preview, thumbnail].compactMap { $0 }
            try await BlobVault.discard(keys, in: transaction)
            try await recordActivity(
                activity, owner: imageOwner, image: image, detail: ["file_name": fileName, "bytes": String(bytes)], in: transaction)
            all.append(keys)
        }
        return all
    }
}
