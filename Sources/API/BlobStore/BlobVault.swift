import Crypto
import Foundation
import Logging
import Media
import PostgresNIO

/// Sealed blobs of users, end to end: seals with the owner's data key, writes to the blob store
/// without leaving orphans, and opens them again for reading or decoding.
///
/// No orphans: a key is registered in `blob_garbage` before its blob is written, and the
/// transaction that makes a row point at the blob removes the registration (``claim(_:in:)``).
/// If anything fails in between, even a crash, the collector deletes the blob later.
public struct BlobVault: Sendable {
    public let store: any BlobStore
    public let keys: DataKeys
    public let staging: StagingArea
    let database: Database
    let logger: Logger
    /// How long an unclaimed blob may wait for its row before the collector may take it.
    var claimWindow: Duration = .seconds(3600)

    public init(store: any BlobStore, keys: DataKeys, staging: StagingArea, database: Database, logger: Logger) {
        self.store = store
        self.keys = keys
        self.staging = staging
        self.database = database
        self.logger = logger
    }

    /// Blob keys: owner first, so one user's blobs can be listed and shredded together.
    public enum Key {
        public static func original(owner: UUID, image: UUID) -> String { "originals/\(owner.lowercased)/\(image.lowercased)" }
        /// Derivatives get a fresh key per rendering, so a re-run never overwrites (or, failing,
        /// deletes) the blob a row points to or a download is reading.
        public static func preview(owner: UUID, image: UUID, rendering: UUID) -> String {
            "previews/\(owner.lowercased)/\(image.lowercased)-\(rendering.lowercased.prefix(8))"
        }
        public static func thumbnail(owner: UUID, image: UUID, rendering: UUID) -> String {
            "thumbnails/\(owner.lowercased)/\(image.lowercased)-\(rendering.lowercased.prefix(8))"
        }
        /// Session parts: one key per write attempt, so two streams racing for the same offset
        /// never share (and then delete) one blob.
        public static func sessionPart(owner: UUID, session: UUID, offset: Int64, attempt: UUID) -> String {
            "sessions/\(owner.lowercased)/\(session.lowercased)/\(offset)-\(attempt.lowercased.prefix(8))"
        }
    }

    /// A writer that seals into a new staging file under the owner's current data key.
    /// The blob id bound into every chunk is the blob key it will be stored under.
    public func sealingWriter(owner: UUID, blobKey: String) async throws -> (writer: SealingFileWriter, keyVersion: UInt32) {
        let key = try await keys.current(owner: owner)
        return (try SealingFileWriter(url: staging.newFile(), key: key.key, keyVersion: key.version, blobID: blobKey), key.version)
    }

    /// Registers `blobKey` as garbage unless claimed, then moves the sealed file into the store.
    public func put(_ blobKey: String, movingFile file: URL) async throws {
        do {
            try await register(blobKey)
            try await store.put(blobKey, movingFile: file)
        } catch {
            staging.remove(file)
            throw error
        }
    }

    /// Seals a small plaintext (a derivative) and stores it; returns the key version used.
    public func put(_ blobKey: String, plaintext: [UInt8], owner: UUID) async throws -> UInt32 {
        let key = try await keys.current(owner: owner)
        let sealed = try BlobCipher.sealWhole(plaintext, key: key.key, keyVersion: key.version, blobID: blobKey)
        try await register(blobKey)
        try await store.put(blobKey, bytes: sealed)
        return key.version
    }

    private func register(_ blobKey: String) async throws {
        let seconds = Double(claimWindow.components.seconds)
        try await database.execute("""
            INSERT INTO blob_garbage (blob_key, not_before) VALUES (\(blobKey), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (blob_key) DO UPDATE SET not_before = excluded.not_before
            """)
    }

    /// Makes the blob permanent: call in the transaction that stores the row pointing at it.
    public static func claim(_ blobKeys: [String], in transaction: Transaction) async throws {
        try await transaction.execute("DELETE FROM blob_garbage WHERE blob_key = ANY(\(blobKeys))")
    }

    /// Marks blobs for deletion: call in the transaction that drops the rows pointing at them.
    public static func discard(_ blobKeys: [String], in transaction: Transaction) async throws {
        guard !blobKeys.isEmpty else { return }
        try await transaction.execute("""
            INSERT INTO blob_garbage (blob_key, not_before) SELECT unnest(\(blobKeys)), now()
            ON CONFLICT (blob_key) DO UPDATE SET not_before = now()
            """)
    }

    /// Deletes a blob now and forgets it (a failed upload cleaning up after itself).
    public func deleteNow(_ blobKey: String) async {
        do {
            try await store.delete(blobKey)
            try await database.execute("DELETE FROM blob_garbage WHERE blob_key = \(blobKey)")
        } catch {
            logger.warning("could not delete a blob at once; the collector will", metadata: ["blob": "\(blobKey)", "error": "\(error)"])
        }
    }

    /// Opens a stored blob of `owner` for ranged, authenticated reads.
    public func open(_ blobKey: String, owner: UUID) async throws -> SealedBlob {
        try await SealedBlob.open(store: store, storageKey: blobKey, blobID: blobKey) { version in
            try await keys.key(owner: owner, version: version)
        }
    }

    /// Fetches a stored blob into a staging file and opens it for random access by a decoder.
    /// The caller removes the file (``StagingArea/remove(_:)``) when done.
    public func openLocally(_ blobKey: String, owner: UUID) async throws -> (source: SealedFileSource, file: URL) {
        let file = staging.newFile()
        do {
            try await store.download(blobKey, to: file)
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            let header = try BlobCipher.Header(parsing: try handle.read(upToCount: BlobCipher.headerSize) ?? Data())
            let key = try await keys.key(owner: owner, version: header.keyVersion)
            return (try SealedFileSource(url: file, blobID: blobKey) { _ in key }, file)
        } catch {
            staging.remove(file)
            throw error
        }
    }

    /// Deletes blobs whose registration is due, oldest first; returns how many went.
    @discardableResult
    public func collectGarbage(limit: Int = 1000) async throws -> Int {
        let due = try await database.rows("""
            SELECT blob_key FROM blob_garbage WHERE not_before <= now() ORDER BY not_before LIMIT \(Int32(limit))
            """) { try $0.decode(String.self) }
        for key in due {
            try await store.delete(key)
            try await database.execute("DELETE FROM blob_garbage WHERE blob_key = \(key) AND not_before <= now()")
        }
        return due.count
    }
}

extension UUID {
    /// The lower-case form used in blob keys and logs.
    var lowercased: String { uuidString.lowercased() }
}
