import Crypto
import Foundation

/// A stored blob opened for reading: its header checked, its size known, ranges decrypted
/// chunk by chunk as they are read, never more than one batch of chunks in memory.
public struct SealedBlob: Sendable {
    let store: any BlobStore
    let storageKey: String
    let cipher: BlobCipher
    /// The plaintext size and chunk count.
    public let layout: BlobCipher.Layout

    /// Opens `storageKey`, asking `key` for the data key of the version its header names.
    public static func open(
        store: any BlobStore, storageKey: String, blobID: String,
        key: (UInt32) async throws -> SymmetricKey
    ) async throws -> SealedBlob {
        guard let sealedSize = try await store.size(of: storageKey) else { throw BlobStoreError.notFound(storageKey) }
        let header = try BlobCipher.Header(parsing: try await store.read(storageKey, offset: 0, length: BlobCipher.headerSize))
        let cipher = BlobCipher(key: try await key(header.keyVersion), header: header, blobID: blobID)
        return SealedBlob(store: store, storageKey: storageKey, cipher: cipher, layout: try cipher.layout(sealedSize: sealedSize))
    }

    public var plaintextSize: Int64 { layout.plaintextSize }

    /// Decrypts `range` of the plaintext and hands it to `body` in pieces of at most
    /// `batchChunks` chunks, in order. Every piece is authenticated before `body` sees it.
    public func read(
        _ range: Range<Int64>, batchChunks: Int = 16,
        _ body: ([UInt8]) async throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
        let chunkSize = Int64(cipher.chunkSize)
        var chunk = Int(range.lowerBound / chunkSize)
        let lastChunk = Int((range.upperBound - 1) / chunkSize)
        while chunk <= lastChunk {
            let count = min(batchChunks, lastChunk - chunk + 1)
            let sealed = try await store.read(
                storageKey, offset: cipher.sealedOffset(ofChunk: chunk), length: count * cipher.sealedChunkSize)
            var piece: [UInt8] = []
            piece.reserveCapacity(count * cipher.chunkSize)
            var position = 0
            for index in chunk..<(chunk + count) {
                let final = index == layout.chunkCount - 1
                let length = min(cipher.sealedChunkSize, sealed.count - position)
                guard length >= BlobCipher.tagSize else { throw BlobCipherError.corrupt("chunk \(index) is missing") }
                var plain = try cipher.open(sealed[position..<(position + length)], index: index, final: final)
                // Trim to the asked range at both ends (the final chunk may be short).
                let chunkStart = Int64(index) * chunkSize
                let chunkEnd = chunkStart + Int64(plain.count)
                if chunkEnd > range.upperBound { plain.removeLast(min(plain.count, Int(chunkEnd - range.upperBound))) }
                if chunkStart < range.lowerBound { plain.removeFirst(min(plain.count, Int(range.lowerBound - chunkStart))) }
                piece += plain
                position += length
            }
            try await body(piece)
            chunk += count
        }
    }

    /// The whole plaintext (for small blobs such as thumbnails).
    public func readAll() async throws -> [UInt8] {
        var all: [UInt8] = []
        try await read(0..<plaintextSize) { all += $0 }
        return all
    }
}
