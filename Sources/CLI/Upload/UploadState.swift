import Crypto
import Foundation

/// What an unfinished upload of one file left behind, so that the next run resumes it:
/// `~/.config/photovault/uploads/<key>.json`, keyed by server, account, path, size and
/// modification time (a changed file starts afresh). Removed once the file is stored.
struct UploadState: Codable, Sendable {
    var path: String
    var size: Int64
    var modified: Date
    var sha256: String
    var sessionID: String?
    var createdAt: Date

    /// Sessions live 24 h on the server; older state is useless.
    static let lifetime: TimeInterval = 25 * 3600

    static var folder: URL { Credentials.file.deletingLastPathComponent().appendingPathComponent("uploads") }

    static func key(server: String, account: String, candidate: PhotoFinder.Candidate) -> String {
        let identity = "\(server)\n\(account)\n\(candidate.absolutePath)\n\(candidate.size)\n\(candidate.modified.timeIntervalSince1970)"
        return SHA256.hash(data: Data(identity.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func load(key: String) -> UploadState? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("\(key).json")),
              let state = try? decoder.decode(UploadState.self, from: data),
              state.createdAt.timeIntervalSinceNow > -lifetime else { return nil }
        return state
    }

    /// Written atomically, mode 0600 in a 0700 folder.
    func save(key: String) {
        let folder = Self.folder
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(self) else { return }
        let temporary = folder.appendingPathComponent(".\(key)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary.path, folder.appendingPathComponent("\(key).json").path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    static func remove(key: String) {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("\(key).json"))
    }

    /// Removes state older than a session's lifetime.
    static func prune() {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.contentModificationDateKey]) else { return }
        for entry in entries {
            let modified = (try? entry.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? Date()
            if modified.timeIntervalSinceNow < -lifetime { try? manager.removeItem(at: entry) }
        }
    }
}

/// SHA-256 of a file, read 1 MiB at a time; stops early when the task is cancelled.
func sha256(ofFile path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError.local("Cannot read \(path).") }
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        try Task.checkCancellation()
        hasher.update(data: chunk)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
