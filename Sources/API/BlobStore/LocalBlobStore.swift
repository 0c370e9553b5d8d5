import Crypto
import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blob store in a local folder: one file per object, written atomically and durably.
///
/// Layout under `root`:
/// - `objects/<2 hex>/<2 hex>/<name>`: the hex is the start of the key's SHA-256, which spreads
///   objects over 65,536 folders so none grows huge; `<name>` is the key with `/` written as
///   `~` (keys never contain `~`), so listing can decode keys back. Names longer than a file
///   name may be are split into folders whose names end in `+`.
/// - `tmp/`: files being written; each is renamed into `objects/` once complete and synced.
///   A crashed process may leave files here; the owner of the store sweeps them.
///
/// Blocking file calls run on NIO's thread pool, never on Swift's cooperative threads.
public struct LocalBlobStore: BlobStore {
    /// The folder that holds everything this store writes.
    public let root: URL
    /// Where objects live, in sharded folders.
    public let objectsFolder: URL
    /// Where files are written before they are renamed into place (same filesystem as objects).
    public let temporaryFolder: URL
    private let threadPool: NIOThreadPool

    /// "local".
    public var name: String { "local" }

    /// Opens (creating when missing) a store under `root`.
    ///
    /// - Parameter threadPool: Runs the blocking file calls; NIO's shared pool unless given.
    public init(root: URL, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root.standardizedFileURL
        self.objectsFolder = self.root.appendingPathComponent("objects", isDirectory: true)
        self.temporaryFolder = self.root.appendingPathComponent("tmp", isDirectory: true)
        self.threadPool = threadPool
        do {
            try FileManager.default.createDirectory(at: objectsFolder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: temporaryFolder, withIntermediateDirectories: true)
        } catch {
            throw BlobStoreError.unavailable("The local blob store could not create its folders under '\(self.root.path)': \(error.localizedDescription)")
        }
    }

    // MARK: BlobStore

    /// Moves `file` into the store (a rename when it is on the same filesystem, a copy
    /// otherwise); `file` is gone afterwards, whether this succeeds or throws.
    public func put(_ key: String, movingFile file: URL) async throws {
        let source = file.path
        do {
            try BlobStoreError.validate(key)
        } catch {
            unlink(source)
            throw error
        }
        let destination = objectPath(for: key)
        let temporaryFolder = temporaryFolder.path
        try await blocking(operation: "store", key: key) {
            defer { unlink(source) }
            // The caller may not have synced; a rename of unsynced data can leave an empty file after a crash.
            try Self.syncFile(atPath: source)
            try Self.createParentFolders(of: destination, objectsFolder: objectsFolder.path)
            do {
                try Self.moveIntoPlace(source, destination)
                return
            } catch let failure as POSIXFailure where failure.call == "rename" && failure.code == EXDEV {
                // Another filesystem: copy beside the objects first, so the final rename stays atomic.
            }
            let temporary = Self.temporaryPath(in: temporaryFolder)
            defer { unlink(temporary) }
            try Self.copyFile(from: source, to: temporary)
            try Self.moveIntoPlace(temporary, destination)
        }
    }

    /// Writes `bytes` to a temporary file, syncs it and renames it into place.
    public func put(_ key: String, bytes: [UInt8]) async throws {
        try BlobStoreError.validate(key)
        let destination = objectPath(for: key)
        let temporaryFolder = temporaryFolder.path
        try await blocking(operation: "store", key: key) {
            let temporary = Self.temporaryPath(in: temporaryFolder)
            defer { unlink(temporary) }
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw POSIXFailure(call: "create", code: errno) }
            defer { close(descriptor) }
            try Self.writeAll(bytes[...], to: descriptor)
            guard fsync(descriptor) == 0 else { throw POSIXFailure(call: "fsync", code: errno) }
            try Self.createParentFolders(of: destination, objectsFolder: objectsFolder.path)
            try Self.moveIntoPlace(temporary, destination)
        }
    }

    /// Reads with `pread`, so only the requested range is loaded.
    public func read(_ key: String, offset: Int64, length: Int) async throws -> [UInt8] {
        try BlobStoreError.validate(key)
        guard offset >= 0, length >= 0 else {
            throw BlobStoreError.unavailable("The local blob store cannot read a negative range (offset \(offset), length \(length)) of '\(key)'.")
        }
        let path = objectPath(for: key).path
        return try await blocking(operation: "read", key: key) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw POSIXFailure(call: "open", code: errno) }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw POSIXFailure(call: "fstat", code: errno) }
            let available = max(0, Int64(status.st_size) - offset)
            let count = Int(min(Int64(length), available))
            guard count > 0 else { return [] }
            var buffer = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let got = buffer.withUnsafeMutableBytes { raw in
                    pread(descriptor, raw.baseAddress.map { $0 + filled }, count - filled, off_t(offset) + off_t(filled))
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw POSIXFailure(call: "pread", code: errno)
                }
                if got == 0 { break }  // The file shrank under us; return what there was.
                filled += got
            }
            if filled < count { buffer.removeSubrange(filled...) }
            return buffer
        }
    }

    /// The file's size from `stat`.
    public func size(of key: String) async throws -> Int64? {
        try BlobStoreError.validate(key)
        let path = objectPath(for: key).path
        return try await blocking(operation: "measure", key: key) {
            var status = stat()
            if stat(path, &status) == 0 { return Int64(status.st_size) }
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw POSIXFailure(call: "stat", code: errno)
        }
    }

    /// Copies the object beside `file` and renames it over `file`, so `file` is never half written.
    public func download(_ key: String, to file: URL) async throws {
        try BlobStoreError.validate(key)
        let source = objectPath(for: key).path
        let destination = file.path
        try await blocking(operation: "download", key: key) {
            let folder = (destination as NSString).deletingLastPathComponent
            let temporary = Self.temporaryPath(in: folder.isEmpty ? "." : folder)
            defer { unlink(temporary) }
            try Self.copyFile(from: source, to: temporary)
            guard posixRename(temporary, destination) == 0 else { throw POSIXFailure(call: "rename", code: errno) }
        }
    }

    /// Unlinks the file; an absent one is fine.
    public func delete(_ key: String) async throws {
        try BlobStoreError.validate(key)
        let path = objectPath(for: key)
        let objects = objectsFolder.path
        try await blocking(operation: "delete", key: key) {
            guard unlink(path.path) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return }
                throw POSIXFailure(call: "unlink", code: errno)
            }
            try Self.syncFolder(atPath: path.folder)
            // Continuation folders of long names would pile up empty; the shard folders stay.
            var folder = path.folder
            while folder.hasSuffix("+"), folder.hasPrefix(objects), rmdir(folder) == 0 {
                folder = (folder as NSString).deletingLastPathComponent
            }
        }
    }

    /// Walks every shard; the hash spreads keys, so a prefix cannot narrow the walk.
    public func list(prefix: String) async throws -> [String] {
        let objects = objectsFolder.path
        return try await blocking(operation: "list", key: prefix) {
            var keys: [String] = []
            for first in try Self.entries(of: objects) where first.count == 2 {
                let firstPath = objects + "/" + first
                for second in try Self.entries(of: firstPath) where second.count == 2 {
                    try Self.collectKeys(in: firstPath + "/" + second, encodedPrefix: "", prefix: prefix, into: &keys)
                }
            }
            return keys
        }
    }

    // MARK: Paths

    /// Where the object `key` lives (the key must be valid).
    func objectPath(for key: String) -> ObjectPath {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        let shard = AWSSignatureV4.hex(digest[0..<1]) + "/" + AWSSignatureV4.hex(digest[1..<2])
        var encoded = Substring(String(key.map { $0 == "/" ? "~" : $0 }))
        // Linux allows 255 bytes per name and keys reach 512: longer names become folders of
        // 200 characters plus '+' (outside the key alphabet), leaving a last part of 51 to 250
        // characters, which can never be '.' or '..'.
        var components: [Substring] = []
        while encoded.count > 250 {
            components.append(encoded.prefix(200) + "+")
            encoded = encoded.dropFirst(200)
        }
        components.append(encoded)
        let path = objectsFolder.path + "/" + shard + "/" + components.joined(separator: "/")
        return ObjectPath(path: path)
    }

    /// A file path under `objects/` and the folder that holds it.
    struct ObjectPath: Sendable {
        let path: String
        var folder: String { (path as NSString).deletingLastPathComponent }
    }

    // MARK: Blocking helpers (run on the thread pool)

    /// Runs `body` on the thread pool and turns POSIX failures into ``BlobStoreError``.
    private func blocking<T: Sendable>(operation: String, key: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch let failure as POSIXFailure {
            if failure.call == "open" && failure.code == ENOENT && (operation == "read" || operation == "download") {
                throw BlobStoreError.notFound(key)
            }
            throw BlobStoreError.unavailable(
                "The local blob store could not \(operation) '\(key)' under '\(root.path)': \(failure.call) failed with \(failure.message)."
            )
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError.unavailable("The local blob store could not \(operation) '\(key)' under '\(root.path)': \(error).")
        }
    }

    /// A unique name in `folder`: pid, time and a random UUID, so concurrent writers and
    /// processes never collide.
    static func temporaryPath(in folder: String) -> String {
        folder + "/.blob-\(getpid())-\(UUID().uuidString.lowercased()).tmp"
    }

    static func createParentFolders(of destination: ObjectPath, objectsFolder: String) throws {
        var missing: [String] = []
        var folder = destination.folder
        while folder.count > objectsFolder.count, access(folder, F_OK) != 0 {
            missing.append(folder)
            folder = (folder as NSString).deletingLastPathComponent
        }
        for folder in missing.reversed() {
            if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw POSIXFailure(call: "mkdir", code: errno) }
            // A new folder's name must be durable too, or a crash could lose the object inside it.
            try syncFolder(atPath: (folder as NSString).deletingLastPathComponent)
        }
    }

    /// Renames a synced temporary file over the destination and syncs the folder, so the new
    /// name survives a crash. A concurrent delete may remove an empty continuation folder
    /// between creating it and renaming; that is retried.
    static func moveIntoPlace(_ temporary: String, _ destination: ObjectPath) throws {
        for attempt in 0..<3 {
            if posixRename(temporary, destination.path) == 0 {
                try syncFolder(atPath: destination.folder)
                return
            }
            let code = errno
            guard code == ENOENT, attempt < 2, access(temporary, F_OK) == 0 else { throw POSIXFailure(call: "rename", code: code) }
            if mkdir(destination.folder, 0o755) != 0 && errno != EEXIST { throw POSIXFailure(call: "mkdir", code: errno) }
        }
    }

    static func syncFile(atPath path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXFailure(call: "open", code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw POSIXFailure(call: "fsync", code: errno) }
    }

    static func syncFolder(atPath path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXFailure(call: "open", code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw POSIXFailure(call: "fsync", code: errno) }
    }

    /// Copies `source` to a new file `destination` in 1 MiB steps and syncs it.
    static func copyFile(from source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw POSIXFailure(call: "open", code: errno) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw POSIXFailure(call: "create", code: errno) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = buffer.withUnsafeMutableBytes { posixRead(input, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw POSIXFailure(call: "read", code: errno)
            }
            if got == 0 { break }
            try writeAll(buffer[0..<got], to: output)
        }
        guard fsync(output) == 0 else { throw POSIXFailure(call: "fsync", code: errno) }
    }

    static func writeAll(_ bytes: ArraySlice<UInt8>, to descriptor: Int32) throws {
        try bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let result = posixWrite(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw POSIXFailure(call: "write", code: errno)
                }
                written += result
            }
        }
    }

    /// The names in a folder, without `.` and `..`; an absent folder has none.
    static func entries(of folder: String) throws -> [String] {
        guard let directory = opendir(folder) else {
            if errno == ENOENT { return [] }
            throw POSIXFailure(call: "opendir", code: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Decodes the names in one shard folder (and its continuation folders) into keys.
    static func collectKeys(in folder: String, encodedPrefix: String, prefix: String, into keys: inout [String]) throws {
        for name in try entries(of: folder) {
            if name.hasSuffix("+") {
                try collectKeys(in: folder + "/" + name, encodedPrefix: encodedPrefix + name.dropLast(), prefix: prefix, into: &keys)
                continue
            }
            let key = String((encodedPrefix + name).map { $0 == "~" ? "/" : $0 })
            // Anything else (a stray file someone put there) is not one of our objects.
            guard key.hasPrefix(prefix), (try? BlobStoreError.validate(key)) != nil else { continue }
            keys.append(key)
        }
    }
}

/// A failed POSIX call, turned into a ``BlobStoreError`` at the store's edge.
struct POSIXFailure: Error {
    let call: String
    let code: Int32
    var message: String { "\(String(cString: strerror(code))) (errno \(code))" }
}

// Module-level wrappers: inside the store, `read` and `write` would name its own methods.
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

private func posixRename(_ source: String, _ destination: String) -> Int32 {
    rename(source, destination)
}
