import Crypto
import Foundation

/// The on-disk format of every stored blob: chunked AES-256-GCM under the owner's data key.
///
/// ```
/// header (24 bytes, also part of every chunk's AAD)
///   0..<4    magic "PVB1"
///   4        format version (1)
///   5        log2 of the plaintext chunk size (16: 64 KiB)
///   6..<8    reserved, zero
///   8..<12   data key version (UInt32, big-endian): which of the owner's data keys sealed it
///   12..<20  nonce prefix: 8 random bytes, fresh per blob
///   20..<24  reserved, zero
/// chunks, in order: ciphertext of `chunkSize` plaintext bytes (the last one shorter, possibly
///   empty) followed by its 16-byte GCM tag
///   nonce = nonce prefix ‖ chunk index (UInt32, big-endian)
///   AAD   = header ‖ blob id length (UInt32) ‖ blob id (UTF-8) ‖ chunk index (UInt64) ‖ final flag (1 byte)
/// ```
///
/// Binding the blob id stops a chunk or a whole blob from being swapped in from another
/// blob; binding the index stops reordering; the final flag makes a blob cut at a chunk
/// boundary fail instead of reading as a shorter file. Fixed-size chunks let a range be read
/// by decrypting only the chunks it touches. An empty plaintext is one empty final chunk.
public struct BlobCipher: Sendable {
    public static let magic: [UInt8] = Array("PVB1".utf8)
    public static let formatVersion: UInt8 = 1
    public static let headerSize = 24
    public static let tagSize = 16
    public static let defaultChunkShift: UInt8 = 16

    /// The parsed header of a blob.
    public struct Header: Sendable, Equatable {
        public var keyVersion: UInt32
        public var noncePrefix: [UInt8]
        public var chunkShift: UInt8

        public var chunkSize: Int { 1 << Int(chunkShift) }

        /// A header for a new blob, with a fresh random nonce prefix.
        public static func fresh(keyVersion: UInt32, chunkShift: UInt8 = BlobCipher.defaultChunkShift) -> Header {
            var generator = SystemRandomNumberGenerator()
            return Header(keyVersion: keyVersion, noncePrefix: (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }, chunkShift: chunkShift)
        }

        public var bytes: [UInt8] {
            var bytes = BlobCipher.magic
            bytes += [BlobCipher.formatVersion, chunkShift, 0, 0]
            bytes += withUnsafeBytes(of: keyVersion.bigEndian, Array.init)
            bytes += noncePrefix
            bytes += [0, 0, 0, 0]
            return bytes
        }

        /// Parses the first ``BlobCipher/headerSize`` bytes of a blob.
        public init(parsing bytes: some Collection<UInt8>) throws {
            let bytes = Array(bytes.prefix(BlobCipher.headerSize))
            guard bytes.count == BlobCipher.headerSize, Array(bytes[0..<4]) == BlobCipher.magic else {
                throw BlobCipherError.corrupt("it does not start with a PhotoVault blob header")
            }
            guard bytes[4] == BlobCipher.formatVersion else {
                throw BlobCipherError.corrupt("its format version \(bytes[4]) is not one this server reads")
            }
            guard (12...24).contains(bytes[5]) else { throw BlobCipherError.corrupt("its chunk size is out of range") }
            self.chunkShift = bytes[5]
            self.keyVersion = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
            self.noncePrefix = Array(bytes[12..<20])
        }

        init(keyVersion: UInt32, noncePrefix: [UInt8], chunkShift: UInt8) {
            self.keyVersion = keyVersion
            self.noncePrefix = noncePrefix
            self.chunkShift = chunkShift
        }
    }

    let key: SymmetricKey
    let header: Header
    let blobID: String
    private let headerBytes: [UInt8]

    public init(key: SymmetricKey, header: Header, blobID: String) {
        self.key = key
        self.header = header
        self.blobID = blobID
        self.headerBytes = header.bytes
    }

    public var chunkSize: Int { header.chunkSize }
    /// Bytes one full chunk takes on disk.
    public var sealedChunkSize: Int { chunkSize + Self.tagSize }

    private func nonce(_ index: Int) throws -> AES.GCM.Nonce {
        guard index >= 0, index <= Int(UInt32.max) else { throw BlobCipherError.corrupt("it has too many chunks") }
        return try AES.GCM.Nonce(data: header.noncePrefix + withUnsafeBytes(of: UInt32(index).bigEndian, Array.init))
    }

    private func aad(_ index: Int, final: Bool) -> [UInt8] {
        let id = Array(blobID.utf8)
        return headerBytes + withUnsafeBytes(of: UInt32(id.count).bigEndian, Array.init) + id
            + withUnsafeBytes(of: UInt64(index).bigEndian, Array.init) + [final ? 1 : 0]
    }

    /// Seals chunk `index` (at most ``chunkSize`` bytes): ciphertext followed by its tag.
    public func seal(_ plaintext: some DataProtocol, index: Int, final: Bool) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: try nonce(index), authenticating: aad(index, final: final))
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// Opens chunk `index`; throws ``BlobCipherError/tampered`` when anything about it was altered.
    public func open(_ sealed: some Collection<UInt8>, index: Int, final: Bool) throws -> [UInt8] {
        let sealed = Array(sealed)
        guard sealed.count >= Self.tagSize else { throw BlobCipherError.corrupt("chunk \(index) is cut short") }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: try nonce(index), ciphertext: sealed.dropLast(Self.tagSize), tag: sealed.suffix(Self.tagSize))
            return Array(try AES.GCM.open(box, using: key, authenticating: aad(index, final: final)))
        } catch {
            throw BlobCipherError.tampered(chunk: index)
        }
    }

    /// The layout of a blob of `sealedSize` bytes (header included).
    public struct Layout: Sendable, Equatable {
        public var chunkCount: Int
        public var plaintextSize: Int64
    }

    /// How many chunks a blob of `sealedSize` bytes holds and how much plaintext they carry.
    public func layout(sealedSize: Int64) throws -> Layout {
        let body = sealedSize - Int64(Self.headerSize)
        let full = Int64(sealedChunkSize)
        guard body >= Int64(Self.tagSize) else { throw BlobCipherError.corrupt("it is shorter than one chunk") }
        let count = (body + full - 1) / full
        let last = body - (count - 1) * full - Int64(Self.tagSize)
        guard last >= 0 else { throw BlobCipherError.corrupt("its last chunk is cut short") }
        return Layout(chunkCount: Int(count), plaintextSize: (count - 1) * Int64(chunkSize) + last)
    }

    /// The sealed size of `plaintextSize` bytes.
    public static func sealedSize(plaintextSize: Int64, chunkShift: UInt8 = defaultChunkShift) -> Int64 {
        let chunk = Int64(1) << Int64(chunkShift)
        let chunks = max(1, (plaintextSize + chunk - 1) / chunk)
        return Int64(headerSize) + plaintextSize + chunks * Int64(tagSize)
    }

    /// Where chunk `index` starts on disk.
    public func sealedOffset(ofChunk index: Int) -> Int64 {
        Int64(Self.headerSize) + Int64(index) * Int64(sealedChunkSize)
    }

    /// Seals a whole small plaintext (a thumbnail, say) in one go.
    public static func sealWhole(
        _ plaintext: [UInt8], key: SymmetricKey, keyVersion: UInt32, blobID: String, chunkShift: UInt8 = defaultChunkShift
    ) throws -> [UInt8] {
        let cipher = BlobCipher(key: key, header: .fresh(keyVersion: keyVersion, chunkShift: chunkShift), blobID: blobID)
        var out = cipher.header.bytes
        var index = 0
        var start = 0
        repeat {
            let end = min(start + cipher.chunkSize, plaintext.count)
            out += try cipher.seal(plaintext[start..<end], index: index, final: end == plaintext.count)
            index += 1
            start = end
        } while start < plaintext.count
        return out
    }
}

/// Why a blob could not be read back.
public enum BlobCipherError: Error, Equatable, CustomStringConvertible {
    /// A chunk failed authentication: the stored bytes were altered, cut, reordered or swapped.
    case tampered(chunk: Int)
    /// The blob is not in the expected format.
    case corrupt(String)
    /// The owner's data key of that version is gone.
    case missingKey(UInt32)

    public var description: String {
        switch self {
        case .tampered(let chunk): "The stored blob failed its integrity check at chunk \(chunk); it was altered or damaged."
        case .corrupt(let reason): "The stored blob is damaged: \(reason)."
        case .missingKey(let version): "The data key version \(version) that sealed this blob no longer exists."
        }
    }
}

/// Encrypts a stream of plaintext into a local staging file in the ``BlobCipher`` format,
/// hashing it on the way, with at most one chunk held in memory.
public final class SealingFileWriter {
    public let url: URL
    private let cipher: BlobCipher
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var index = 0
    private var hasher = SHA256()
    public private(set) var plaintextSize: Int64 = 0
    private var finished = false

    /// Creates (or truncates) `url` and writes the header.
    public init(url: URL, key: SymmetricKey, keyVersion: UInt32, blobID: String) throws {
        self.url = url
        self.cipher = BlobCipher(key: key, header: .fresh(keyVersion: keyVersion), blobID: blobID)
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw BlobStoreError.unavailable("Cannot create the staging file \(url.path).")
        }
        self.handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: cipher.header.bytes)
        pending.reserveCapacity(cipher.chunkSize)
    }

    deinit { try? handle.close() }

    /// Appends plaintext; full chunks are sealed and written, but the last full chunk is held
    /// back until more arrives, because only then is it known not to be the final one.
    public func append(_ bytes: some Collection<UInt8>) throws {
        precondition(!finished, "append after finish")
        hasher.update(data: Array(bytes))
        plaintextSize += Int64(bytes.count)
        var rest = bytes[...]
        while !rest.isEmpty {
            if pending.count == cipher.chunkSize {
                try handle.write(contentsOf: try cipher.seal(pending, index: index, final: false))
                index += 1
                pending.removeAll(keepingCapacity: true)
            }
            let take = min(cipher.chunkSize - pending.count, rest.count)
            pending.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
        }
    }

    /// Seals the final chunk, closes the file and returns the plaintext's SHA-256. (The blob
    /// store makes it durable: it fsyncs on its own threads, off Swift's cooperative pool.)
    @discardableResult
    public func finish() throws -> [UInt8] {
        precondition(!finished, "finish twice")
        finished = true
        try handle.write(contentsOf: try cipher.seal(pending, index: index, final: true))
        try handle.close()
        return Array(hasher.finalize())
    }
}
