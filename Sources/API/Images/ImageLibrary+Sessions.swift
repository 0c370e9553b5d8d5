import Foundation
import Logging
import Media
import PostgresNIO

/// A resumable upload as its owner sees it.
public struct UploadSession: Sendable, Equatable {
    public enum State: String, Sendable { case open, complete, finished, expired }
    public var id: UUID
    public var totalSize: Int64
    public var bytesReceived: Int64
    public var state: State
    public var expiresAt: Date
    public var imageID: UUID?
}

/// One UploadChunks message.
public struct SessionChunk: Sendable {
    public var sessionID: String
    public var offset: Int64
    public var data: [UInt8]
    public init(sessionID: String, offset: Int64, data: [UInt8]) {
        self.sessionID = sessionID
        self.offset = offset
        self.data = data
    }
}

extension ImageLibrary {
    /// Suggested bytes per UploadChunks message.
    public static let chunkSizeHint = 1024 * 1024

    /// Opens a resumable upload.
    public func createSession(
        owner: UUID, fileName rawName: String, totalSize: Int64, sha256 hex: String, eventID: Int64?, albumID: String
    ) async throws -> UploadSession {
        let fileName = try Self.cleanFileName(rawName)
        guard totalSize > 0 else { throw APIError.invalid("total_size", "must be more than 0") }
        if totalSize > limits.maxBytes { throw tooLarge(totalSize) }
        var expected: [UInt8]?
        if !hex.isEmpty {
            guard let bytes = Self.hexBytes(hex), bytes.count == 32 else {
                throw APIError.invalid("sha256", "must be 64 hexadecimal digits")
            }
            expected = bytes
        }
        let album = try await checkTargets(owner: owner, albumID: albumID, eventID: eventID)
        let id = UUID()
        let seconds = Double(limits.sessionLifetime.components.seconds)
        let expires = try await database.row("""
            INSERT INTO upload_sessions (id, owner_id, file_name, total_size, expected_sha256, event_id, album_id, expires_at)
            VALUES (\(id), \(owner), \(fileName), \(totalSize), \(expected.map { Data($0) }), \(eventID), \(album?.lowercased ?? ""), now() + make_interval(secs => \(seconds)))
            RETURNING expires_at
            """) { try $0.decode(Date.self) }
        return UploadSession(id: id, totalSize: totalSize, bytesReceived: 0, state: .open, expiresAt: expires ?? Date(), imageID: nil)
    }

    /// Where a session stands; NOT_FOUND for another user's or an unknown session.
    public func session(owner: UUID, id rawID: String) async throws -> UploadSession {
        let id = try parseID(rawID, field: "session_id")
        guard let session = try await loadSession(owner: owner, id: id, in: nil) else { throw APIError.notFound("Upload session \(id.lowercased)") }
        return session
    }

    private func loadSession(owner: UUID, id: UUID, in transaction: Transaction?, lock: Bool = false) async throws -> UploadSession? {
        let query: PostgresQuery = """
            SELECT s.total_size, s.expires_at, s.finished_at IS NOT NULL, s.image_id, s.expires_at < now(),
                coalesce((SELECT sum(length) FROM upload_session_parts p WHERE p.session_id = s.id), 0)::bigint
            FROM upload_sessions s WHERE s.id = \(id) AND s.owner_id = \(owner) \(unescaped: lock ? "FOR UPDATE OF s" : "")
            """
        let decode: @Sendable (PostgresRow) throws -> UploadSession = { row in
            let (total, expires, finished, image, expired, received) = try row.decode((Int64, Date, Bool, UUID?, Bool, Int64).self)
            let state: UploadSession.State = finished ? .finished : expired ? .expired : received >= total ? .complete : .open
            return UploadSession(id: id, totalSize: total, bytesReceived: received, state: state, expiresAt: expires, imageID: image)
        }
        if let transaction { return try await transaction.row(query, decode) }
        return try await database.row(query, decode)
    }

    /// Appends the chunks of one UploadChunks call. Bytes become durable in parts of
    /// ``ImageLimits/sessionPartSize``; the answer is the bytes durable so far, which is also
    /// where a client resumes after a broken stream or a server crash.
    public func appendChunks(owner: UUID, _ chunks: some AsyncSequence<SessionChunk, any Error>) async throws -> Int64 {
        var session: UploadSession?
        var sessionText = ""
        var expectedOffset: Int64 = 0
        var part: (writer: SealingFileWriter, key: String, offset: Int64, version: UInt32)?
        do {
            for try await chunk in chunks {
                if session == nil {
                    let loaded = try await self.session(owner: owner, id: chunk.sessionID)
                    try Self.requireOpen(loaded)
                    session = loaded
                    sessionText = chunk.sessionID
                    expectedOffset = loaded.bytesReceived
                }
                guard let current = session else { break }
                guard chunk.sessionID == sessionText else {
                    throw APIError.invalid("session_id", "must be the same in every message of a stream")
                }
                guard chunk.offset == expectedOffset else {
                    throw APIError.failedPrecondition(
                        "Offset \(chunk.offset) is not where the upload stands: \(expectedOffset) bytes are received; resume from there.")
                }
                guard chunk.offset + Int64(chunk.data.count) <= current.totalSize else {
                    throw APIError.invalid("data", "goes past total_size (\(current.totalSize) bytes)")
                }
                if chunk.data.isEmpty { continue }
                if part == nil {
                    let key = BlobVault.Key.sessionPart(owner: owner, session: current.id, offset: expectedOffset, attempt: UUID())
                    let (writer, version) = try await vault.sealingWriter(owner: owner, blobKey: key)
                    part = (writer, key, expectedOffset, version)
                }
                try part!.writer.append(chunk.data)
                expectedOffset += Int64(chunk.data.count)
                if let full = part, full.writer.plaintextSize >= Int64(limits.sessionPartSize) {
                    // Cleared first: a part whose commit failed must not be committed again below.
                    part = nil
                    try await commit(full, session: current.id, owner: owner)
                }
            }
            if let pending = part, let current = session {
                part = nil
                try await commit(pending, session: current.id, owner: owner)
            }
        } catch {
            // Keep what arrived intact before a broken stream: the client resumes after it.
            if let pending = part, let current = session, !(error is APIError) {
                try? await commit(pending, session: current.id, owner: owner)
            } else if let pending = part {
                vault.staging.remove(pending.writer.url)
            }
            throw error
        }
        guard let current = session else { throw APIError.invalid("session_id", "is missing: the stream carried no message") }
        return try await self.session(owner: owner, id: current.id.lowercased).bytesReceived
    }

    /// Makes one part durable: sealed file to the blob store, then its row, if the session is
    /// still open and the part still starts where the session ends.
    private func commit(_ part: (writer: SealingFileWriter, key: String, offset: Int64, version: UInt32), session: UUID, owner: UUID) async throws {
        let length = part.writer.plaintextSize
        let (key, offset, version) = (part.key, part.offset, part.version)
        try part.writer.finish()
        try await vault.put(key, movingFile: part.writer.url)
        do {
            try await database.transaction { transaction in
                guard let current = try await loadSession(owner: owner, id: session, in: transaction, lock: true) else {
                    throw APIError.notFound("Upload session \(session.lowercased)")
                }
                try Self.requireOpen(current)
                guard current.bytesReceived == offset else {
                    throw APIError.failedPrecondition(
                        "Another stream wrote to this upload meanwhile; \(current.bytesReceived) bytes are received; resume from there.")
                }
                try await transaction.execute("""
                    INSERT INTO upload_session_parts (session_id, byte_offset, length, blob_key, data_key_version)
                    VALUES (\(session), \(offset), \(length), \(key), \(Int32(version)))
                    """)
                try await BlobVault.claim([key], in: transaction)
            }
        } catch {
            await vault.deleteNow(key)
            throw error
        }
    }

    private static func requireOpen(_ session: UploadSession) throws {
        switch session.state {
        case .finished: throw APIError.failedPrecondition("This upload session is finished; start a new one to upload more.")
        case .expired: throw APIError.failedPrecondition("This upload session expired and its bytes were discarded; start a new one.")
        case .open, .complete: break
        }
    }

    /// Assembles a complete session into an image (or answers the image it already made).
    public func finishSession(owner: UUID, id rawID: String) async throws -> UploadOutcome {
        let current = try await session(owner: owner, id: rawID)
        if current.state == .finished {
            guard let imageID = current.imageID, let record = try await images.find(owner: owner, id: imageID) else {
                throw APIError.notFound("The image of this finished upload session")
            }
            let duplicate = try await database.row("SELECT duplicate FROM upload_sessions WHERE id = \(current.id)") { try $0.decode(Bool.self) } ?? false
            return UploadOutcome(image: record, duplicate: duplicate)
        }
        try Self.requireOpen(current)
        guard current.bytesReceived == current.totalSize else {
            throw APIError.failedPrecondition(
                "\(current.totalSize - current.bytesReceived) bytes are missing: \(current.bytesReceived) of \(current.totalSize) received.")
        }
        let (fileName, eventID, expected, albumText) = try await database.row(
            "SELECT file_name, event_id, expected_sha256, album_id FROM upload_sessions WHERE id = \(current.id)"
        ) { row -> (String, Int64?, [UInt8]?, String) in
            let (name, event, hash, album) = try row.decode((String, Int64?, Data?, String).self)
            return (name, event, hash.map(Array.init), album)
        } ?? ("", nil, nil, "")
        // Checked when the session was opened; an album deleted since is simply not applied.
        let albumID = UUID(uuidString: albumText)
        let parts = try await database.rows(
            "SELECT byte_offset, length, blob_key FROM upload_session_parts WHERE session_id = \(current.id) ORDER BY byte_offset"
        ) { try $0.decode((Int64, Int64, String).self) }

        let imageID = UUID()
        let originalKey = BlobVault.Key.original(owner: owner, image: imageID)
        let (writer, keyVersion) = try await vault.sealingWriter(owner: owner, blobKey: originalKey)
        do {
            var prefix: [UInt8] = []
            for (_, _, key) in parts {
                let blob = try await vault.open(key, owner: owner)
                try await blob.read(0..<blob.plaintextSize) { bytes in
                    if prefix.count < 32 { prefix += bytes.prefix(32 - prefix.count) }
                    try writer.append(bytes)
                }
            }
            guard writer.plaintextSize == current.totalSize else {
                throw APIError.failedPrecondition("The stored parts hold \(writer.plaintextSize) of \(current.totalSize) bytes.")
            }
            if Media.sniff(prefix) == nil { throw ImageError.notAnImage(Self.unsupported(prefix)) }
            let sha256 = try writer.finish()
            if let expected, expected != sha256 {
                throw APIError.invalid("sha256", "does not match the bytes received (they hash to \(Self.hex(sha256)))")
            }
            return try await ingest(
                StagedOriginal(
                    imageID: imageID, owner: owner, file: writer.url, keyVersion: keyVersion, sha256: sha256,
                    byteSize: current.totalSize, fileName: fileName, eventID: eventID, albumID: albumID),
                session: current.id)
        } catch {
            vault.staging.remove(writer.url)
            throw error
        }
    }

    /// Marks a session finished (outside an upload transaction: the duplicate case).
    func markFinished(_ session: UUID, image: UUID, duplicate: Bool, owner: UUID) async throws {
        try await database.transaction { transaction in
            try await Self.finishSession(session, image: image, duplicate: duplicate, in: transaction)
        }
    }

    /// Records the session's image and discards its parts, whose bytes now live in the original.
    static func finishSession(_ session: UUID, image: UUID, duplicate: Bool, in transaction: Transaction) async throws {
        let keys = try await transaction.rows(
            "DELETE FROM upload_session_parts WHERE session_id = \(session) RETURNING blob_key") { try $0.decode(String.self) }
        try await BlobVault.discard(keys, in: transaction)
        try await transaction.execute("""
            UPDATE upload_sessions SET finished_at = now(), image_id = \(image), duplicate = \(duplicate)
            WHERE id = \(session) AND finished_at IS NULL
            """)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
