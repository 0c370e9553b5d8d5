import Crypto
import Foundation
import Testing
@testable import API

@Suite("Sealed blob format")
struct BlobCipherTests {
    let key = SymmetricKey(size: .bits256)

    private func seal(_ plaintext: [UInt8], blobID: String = "originals/a/b") throws -> [UInt8] {
        try BlobCipher.sealWhole(plaintext, key: key, keyVersion: 3, blobID: blobID, chunkShift: 12)
    }

    private func write(_ bytes: [UInt8]) throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sealed-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    private func readAll(_ url: URL, blobID: String = "originals/a/b") throws -> [UInt8] {
        let source = try SealedFileSource(url: url, blobID: blobID) { version in
            #expect(version == 3)
            return key
        }
        var out = [UInt8](repeating: 0, count: Int(source.size))
        let count = try out.withUnsafeMutableBytes { try source.read(at: 0, into: $0) }
        return Array(out.prefix(count))
    }

    @Test(arguments: [0, 1, 4095, 4096, 4097, 3 * 4096 + 17])
    func plaintextOfEverySizeRoundTrips(size: Int) throws {
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sealed = try seal(plaintext)
        #expect(Int64(sealed.count) == BlobCipher.sealedSize(plaintextSize: Int64(size), chunkShift: 12))
        let url = try write(sealed)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try readAll(url) == plaintext)
    }

    @Test func theWriterSealsWhatItIsFedInAnyPieces() throws {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("writer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let plaintext = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let writer = try SealingFileWriter(url: url, key: key, keyVersion: 3, blobID: "originals/a/b")
        var offset = 0
        for size in [1, 65_535, 65_536, 3, 68_925] {
            try writer.append(plaintext[offset..<offset + size])
            offset += size
        }
        let digest = try writer.finish()
        #expect(digest == Array(SHA256.hash(data: plaintext)))
        #expect(try readAll(url) == plaintext)
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func alteredReorderedCutOrMovedBlobsAreDetected() throws {
        let plaintext = (0..<(3 * 4096)).map { UInt8(truncatingIfNeeded: $0) }
        let sealed = try seal(plaintext)
        let chunk = 4096 + BlobCipher.tagSize
        let header = BlobCipher.headerSize
        var flipped = sealed
        flipped[header + 10] ^= 0x80
        var swapped: [UInt8] = Array(sealed[..<header])
        swapped += Array(sealed[(header + chunk)..<(header + 2 * chunk)])
        swapped += Array(sealed[header..<(header + chunk)])
        swapped += Array(sealed[(header + 2 * chunk)...])
        let cut = Array(sealed.prefix(header + 2 * chunk))
        var headerChanged = sealed
        headerChanged[9] ^= 0x01  // the key version is authenticated too
        for (name, bytes, blobID) in [
            ("flipped", flipped, "originals/a/b"), ("swapped", swapped, "originals/a/b"),
            ("cut at a chunk boundary", cut, "originals/a/b"), ("moved to another blob", sealed, "originals/a/c"),
        ] {
            let url = try write(bytes)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(throws: BlobCipherError.self, "\(name)") { _ = try readAll(url, blobID: blobID) }
        }
        let url = try write(headerChanged)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: (any Error).self) {
            _ = try SealedFileSource(url: url, blobID: "originals/a/b") { _ in key }.read(at: 0, into: UnsafeMutableRawBufferPointer.allocate(byteCount: 10, alignment: 1))
        }
    }

    @Test func headersOfOtherFormatsAreRefused() {
        #expect(throws: BlobCipherError.self) { _ = try BlobCipher.Header(parsing: Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 30)) }
        var wrongVersion = BlobCipher.Header.fresh(keyVersion: 1).bytes
        wrongVersion[4] = 9
        #expect(throws: BlobCipherError.corrupt("its format version 9 is not one this server reads")) {
            _ = try BlobCipher.Header(parsing: wrongVersion)
        }
        let header = BlobCipher.Header.fresh(keyVersion: 0x0102_0304)
        let parsed = try? BlobCipher.Header(parsing: header.bytes)
        #expect(parsed == header)
    }
}
