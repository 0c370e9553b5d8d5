import Foundation
import Logging

/// A private folder for this process's staging files (sealed uploads on their way to the blob
/// store, originals fetched for decoding). Folders left by processes that died are removed
/// when the next process starts, so a `kill -9` leaves nothing behind for long.
public struct StagingArea: Sendable {
    public let folder: URL

    /// Creates `<parent>/<pid>-<random>` and removes siblings whose process is gone.
    public init(parent: URL, logger: Logger) throws {
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let own = "\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] {
            guard let pid = name.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
            // A folder with our own pid is a predecessor's (containers restart as pid 1).
            if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
                logger.info("removed the staging files of a stopped process", metadata: ["pid": "\(pid)"])
            }
        }
        folder = parent.appendingPathComponent(own)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// A fresh path in the folder (nothing is created).
    public func newFile(_ suffix: String = "sealed") -> URL {
        folder.appendingPathComponent("\(UUID().uuidString.lowercased()).\(suffix)")
    }

    /// Removes a staging file if it is still there.
    public func remove(_ file: URL) {
        try? FileManager.default.removeItem(at: file)
    }

    /// Removes the whole folder (at shutdown).
    public func removeAll() {
        try? FileManager.default.removeItem(at: folder)
    }
}
