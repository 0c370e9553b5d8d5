import Foundation
import Logging
import Media
import PostgresNIO

/// Makes an image's preview (1440 px JPEG q80) and thumbnail (250 px WebP), auto-rotated and
/// stripped of metadata, sealed like the original.
public struct DerivativesJob: JobHandler {
    public let kind = Pipeline.derivatives
    let database: Database
    let vault: BlobVault
    let logger: Logger

    public static let preview = (longestSide: 1440, encoding: Media.Encoding.jpeg(quality: 80))
    public static let thumbnail = (longestSide: 250, encoding: Media.Encoding.webp(quality: 75))

    public init(database: Database, vault: BlobVault, logger: Logger) {
        self.database = database
        self.vault = vault
        self.logger = logger
    }

    public func run(_ job: Job) async throws -> JobOutcome {
        guard let imageID = job.imageID, let owner = job.ownerID else { throw JobFailure.permanent("The job names no image.") }
        guard
            let originalKey = try await database.row(
                "SELECT original_key FROM images WHERE id = \(imageID) AND owner_id = \(owner)", { try $0.decode(String.self) })
        else { return .done }  // Deleted meanwhile: nothing to make.
        let (source, file) = try await vault.openLocally(originalKey, owner: owner)
        defer { vault.staging.remove(file) }
        let renditions: (Media.Rendition, Media.Rendition, UInt64)
        do {
            renditions = try await BlockingWork.run {
                let preview = try Media.render(source, longestSide: Self.preview.longestSide, as: Self.preview.encoding)
                let thumbnail = try Media.render(source, longestSide: Self.thumbnail.longestSide, as: Self.thumbnail.encoding)
                // Hashed from the upright thumbnail: the duplicates job compares these where no
                // image embedding exists.
                return (preview, thumbnail, try Media.differenceHash(MemorySource(thumbnail.bytes)))
            }
        } catch let error as MediaError {
            // The original passed a full decode at upload; if it fails now, retrying will not help.
            throw JobFailure.permanent(error.description)
        } catch let error as BlobCipherError {
            throw JobFailure.permanent(error.description)
        }
        let (preview, thumbnail, hash) = renditions
        let rendering = UUID()
        let previewKey = BlobVault.Key.preview(owner: owner, image: imageID, rendering: rendering)
        let thumbnailKey = BlobVault.Key.thumbnail(owner: owner, image: imageID, rendering: rendering)
        _ = try await vault.put(previewKey, plaintext: preview.bytes, owner: owner)
        _ = try await vault.put(thumbnailKey, plaintext: thumbnail.bytes, owner: owner)
        try await database.transaction { transaction in
            // An earlier rendering (a re-run) is replaced; its blobs go once this commits.
            let earlier = try await transaction.row(
                "SELECT preview_key, thumbnail_key FROM images WHERE id = \(imageID) AND owner_id = \(owner) FOR UPDATE",
                { try $0.decode((String?, String?).self) })
            let updated = try await transaction.row("""
                UPDATE images SET preview_key = \(previewKey), preview_size = \(Int64(preview.bytes.count)),
                    preview_width = \(Int32(preview.width)), preview_height = \(Int32(preview.height)),
                    thumbnail_key = \(thumbnailKey), thumbnail_size = \(Int64(thumbnail.bytes.count)),
                    thumbnail_width = \(Int32(thumbnail.width)), thumbnail_height = \(Int32(thumbnail.height)),
                    perceptual_hash = \(Int64(bitPattern: hash)), updated_at = now()
                WHERE id = \(imageID) AND owner_id = \(owner)
                RETURNING id
                """) { _ in true } ?? false
            // When the image went meanwhile, the unclaimed blobs are collected with the rest.
            if updated {
                try await BlobVault.claim([previewKey, thumbnailKey], in: transaction)
                try await BlobVault.discard([earlier?.0, earlier?.1].compactMap { $0 }, in: transaction)
            }
        }
        return .done
    }
}

/// Purges what is due: images past the trash retention, expired upload sessions, finished
/// jobs and sessions older than a week, and blobs queued for deletion. Queued hourly by
/// ``Housekeeping``; any replica may run it.
public struct PurgeJob: JobHandler {
    public let kind = Pipeline.purge
    let database: Database
    let vault: BlobVault
    let limits: ImageLimits
    let logger: Logger

    public init(database: Database, vault: BlobVault, limits: ImageLimits, logger: Logger) {
        self.database = database
        self.vault = vault
        self.limits = limits
        self.logger = logger
    }

    public func run(_ job: Job) async throws -> JobOutcome {
        let retention = Double(limits.trashRetention.components.seconds)
        var purged = 0
        while true {
            let batch = try await database.transaction { transaction in
                let ids = try await transaction.rows("""
                    SELECT id FROM images WHERE deleted_at < now() - make_interval(secs => \(retention))
                    ORDER BY deleted_at LIMIT 200 FOR UPDATE SKIP LOCKED
                    """) { try $0.decode(UUID.self) }
                return try await ImageLibrary.delete(owner: nil, ids: ids, activity: "purge", in: transaction).count
            }
            purged += batch
            if batch == 0 { break }
        }
        let sessions = try await database.transaction { transaction in
            // Lock the sessions first, so no part can be committed to one between the deletes.
            let expired = try await transaction.rows("""
                SELECT id FROM upload_sessions
                WHERE (finished_at IS NULL AND expires_at < now()) OR finished_at < now() - interval '7 days'
                FOR UPDATE
                """) { try $0.decode(UUID.self) }
            let keys = try await transaction.rows(
                "DELETE FROM upload_session_parts WHERE session_id = ANY(\(expired)) RETURNING blob_key") { try $0.decode(String.self) }
            try await BlobVault.discard(keys, in: transaction)
            try await transaction.execute("DELETE FROM upload_sessions WHERE id = ANY(\(expired))")
            return expired.count
        }
        try await database.execute("DELETE FROM jobs WHERE state = 'succeeded' AND updated_at < now() - interval '7 days'")
        var collected = 0
        while true {
            let count = try await vault.collectGarbage()
            collected += count
            if count == 0 { break }
        }
        if purged + sessions + collected > 0 {
            logger.info("purged", metadata: ["images": "\(purged)", "sessions": "\(sessions)", "blobs": "\(collected)"])
        }
        return .done
    }

    /// Queues a purge unless one is waiting already.
    static func schedule(database: Database) async throws {
        try await database.transaction { transaction in
            let waiting = try await transaction.row(
                "SELECT 1 FROM jobs WHERE kind = \(Pipeline.purge) AND state IN ('queued', 'running', 'failed')", { _ in true }) ?? false
            if !waiting { try await JobQueue.enqueue(Pipeline.purge, imageID: nil, ownerID: nil, in: transaction) }
        }
    }
}
