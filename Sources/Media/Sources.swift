#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Synchronous random access to a file's plaintext bytes.
///
/// libvips reads through this while decoding, from whichever thread runs the call (and, for
/// sequential decodes, from its worker threads, one read at a time), so implementations must be
/// `Sendable`: safe to call from any thread, though never concurrently for one Media call.
public protocol RandomAccessSource: AnyObject, Sendable {
    /// Total length in bytes.
    var size: Int64 { get }
    /// Reads up to `buffer.count` bytes at `offset`; returns bytes read (0 at end). Throws on failure.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Bytes already in memory; immutable, hence `Sendable`.
public final class MemorySource: RandomAccessSource {
    private let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of bytes.
    public var size: Int64 { Int64(bytes.count) }

    /// Copies bytes from `offset`.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset >= 0 else { throw SourceError.invalidOffset(offset) }
        guard offset < Int64(bytes.count), buffer.count > 0 else { return 0 }
        let start = Int(offset)
        let count = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[start..<start + count]))
        }
        return count
    }
}

/// A plain file read with `pread`, so several reads never share a file position and the file
/// is never loaded whole. The descriptor is immutable and closed on deinit, hence `Sendable`.
public final class FileSource: RandomAccessSource {
    private let descriptor: Int32
    /// The file's length when it was opened.
    public let size: Int64

    /// Opens `path` read-only.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceError.system(operation: "open", path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SourceError.system(operation: "stat", path: path, errno: code)
        }
        descriptor = fd
        size = Int64(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Reads with `pread`, retrying on EINTR.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset >= 0 else { throw SourceError.invalidOffset(offset) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = pread(descriptor, base, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw SourceError.system(operation: "read", path: nil, errno: errno) }
        }
    }
}

/// Failures of the sources in this module.
public enum SourceError: Error, Equatable, CustomStringConvertible {
    /// A negative offset was asked for.
    case invalidOffset(Int64)
    /// A system call failed.
    case system(operation: String, path: String?, errno: Int32)

    /// A sentence for logs.
    public var description: String {
        switch self {
        case .invalidOffset(let offset):
            return "Invalid read offset \(offset)."
        case .system(let operation, let path, let code):
            let reason = String(cString: strerror(code))
            return "Could not \(operation)\(path.map { " \($0)" } ?? ""): \(reason)."
        }
    }
}
