import Foundation
import Logging
import Media
import PostgresNIO

/// One message of an upload stream, as the domain sees it.
public enum UploadPiece: Sendable {
    case header(UploadTarget)
    case chunk([UInt8])
}

/// What an upload's header says.
public struct UploadTarget: Sendable {
    public var fileName: String
    /// 0 when unknown.
    public var declaredSize: Int64
    public var eventID: Int64?
    public var albumID: String

    public init(fileName: String, declaredSize: Int64, eventID: Int64?, albumID: String) {
        self.fileName = fileName
        self.declaredSize = declaredSize
        self.eventID = eventID
        self.albumID = albumID
    }
}

/// An upload's result: the stored image, or the caller's existing one with the same bytes.
public struct UploadOutcome: Sendable {
    public var image: ImageRecord
    public var duplicate: Bool
}

extension ImageLibrary {
    /// Streams an upload into a sealed staging file (hashing on the way, in bounded memory),
    /// checks it is a whole image within the limits, then stores it. On any failure nothing
    /// remains: no row, no blob, no staging file.
    public func upload(owner: UUID, _ pieces: some AsyncSequence<UploadPiece, any Error>) async throws -> UploadOutcome {
        var iterator = pieces.makeAsyncIterator()
        guard case .header(let target)? = try await iterator.next() else {
            throw APIError.invalid("header", "must be the first message of an upload")
        }
        let fileName = try Self.cleanFileName(target.fileName)
        guard target.declaredSize >= 0 else { throw APIError.invalid("declared_size", "must not be negative") }
        if target.declaredSize > limits.maxBytes { throw tooLarge(target.declaredSize) }
        let albumID = try await checkTargets(owner: owner, albumID: target.albumID, eventID: target.eventID)

        let imageID = UUID()
        let originalKey = BlobVault.Key.original(owner: owner, image: imageID)
        let (writer, keyVersion) = try await vault.sealingWriter(owner: owner, blobKey: originalKey)
        do {
            var prefix: [UInt8] = []
            while let piece = try await iterator.next() {
                guard case .chunk(let bytes) = piece else {
                    throw APIError.invalid("header", "must be sent once, as the first message")
                }
                let total = writer.plaintextSize + Int64(bytes.count)
                if total > limits.maxBytes { throw tooLarge(total) }
                if target.declaredSize > 0, total > target.declaredSize {
                    throw APIError.invalid("declared_size", "is \(target.declaredSize) bytes but more arrived")
                }
                if prefix.count < 32 {
                    prefix += bytes.prefix(32 - prefix.count)
                    // Refuse a ZIP or an executable now, not after 200 MiB of it.
                    if prefix.count == 32, Media.sniff(prefix) == nil { throw ImageError.notAnImage(Self.unsupported(prefix)) }
                }
                try writer.append(bytes)
            }
            guard writer.plaintextSize > 0 else { throw ImageError.notAnImage("The file is empty.") }
            if Media.sniff(prefix) == nil { throw ImageError.notAnImage(Self.unsupported(prefix)) }
            if target.declaredSize > 0, writer.plaintextSize != target.declaredSize {
                throw APIError.invalid("declared_size", "is \(target.declaredSize) bytes but \(writer.plaintextSize) arrived")
            }
            let sha256 = try writer.finish()
            return try await ingest(
                StagedOriginal(
                    imageID: imageID, owner: owner, file: writer.url, keyVersion: keyVersion, sha256: sha256,
                    byteSize: writer.plaintextSize, fileName: fileName, eventID: target.eventID, albumID: albumID),
                session: nil)
        } catch {
            vault.staging.remove(writer.url)
            throw error
        }
    }

    /// A sealed original waiting in the staging area.
    struct StagedOriginal: Sendable {
        var imageID: UUID
        var owner: UUID
        var file: URL
        var keyVersion: UInt32
        var sha256: [UInt8]
        var byteSize: Int64
        var fileName: String
        var eventID: Int64?
        /// The caller's album to add the image to, checked before the bytes were stored.
        var albumID: UUID?

        var originalKey: String { BlobVault.Key.original(owner: owner, image: imageID) }
    }

    /// Stores a staged original unless the owner already has these bytes: probe and full
    /// decode first, then the blob, then, in one transaction, the row, its stages, its jobs and
    /// its activity (and the session's completion, for a resumable upload).
    func ingest(_ staged: StagedOriginal, session: UUID?) async throws -> UploadOutcome {
        if let existing = try await images.find(owner: staged.owner, sha256: staged.sha256) {
            vault.staging.remove(staged.file)
            if let session { try await markFinished(session, image: existing.id, duplicate: true, owner: staged.owner) }
            // Uploading a trashed photo again means the owner wants it back.
            if existing.deletedAt != nil { _ = try await restore(owner: staged.owner, id: existing.id) }
            try await applyTargets(staged, image: existing.id)
            return UploadOutcome(image: try await image(owner: staged.owner, id: existing.id), duplicate: true)
        }
        let key = try await vault.keys.key(owner: staged.owner, version: staged.keyVersion)
        let limit = limits.maxPixels
        let probe: ImageProbe
        do {
            probe = try await BlockingWork.run {
                let source = try SealedFileSource(url: staged.file, blobID: staged.originalKey) { _ in key }
                let probe = try Media.probe(source, maxPixels: limit)
                try Media.validate(source, maxPixels: limit)
                return probe
            }
        } catch let error as MediaError {
            throw ImageError.from(error, limit: limit)
        }

        try await vault.put(staged.originalKey, movingFile: staged.file)
        let record = NewImage(
            id: staged.imageID, owner: staged.owner, fileName: staged.fileName, byteSize: staged.byteSize, sha256: staged.sha256,
            probe: probe, eventID: staged.eventID, keyVersion: staged.keyVersion, originalKey: staged.originalKey)
        do {
            try await database.transaction { transaction in
                try await images.insert(record, in: transaction)
                // The place step of the metadata stage (pending if the places are not loaded yet).
                try await PlaceDirectory.resolve(images: [staged.imageID], in: transaction)
                if let album = staged.albumID {
                    try await AlbumRepository.addUploaded(staged.imageID, to: album, owner: staged.owner, in: transaction)
                }
                try await BlobVault.claim([staged.originalKey], in: transaction)
                try await Self.recordActivity(
                    "upload", owner: staged.owner, image: staged.imageID,
                    detail: ["file_name": staged.fileName, "bytes": String(staged.byteSize)], in: transaction)
                try await ImageStages.announce(
                    ImageChange(owner: staged.owner, image: staged.imageID, stage: "", stageState: "", overall: "processing", error: ""),
                    in: transaction)
                for kind in Pipeline.afterUpload {
                    try await JobQueue.enqueue(kind, imageID: staged.imageID, ownerID: staged.owner, in: transaction)
                }
                if let session {
                    try await Self.finishSession(session, image: staged.imageID, duplicate: false, in: transaction)
                }
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            // The same bytes arrived twice at once; the other upload won.
            await vault.deleteNow(staged.originalKey)
            guard let existing = try await images.find(owner: staged.owner, sha256: staged.sha256) else { throw error }
            if let session { try await markFinished(session, image: existing.id, duplicate: true, owner: staged.owner) }
            try await applyTargets(staged, image: existing.id)
            return UploadOutcome(image: try await image(owner: staged.owner, id: existing.id), duplicate: true)
        } catch {
            await vault.deleteNow(staged.originalKey)
            throw error
        }
        logger.info("image stored", metadata: ["image_id": "\(staged.imageID)", "bytes": "\(staged.byteSize)", "format": "\(probe.format.rawValue)"])
        return UploadOutcome(image: try await image(owner: staged.owner, id: staged.imageID), duplicate: false)
    }

    /// Applies an upload's album, and its event when the image is in none yet, to the caller's
    /// existing image (a duplicate upload).
    private func applyTargets(_ staged: StagedOriginal, image: UUID) async throws {
        guard staged.albumID != nil || staged.eventID != nil else { return }
        try await database.transaction { transaction in
            if let album = staged.albumID {
                try await AlbumRepository.addUploaded(image, to: album, owner: staged.owner, in: transaction)
            }
            if let event = staged.eventID {
                try await EventRepository.fileDuplicate(image, owner: staged.owner, event: event, in: transaction)
            }
        }
    }

    func tooLarge(_ bytes: Int64) -> ImageError {
        .tooLarge("The file is larger than this server's limit of \(Self.mebibytes(limits.maxBytes)) (\(limits.maxBytes) bytes).")
    }

    static func mebibytes(_ bytes: Int64) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) MiB" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// The sentence for bytes that are no image we accept, naming what they look like.
    static func unsupported(_ prefix: [UInt8]) -> String {
        let accepted = "PhotoVault accepts JPEG, PNG, WebP, HEIC, TIFF, GIF and AVIF images."
        let starts = { (magic: [UInt8]) in prefix.starts(with: magic) }
        if prefix.isEmpty { return "The file is empty." }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "The file is a ZIP archive, not an image. \(accepted)" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "The file is an ELF executable, not an image. \(accepted)" }
        if starts(Array("%PDF".utf8)) { return "The file is a PDF document, not an image. \(accepted)" }
        if starts([0x4D, 0x5A]) { return "The file is a Windows executable, not an image. \(accepted)" }
        return "The file is not an image in a format PhotoVault accepts. \(accepted)"
    }
}
