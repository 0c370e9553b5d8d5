import Crypto
import Foundation
import Media
import Synchronization

/// Random access to the plaintext of a sealed file on local disk, decrypting only the chunks
/// a read touches (the last one is kept), so libvips can decode an encrypted original without
/// it ever being whole in memory or plaintext on disk.
public final class SealedFileSource: RandomAccessSource, @unchecked Sendable {
    private let handle: FileHandle
    private let cipher: BlobCipher
    private let layout: BlobCipher.Layout
    /// The most recently decrypted chunk; libvips reads sequentially in small pieces.
    private let cached = Mutex<(index: Int, bytes: [UInt8])?>(nil)

    /// Opens `url`, sealed for `blobID` with `key`.
    public init(url: URL, blobID: String, key: (UInt32) throws -> SymmetricKey) throws {
        self.handle = try FileHandle(forReadingFrom: url)
        let header = try BlobCipher.Header(parsing: try handle.read(upToCount: BlobCipher.headerSize) ?? Data())
        self.cipher = BlobCipher(key: try key(header.keyVersion), header: header, blobID: blobID)
        let size = try handle.seekToEnd()
        self.layout = try cipher.layout(sealedSize: Int64(size))
    }

    deinit { try? handle.close() }

    public var size: Int64 { layout.plaintextSize }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset >= 0, offset < layout.plaintextSize, buffer.count > 0 else { return 0 }
        let chunkSize = Int64(cipher.chunkSize)
        var written = 0
        var position = offset
        while written < buffer.count, position < layout.plaintextSize {
            let index = Int(position / chunkSize)
            let chunk = try plaintext(ofChunk: index)
            let start = Int(position - Int64(index) * chunkSize)
            let count = min(chunk.count - start, buffer.count - written)
            guard count > 0 else { break }
            chunk.withUnsafeBytes { source in
                buffer.baseAddress!.advanced(by: written).copyMemory(from: source.baseAddress!.advanced(by: start), byteCount: count)
            }
            written += count
            position += Int64(count)
        }
        return written
    }

    private func plaintext(ofChunk index: Int) throws -> [UInt8] {
        if let cached = cached.withLock({ $0 }), cached.index == index { return cached.bytes }
        try handle.seek(toOffset: UInt64(cipher.sealedOffset(ofChunk: index)))
        let sealed = try handle.read(upToCount: cipher.sealedChunkSize) ?? Data()
        let bytes = try cipher.open(sealed, index: index, final: index == layout.chunkCount - 1)
        cached.withLock { $0 = (index, bytes) }
        return bytes
    }
}
