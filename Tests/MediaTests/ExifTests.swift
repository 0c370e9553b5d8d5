import CVips
import Foundation
import TestImages
import Testing
@testable import Media

/// A little-endian TIFF/EXIF structure written by hand, so that fields can be made wrong on purpose.
private struct TIFFBuilder {
    struct Entry {
        var tag: UInt16
        var type: UInt16
        var count: UInt32
        var value: [UInt8]  // exactly 4 bytes: inline value or offset
    }

    static func ifd(_ entries: [Entry], next: UInt32 = 0) -> [UInt8] {
        var out = littleEndian16(UInt16(entries.count))
        for e in entries {
            out += littleEndian16(e.tag) + littleEndian16(e.type) + littleEndian32(e.count) + e.value
        }
        return out + littleEndian32(next)
    }

    static func offset(_ value: UInt32) -> [UInt8] { littleEndian32(value) }
    static func ascii4(_ text: String) -> [UInt8] { Array((Array(text.utf8) + [0, 0, 0, 0]).prefix(4)) }
}

@Suite struct ExifTests {
    /// A TIFF block whose IFD0 is fine apart from the orientation, and whose EXIF IFD has a
    /// rational with a zero denominator, one with two components, an ISO stored as text, a
    /// date that is not a date and fields pointing far outside the block; the GPS IFD pointer
    /// is corrupt.
    private func malformedTIFF() -> [UInt8] {
        typealias B = TIFFBuilder
        let header: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + littleEndian32(8)
        let ifd0Size = 2 + 4 * 12 + 4
        let exifOffset = UInt32(8 + ifd0Size)
        let exifSize = 2 + 6 * 12 + 4
        let dataOffset = exifOffset + UInt32(exifSize)
        let ifd0 = B.ifd([
            .init(tag: 0x010F, type: 2, count: 4, value: B.ascii4("Bad")),
            .init(tag: 0x0112, type: 3, count: 1, value: littleEndian16(42) + [0, 0]),
            .init(tag: 0x8769, type: 4, count: 1, value: B.offset(exifOffset)),
            .init(tag: 0x8825, type: 4, count: 1, value: B.offset(0xFFFF_FF00)),
        ])
        let exif = B.ifd([
            .init(tag: 0x829A, type: 5, count: 1, value: B.offset(dataOffset)),
            .init(tag: 0x829D, type: 5, count: 2, value: B.offset(dataOffset + 8)),
            .init(tag: 0x8827, type: 2, count: 4, value: B.ascii4("abc")),
            .init(tag: 0x9003, type: 2, count: 20, value: B.offset(dataOffset + 24)),
            .init(tag: 0x920A, type: 5, count: 1, value: B.offset(0x7FFF_FFF0)),
            .init(tag: 0xA434, type: 2, count: 1000, value: B.offset(0x00FF_FFFF)),
        ])
        let data = littleEndian32(1) + littleEndian32(0)  // 1/0
            + littleEndian32(28) + littleEndian32(10) + littleEndian32(28) + littleEndian32(10)
            + Array("garbage garbage!!!\0\0".utf8)
        return header + ifd0 + exif + data
    }

    /// `jpeg` with an APP1 Exif segment carrying `tiff` inserted after SOI.
    private func withExif(_ jpeg: [UInt8], _ tiff: [UInt8]) -> [UInt8] {
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = UInt16(payload.count + 2)
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg.dropFirst(2)
    }

    private func strippedJPEG(_ f: Fixtures) throws -> [UInt8] {
        let base = try f.image("base.v", width: 64, height: 32)
        try f.run("vips", ["jpegsave", base, f.path("plain.jpg"), "--strip"])
        return try f.bytes(f.path("plain.jpg"))
    }

    @Test func malformedExifFieldsAreAbsentAndTheProbeSucceeds() throws {
        let f = try Fixtures()
        let jpeg = withExif(try strippedJPEG(f), malformedTIFF())
        let probe = try Media.probe(MemorySource(jpeg), maxPixels: 1_000_000)
        #expect(probe.format == .jpeg)
        #expect(probe.width == 64 && probe.height == 32)
        let exif = try #require(probe.exif)
        #expect(exif == ExifMetadata(make: "Bad"))
        try Media.validate(MemorySource(jpeg), maxPixels: 1_000_000)
    }

    @Test func corruptIFDOffsetGivesAnEmptyExifRecord() throws {
        let f = try Fixtures()
        let tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0xFF, 0xFF, 0xFF, 0xF0] + Array(repeating: 0xEE, count: 40)
        let probe = try Media.probe(MemorySource(withExif(try strippedJPEG(f), tiff)), maxPixels: 1_000_000)
        #expect(probe.exif == ExifMetadata())
        #expect(probe.orientation == 1)
    }

    @Test func exifBlobFormsAreAllFound() throws {
        var tiff = malformedTIFF()
        let forms: [[UInt8]] = [
            tiff,
            Array("Exif".utf8) + [0, 0] + tiff,
            [0, 0, 0, 6] + Array("Exif".utf8) + [0, 0] + tiff,  // HEIF: offset to the header
            [0, 0, 0, 0] + tiff,
        ]
        for form in forms {
            var c = cvips_exif()
            #expect(cvips_parse_exif(form, form.count, &c) == 1)
            #expect(ExifMetadata(c).make == "Bad")
        }
        tiff[0] = 0x00
        var c = cvips_exif()
        #expect(cvips_parse_exif(tiff, tiff.count, &c) == 0)
        #expect(ExifMetadata(c) == ExifMetadata())
    }

    @Test func garbageExifNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        let valid = malformedTIFF()
        for round in 0..<3000 {
            var blob: [UInt8]
            if round % 2 == 0 {
                // Valid structure with random bytes flipped.
                blob = valid
                for _ in 0..<Int.random(in: 1...12, using: &generator) {
                    blob[Int.random(in: 4..<blob.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                blob = [0x49, 0x49, 0x2A, 0x00]
                    + (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            var c = cvips_exif()
            _ = cvips_parse_exif(blob, blob.count, &c)
            let exif = ExifMetadata(c)
            if let latitude = exif.latitude { #expect(abs(latitude) <= 90) }
            if let orientation = exif.orientation { #expect((1...8).contains(orientation)) }
        }
    }

    @Test func exifDatesAndOffsetsAreParsedStrictly() {
        #expect(ExifMetadata.wallClockSeconds("1970:01:01 00:00:00") == 0)
        #expect(ExifMetadata.wallClockSeconds("2023:07:14 18:30:05") == 1_689_359_405)
        #expect(ExifMetadata.wallClockSeconds("2000-02-29T12:00:00") == 951_825_600)
        #expect(ExifMetadata.wallClockSeconds("2023:02:29 00:00:00") == nil)
        #expect(ExifMetadata.wallClockSeconds("0000:00:00 00:00:00") == nil)
        #expect(ExifMetadata.wallClockSeconds("    :  :     :  :  ") == nil)
        #expect(ExifMetadata.wallClockSeconds("2023:07:14 24:00:00") == nil)
        #expect(ExifMetadata.wallClockSeconds("2023:07:14") == nil)
        #expect(ExifMetadata.offsetMinutes("+02:00") == 120)
        #expect(ExifMetadata.offsetMinutes("-09:30") == -570)
        #expect(ExifMetadata.offsetMinutes("+0545") == 345)
        #expect(ExifMetadata.offsetMinutes("   :  ") == nil)
        #expect(ExifMetadata.offsetMinutes("+25:00") == nil)
        #expect(ExifMetadata.offsetMinutes("+02:60") == nil)
    }
}

@Suite struct SniffTests {
    private func ftyp(_ brands: [String]) -> [UInt8] {
        var body: [UInt8] = []
        for (index, brand) in brands.enumerated() {
            // The minor version sits between the major brand and the compatible ones.
            if index == 1 { body += [0, 0, 0, 0] }
            body += Array(brand.utf8)
        }
        return bigEndian32(UInt32(8 + body.count)) + Array("ftyp".utf8) + body
    }

    @Test func magicBytesNameTheFormat() {
        #expect(Media.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(Media.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(Media.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == .webp)
        #expect(Media.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)) == nil)
        #expect(Media.sniff(Array("GIF89a".utf8)) == .gif)
        #expect(Media.sniff([0x49, 0x49, 0x2A, 0x00]) == .tiff)
        #expect(Media.sniff([0x4D, 0x4D, 0x00, 0x2A]) == .tiff)
        #expect(Media.sniff([0xFF, 0xD8]) == nil)
        #expect(Media.sniff([]) == nil)
    }

    @Test func ftypBrandsTellHeicFromAvif() {
        #expect(Media.sniff(ftyp(["heic", "mif1", "heic"])) == .heic)
        #expect(Media.sniff(ftyp(["mif1", "mif1", "heic"])) == .heic)
        #expect(Media.sniff(ftyp(["heix", "mif1"])) == .heic)
        #expect(Media.sniff(ftyp(["avif", "avif", "mif1", "miaf"])) == .avif)
        #expect(Media.sniff(ftyp(["mif1", "mif1", "miaf", "avif"])) == .avif)
        #expect(Media.sniff(ftyp(["avis", "msf1"])) == .avif)
        #expect(Media.sniff(ftyp(["isom", "isom", "mp41"])) == nil)
        #expect(Media.sniff(ftyp(["qt  ", "qt  "])) == nil)
    }
}
