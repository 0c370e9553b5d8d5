import Crypto
import Foundation
import Synchronization

/// The versioned master keys (key-encryption keys) that wrap every user's data key.
///
/// They come from `PHOTOVAULT_MASTER_KEYS` (`version:base64` pairs) or from a key file of
/// `version base64` lines (`PHOTOVAULT_MASTER_KEY_FILE`, default `<data>/master-keys`, created
/// 0600 on first start). The highest version wraps new data keys; older versions stay to
/// unwrap until `keys rotate` has re-wrapped everything.
public final class MasterKeys: Sendable {
    /// Where the keys came from; only a file can take a new version.
    public enum Origin: Sendable, Equatable {
        case file(URL)
        case environment
    }

    public let origin: Origin
    private let keys: Mutex<[Int: SymmetricKey]>

    init(origin: Origin, keys: [Int: SymmetricKey]) {
        self.origin = origin
        self.keys = Mutex(keys)
    }

    /// The version that wraps new data keys.
    public var currentVersion: Int { keys.withLock { $0.keys.max() ?? 0 } }

    /// Every version known.
    public var versions: [Int] { keys.withLock { $0.keys.sorted() } }

    /// The key of `version`, re-reading the key file once when it is unknown (another replica
    /// may have rotated).
    func key(version: Int) throws -> SymmetricKey {
        if let key = keys.withLock({ $0[version] }) { return key }
        if case .file(let url) = origin, let reread = try? Self.readFile(url) {
            keys.withLock { $0.merge(reread) { current, _ in current } }
            if let key = reread[version] { return key }
        }
        throw MasterKeyError.unknownVersion(version)
    }

    var current: (version: Int, key: SymmetricKey) {
        keys.withLock { keys in
            let version = keys.keys.max() ?? 0
            return (version, keys[version]!)
        }
    }

    /// Adds a new version to the key file and makes it current. The file is locked and read
    /// again first, so a rotation by another process (the CLI beside a running server, another
    /// replica) is never given the same version number with a different key.
    @discardableResult
    func addVersion() throws -> Int {
        guard case .file(let url) = origin else { throw MasterKeyError.notAFile }
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        guard flock(handle.fileDescriptor, LOCK_EX) == 0 else { throw MasterKeyError.unreadable(url.path, "it cannot be locked") }
        defer { flock(handle.fileDescriptor, LOCK_UN) }
        let onDisk = try Self.readFile(url)
        keys.withLock { $0.merge(onDisk) { _, disk in disk } }
        let version = max(currentVersion, onDisk.keys.max() ?? 0) + 1
        let key = SymmetricKey(size: .bits256)
        let line = "\(version) \(key.withUnsafeBytes { Data($0).base64EncodedString() })\n"
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.synchronize()
        keys.withLock { $0[version] = key }
        return version
    }

    /// Loads the keys the configuration names; with neither set, reads or creates the
    /// default file. `created` is true when a new file was written: it must be backed up.
    public static func load(pairs: String?, file: URL) throws -> (keys: MasterKeys, created: Bool) {
        if let pairs {
            return (MasterKeys(origin: .environment, keys: try parse(pairs: pairs)), false)
        }
        if !FileManager.default.fileExists(atPath: file.path) {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let key = SymmetricKey(size: .bits256)
            let text = "# PhotoVault master keys: version, then a base64 256-bit key. BACK THIS FILE UP:\n"
                + "# without it no photo stored by this server can ever be read again.\n"
                + "1 \(key.withUnsafeBytes { Data($0).base64EncodedString() })\n"
            guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw MasterKeyError.unreadable(file.path, "it cannot be created")
            }
            return (MasterKeys(origin: .file(file), keys: [1: key]), true)
        }
        return (MasterKeys(origin: .file(file), keys: try readFile(file)), false)
    }

    /// Parses `version:base64,version:base64`.
    static func parse(pairs: String) throws -> [Int: SymmetricKey] {
        var keys: [Int: SymmetricKey] = [:]
        for pair in pairs.split(separator: ",") {
            let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let version = Int(parts[0]), version > 0 else {
                throw MasterKeyError.malformed("PHOTOVAULT_MASTER_KEYS", "each entry must be version:base64key, e.g. 1:\(String(repeating: "A", count: 43))=")
            }
            keys[version] = try key(from: parts[1], origin: "PHOTOVAULT_MASTER_KEYS", version: version)
        }
        guard !keys.isEmpty else { throw MasterKeyError.malformed("PHOTOVAULT_MASTER_KEYS", "it holds no key") }
        return keys
    }

    static func readFile(_ url: URL) throws -> [Int: SymmetricKey] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw MasterKeyError.unreadable(url.path, "it cannot be read")
        }
        var keys: [Int: SymmetricKey] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let version = Int(parts[0]), version > 0 else {
                throw MasterKeyError.malformed(url.path, "line \(number + 1) must be 'version base64key'")
            }
            guard keys[version] == nil else {
                throw MasterKeyError.malformed(url.path, "version \(version) appears twice (line \(number + 1)); keep the one that opens your data keys")
            }
            keys[version] = try key(from: parts[1], origin: url.path, version: version)
        }
        guard !keys.isEmpty else { throw MasterKeyError.malformed(url.path, "it holds no key") }
        return keys
    }

    private static func key(from base64: String, origin: String, version: Int) throws -> SymmetricKey {
        guard let data = Data(base64Encoded: base64), data.count == 32 else {
            throw MasterKeyError.malformed(origin, "key version \(version) must be 32 bytes in base64")
        }
        return SymmetricKey(data: data)
    }
}

/// Problems with the master keys, phrased for the operator.
public enum MasterKeyError: Error, Equatable, CustomStringConvertible {
    case unknownVersion(Int)
    case notAFile
    case malformed(String, String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .unknownVersion(let version):
            "Master key version \(version) is not known to this server; give every replica the same master keys."
        case .notAFile:
            "Master keys come from PHOTOVAULT_MASTER_KEYS: add a new version there, restart every replica, then run `photovault-api keys rotate`."
        case .malformed(let origin, let reason): "The master keys in \(origin) are malformed: \(reason)."
        case .unreadable(let path, let reason): "The master key file \(path) is unusable: \(reason)."
        }
    }
}
