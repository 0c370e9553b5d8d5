import Foundation
import GRPCCore
import Logging

/// Where the encrypted bytes of originals, derivatives and upload sessions are kept.
///
/// Stores see only ciphertext (``BlobCipher`` encrypts before anything reaches them) and
/// opaque keys such as `originals/<owner>/<image>`. Two implementations pass one shared
/// test suite: ``LocalBlobStore`` (files) and ``S3BlobStore`` (S3-compatible object storage).
public protocol BlobStore: Sendable {
    /// A short name for logs and errors ("local", "s3").
    var name: String { get }

    /// Stores the complete file at `file` under `key`, replacing any object there, and takes
    /// the file away (it no longer exists afterwards, whether this succeeds or throws).
    /// Atomic: a reader sees the old object, the whole new one, or nothing, never a part.
    func put(_ key: String, movingFile file: URL) async throws

    /// Stores `bytes` under `key`; atomic like ``put(_:movingFile:)``.
    func put(_ key: String, bytes: [UInt8]) async throws

    /// Up to `length` bytes of the object from `offset`; fewer at its end, none past it.
    /// Throws ``BlobStoreError/notFound(_:)`` when there is no such object.
    func read(_ key: String, offset: Int64, length: Int) async throws -> [UInt8]

    /// The object's size in bytes, or nil when there is no such object.
    func size(of key: String) async throws -> Int64?

    /// Writes the whole object into the local file `file` (created or replaced), so it can be
    /// read at random without a round trip per read.
    func download(_ key: String, to file: URL) async throws

    /// Removes the object; removing an absent object is not an error.
    func delete(_ key: String) async throws

    /// Every key that starts with `prefix`, in no particular order.
    func list(prefix: String) async throws -> [String]
}

/// Why a blob store call failed.
public enum BlobStoreError: Error, Equatable, CustomStringConvertible {
    /// No object has this key.
    case notFound(String)
    /// The key is empty, absolute, contains `..`, or characters outside `[A-Za-z0-9._/-]`.
    case invalidKey(String)
    /// The store could not be reached or refused the request; the sentence says which and why.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let key): "No blob is stored under '\(key)'."
        case .invalidKey(let key): "'\(key)' is not a valid blob key."
        case .unavailable(let reason): reason
        }
    }

    /// Checks a key against the rules every store enforces.
    public static func validate(_ key: String) throws {
        let allowed = key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2F || byte == 0x2D
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, key.utf8.count <= 512, allowed, !key.hasPrefix("/"), !key.hasSuffix("/"),
            !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw BlobStoreError.invalidKey(key) }
    }
}

extension BlobStoreError: RPCErrorConvertible {
    /// An unreachable store is UNAVAILABLE (retry); a blob a row points to that is missing is
    /// DATA_LOSS; a bad key is a bug.
    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .unavailable: .unavailable
        case .notFound: .dataLoss
        case .invalidKey: .internalError
        }
    }

    public var rpcErrorMessage: String { description }
}

/// The blob store the configuration names: S3 when a bucket is set, else local files (with
/// half-written files of dead processes removed). An S3 store must be shut down after use.
public func makeBlobStore(config: APIConfig, logger: Logger) throws -> (store: any BlobStore, s3: S3BlobStore?) {
    if let s3 = config.s3 {
        let store = S3BlobStore(configuration: s3, logger: logger)
        logger.notice("blobs are stored in S3-compatible storage", metadata: ["s3": "\(s3)"])
        return (store, store)
    }
    let store = try LocalBlobStore(root: config.effectiveBlobFolder)
    let removed = store.removeAbandonedTemporaryFiles()
    if removed > 0 { logger.info("removed blob files a stopped process left half-written", metadata: ["count": "\(removed)"]) }
    return (store, nil)
}
