import CVips
import Foundation
import TestImages
import Testing
@testable import Media

@Suite struct BadInputTests {
    private func unsupportedSentence(_ source: some RandomAccessSource) -> String? {
        do {
            _ = try Media.probe(source, maxPixels: 1_000_000)
            return nil
        } catch let MediaError.unsupportedFormat(sentence) {
            return sentence
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func emptyFileIsUnsupported() throws {
        let sentence = try #require(unsupportedSentence(MemorySource([])))
        #expect(sentence == "The file is not a JPEG, PNG, WebP, HEIC, TIFF, GIF or AVIF image (the file is empty).")
    }

    @Test func zipNamedJpgIsUnsupported() throws {
        let f = try Fixtures()
        _ = try f.write(storedZIP(name: "hello.txt", contents: Array("hello".utf8)), "archive.jpg")
        let sentence = try #require(unsupportedSentence(FileSource(path: f.path("archive.jpg"))))
        #expect(sentence.contains("ZIP archive"))
        #expect(throws: MediaError.self) { try Media.validate(FileSource(path: f.path("archive.jpg")), maxPixels: 10) }
    }

    @Test func elfExecutableIsUnsupported() throws {
        let sentence = try #require(unsupportedSentence(FileSource(path: "/bin/true")))
        #expect(sentence.contains("ELF executable"))
    }

    @Test func pdfIsUnsupported() throws {
        let sentence = try #require(unsupportedSentence(MemorySource(Array("%PDF-1.7\n%âãÏÓ\n".utf8))))
        #expect(sentence.contains("PDF document"))
    }

    @Test func randomBytesAreUnsupported() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Keep clear of real magic numbers so the outcome is deterministic.
            bytes[0] = 0x00
            bytes[4] = 0x00
            let sentence = try #require(unsupportedSentence(MemorySource(bytes)))
            #expect(sentence == "The file is not a JPEG, PNG, WebP, HEIC, TIFF, GIF or AVIF image.")
        }
    }

    @Test func truncatedJPEGFailsValidation() throws {
        let f = try Fixtures()
        let whole = try f.bytes(f.image("whole.jpg", width: 600, height: 400))
        let half = MemorySource(Array(whole[..<(whole.count / 2)]))
        let probe = try Media.probe(half, maxPixels: 1_000_000)
        #expect(probe.width == 600)
        do {
            try Media.validate(half, maxPixels: 1_000_000)
            Issue.record("validate accepted a truncated JPEG")
        } catch let MediaError.undecodable(sentence) {
            #expect(sentence.hasPrefix("The JPEG image could not be decoded: "))
        }
        try Media.validate(MemorySource(whole), maxPixels: 1_000_000)
    }

    @Test func truncatedPNGFailsValidation() throws {
        let f = try Fixtures()
        let whole = try f.bytes(f.image("whole.png", width: 300, height: 300))
        #expect(throws: MediaError.self) {
            try Media.validate(MemorySource(Array(whole[..<(whole.count * 2 / 3)])), maxPixels: 1_000_000)
        }
    }

    @Test func hugePNGHeaderIsRefusedBeforeDecoding() throws {
        var ihdr = Array("IHDR".utf8) + bigEndian32(50_000) + bigEndian32(50_000)
        ihdr += [8, 2, 0, 0, 0]
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + bigEndian32(13) + ihdr + bigEndian32(crc32(ihdr))
        for check in [{ _ = try Media.probe(MemorySource(png), maxPixels: 100_000_000) },
                      { try Media.validate(MemorySource(png), maxPixels: 100_000_000) }] {
            #expect(throws: MediaError.tooManyPixels(width: 50_000, height: 50_000, limit: 100_000_000)) {
                try check()
            }
        }
        #expect(MediaError.tooManyPixels(width: 50_000, height: 50_000, limit: 100_000_000).description
            == "The image is 50000 × 50000 pixels, more than the limit of 100000000 pixels.")
    }

    @Test func jpegMagicWithGarbageIsUndecodable() throws {
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x41, count: 200)
        #expect {
            _ = try Media.probe(MemorySource(bytes), maxPixels: 1_000_000)
        } throws: { error in
            guard case MediaError.undecodable(let sentence) = error else { return false }
            return sentence.hasPrefix("The JPEG image could not be decoded: ")
        }
    }

    @Test func loaderOtherThanTheSniffedFormatIsRefused() throws {
        let f = try Fixtures()
        let bytes = try f.bytes(f.image("real.jpg", width: 20, height: 20))
        let source = MemorySource(bytes)
        let context = Unmanaged.passRetained(source)
        defer { context.release() }
        var reader = cvips_reader(
            context: context.toOpaque(),
            read_at: { context, offset, buffer, length in
                guard let context, let buffer else { return -1 }
                let source = Unmanaged<MemorySource>.fromOpaque(context).takeUnretainedValue()
                return Int64((try? source.read(at: offset, into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length)))) ?? -1)
            },
            size: source.size)
        var header = cvips_header()
        var error = [CChar](repeating: 0, count: Int(CVIPS_ERROR_CAPACITY))
        let code = "pngload_source\0".withCString { expected in
            cvips_probe(&reader, expected, -1, 0, &header, &error, error.count)
        }
        #expect(code == Int32(CVIPS_E_LOADER_MISMATCH))
        #expect(ExifMetadata.text(header.loader) == "jpegload_source")
    }

    @Test func sourceThatFailsMidwayGivesACleanError() throws {
        let f = try Fixtures()
        let bytes = try f.bytes(f.image("big.jpg", width: 800, height: 600))
        let failing = FailingSource(bytes, failAt: Int64(bytes.count / 2))
        #expect(try Media.probe(failing, maxPixels: 1_000_000).width == 800)
        #expect {
            try Media.validate(failing, maxPixels: 1_000_000)
        } throws: { error in
            guard case MediaError.failed(let sentence) = error else { return false }
            return sentence == "Reading the JPEG file failed: authentication tag mismatch."
        }
        #expect(throws: MediaError.self) {
            _ = try Media.render(failing, longestSide: 100, as: .jpeg(quality: 80))
        }
        #expect(throws: MediaError.failed("Reading the file failed: authentication tag mismatch.")) {
            _ = try Media.probe(FailingSource(bytes, failAt: 0), maxPixels: 1_000_000)
        }
        #expect(throws: MediaError.self) {
            try Media.validate(LyingSource(bytes), maxPixels: 1_000_000)
        }
    }
}
