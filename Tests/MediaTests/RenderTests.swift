import CVips
import Foundation
import TestImages
import Testing
@testable import Media

@Suite struct RenderTests {
    @Test func rotatedJPEGRendersUprightWithoutMetadata() throws {
        let f = try Fixtures()
        let file = try f.image("big.jpg", width: 4000, height: 3000, plain: true)
        try f.tag(file, ["-Orientation#=6", "-Make=Secret Camera", "-GPSLatitude=10", "-GPSLatitudeRef=N"])
        let preview = try Media.render(FileSource(path: file), longestSide: 1440, as: .jpeg(quality: 82))
        #expect(preview.width == 1080 && preview.height == 1440)
        #expect(preview.contentType == "image/jpeg")
        #expect(preview.bytes.starts(with: [0xFF, 0xD8, 0xFF]))
        #expect(!preview.bytes.contains(bytes: Array("Exif".utf8)))
        #expect(!preview.bytes.contains(bytes: Array("Secret Camera".utf8)))
        let reread = try Media.probe(MemorySource(preview.bytes), maxPixels: 10_000_000)
        #expect(reread == ImageProbe(format: .jpeg, width: 1080, height: 1440, orientation: 1, exif: nil))

        let thumbnail = try Media.render(FileSource(path: file), longestSide: 250, as: .webp(quality: 75))
        #expect(thumbnail.contentType == "image/webp")
        #expect(thumbnail.bytes.starts(with: Array("RIFF".utf8)))
        #expect(Array(thumbnail.bytes[8..<12]) == Array("WEBP".utf8))
        #expect(thumbnail.height == 250 && thumbnail.width < thumbnail.height)
        #expect(!thumbnail.bytes.contains(bytes: Array("EXIF".utf8)))
        #expect(!thumbnail.bytes.contains(bytes: Array("Exif".utf8)))
        #expect(!thumbnail.bytes.contains(bytes: Array("Secret Camera".utf8)))
    }

    @Test func smallImagesAreNotUpscaled() throws {
        let f = try Fixtures()
        let file = try f.image("small.png", width: 100, height: 80)
        let rendition = try Media.render(FileSource(path: file), longestSide: 1440, as: .jpeg(quality: 90))
        #expect(rendition.width == 100 && rendition.height == 80)
    }

    @Test(arguments: ["image.heic", "image.gif", "image.tif", "image.webp", "grey.png", "alpha.png", "deep.png", "cmyk.jpg"])
    func everyFormatRendersToSRGB(name: String) throws {
        let f = try Fixtures()
        var file = try f.image(name == "image.heic" ? "image.v" : "rgb.v", width: 500, height: 400)
        switch name {
        case "image.heic":
            try f.run("vips", ["heifsave", file, f.path(name), "--compression", "hevc"])
        case "grey.png":
            try f.run("vips", ["colourspace", file, f.path(name), "b-w"])
        case "alpha.png":
            try f.run("vips", ["bandjoin_const", file, f.path(name), "128"])
        case "deep.png":
            try f.run("vips", ["colourspace", file, f.path(name), "rgb16"])
        case "cmyk.jpg":
            try f.run("vips", ["colourspace", file, f.path(name), "cmyk"])
        default:
            try f.run("vips", ["copy", file, f.path(name)])
        }
        file = f.path(name)
        for (index, encoding) in [Media.Encoding.jpeg(quality: 80), .webp(quality: 80)].enumerated() {
            let rendition = try Media.render(FileSource(path: file), longestSide: 200, as: encoding)
            #expect(rendition.width == 200 && rendition.height == 160)
            let output = try f.write(rendition.bytes, "out-\(index).\(index == 0 ? "jpg" : "webp")")
            let header = try f.run("vipsheader", [output])
            let alpha = name == "alpha.png" && index == 1
            #expect(header.contains("uchar, \(alpha ? 4 : 3) bands, srgb"), "\(header)")
            let probe = try Media.probe(MemorySource(rendition.bytes), maxPixels: 1_000_000)
            #expect(probe.width == 200)
            #expect(probe.exif == nil)
        }
    }

    @Test func renderRefusesWhatProbeRefuses() throws {
        let f = try Fixtures()
        let file = try f.image("limit.jpg", width: 300, height: 300, plain: true)
        #expect(throws: MediaError.tooManyPixels(width: 300, height: 300, limit: 1000)) {
            _ = try Media.render(FileSource(path: file), longestSide: 100, as: .jpeg(quality: 80), maxPixels: 1000)
        }
        #expect(throws: MediaError.self) {
            _ = try Media.render(FileSource(path: "/bin/true"), longestSide: 100, as: .jpeg(quality: 80))
        }
    }

    /// Informal measurements for the report; runs only with MEDIA_BENCH=1 and asserts nothing
    /// about time or memory, which depend on the machine.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MEDIA_BENCH"] == "1"))
    func benchmarkFigures() throws {
        let f = try Fixtures()
        let big = try f.image("8000.jpg", width: 8000, height: 8000)
        print("BENCH 8000x8000 JPEG: \(try f.bytes(big).count / 1_048_576) MiB")
        try Media.validate(FileSource(path: big), maxPixels: 100_000_000)  // warm-up: threads, libjpeg tables
        let sampler = RSSSampler()
        let baseline = currentRSSKiB()
        var start = Date()
        try Media.validate(FileSource(path: big), maxPixels: 100_000_000)
        let elapsed = Date().timeIntervalSince(start)
        let peak = sampler.stop()
        print("BENCH validate 8000x8000 JPEG: \(elapsed) s, RSS \(baseline / 1024) MiB before, peak \(peak / 1024) MiB during (+\((peak - baseline) / 1024) MiB; decoded image would be \(8000 * 8000 * 3 / 1_048_576) MiB)")
        let renderSampler = RSSSampler()
        start = Date()
        _ = try Media.render(FileSource(path: big), longestSide: 1440, as: .jpeg(quality: 82))
        print("BENCH render 8000x8000 JPEG to 1440: \(Date().timeIntervalSince(start)) s, peak +\((renderSampler.stop() - baseline) / 1024) MiB")

        let photo = try f.image("12mp.jpg", width: 4000, height: 3000)
        _ = try Media.render(FileSource(path: photo), longestSide: 1440, as: .jpeg(quality: 82))
        for (label, encoding) in [("1440 JPEG", Media.Encoding.jpeg(quality: 82)), ("250 WebP", .webp(quality: 75))] {
            let side = label.hasPrefix("1440") ? 1440 : 250
            start = Date()
            for _ in 0..<5 { _ = try Media.render(FileSource(path: photo), longestSide: side, as: encoding) }
            print("BENCH render 12 MP JPEG to \(label): \(Date().timeIntervalSince(start) / 5 * 1000) ms")
        }
        start = Date()
        for _ in 0..<5 { _ = try Media.probe(FileSource(path: photo), maxPixels: 100_000_000) }
        print("BENCH probe 12 MP JPEG: \(Date().timeIntervalSince(start) / 5 * 1000) ms")
        start = Date()
        for _ in 0..<5 {
            try f.run("vipsthumbnail", [photo, "--size", "1440x1440>", "-o", f.path("cli.jpg[Q=82,strip,optimize_coding]")])
        }
        print("BENCH vipsthumbnail CLI 12 MP JPEG to 1440 JPEG (incl. process start): \(Date().timeIntervalSince(start) / 5 * 1000) ms")
        print("BENCH files: 12 MP JPEG \(try f.bytes(photo).count / 1024) KiB")
    }
}

/// Resident set size from /proc (Linux only; 0 elsewhere).
private func currentRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// Polls the RSS every millisecond on its own thread and keeps the highest value.
private final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    private var thread: Thread?

    init() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                let now = currentRSSKiB()
                lock.withLock { peak = max(peak, now) }
                usleep(1000)
            }
        }
        self.thread = thread
        thread.start()
    }

    func stop() -> Int {
        let now = currentRSSKiB()
        return lock.withLock {
            running = false
            return max(peak, now)
        }
    }
}

/// Every path (success, refusal, reader failure) must release what it creates. libvips' object
/// count is process-wide, so this runs only alone (MEDIA_SOLO=1 with --filter).
@Test(.enabled(if: ProcessInfo.processInfo.environment["MEDIA_SOLO"] == "1"))
func libvipsObjectsAreAllReleased() throws {
    let f = try Fixtures()
    let jpeg = try f.bytes(f.image("leak.jpg", width: 640, height: 480))
    let png = try f.bytes(f.image("leak.png", width: 64, height: 64))
    try Media.initialize()
    let before = cvips_live_objects()
    for _ in 0..<20 {
        _ = try Media.probe(MemorySource(jpeg), maxPixels: 1_000_000)
        try Media.validate(MemorySource(png), maxPixels: 1_000_000)
        _ = try Media.render(MemorySource(jpeg), longestSide: 100, as: .webp(quality: 70))
        _ = try Media.render(MemorySource(png), longestSide: 100, as: .jpeg(quality: 70))
        _ = try? Media.validate(MemorySource(Array(jpeg[..<(jpeg.count / 2)])), maxPixels: 1_000_000)
        _ = try? Media.validate(FailingSource(jpeg, failAt: Int64(jpeg.count / 2)), maxPixels: 1_000_000)
        _ = try? Media.render(FailingSource(jpeg, failAt: Int64(jpeg.count / 2)), longestSide: 100, as: .jpeg(quality: 70))
        _ = try? Media.probe(MemorySource([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]), maxPixels: 1_000_000)
        _ = try? Media.probe(MemorySource(jpeg), maxPixels: 10)
    }
    let after = cvips_live_objects()
    print("LEAKCHECK live libvips objects before \(before), after \(after)")
    #expect(after == before)
}

@Test func webpMetadataChunksAreRemovedAndFlagsCleared() throws {
    func chunk(_ fourCC: String, _ payload: [UInt8]) -> [UInt8] {
        Array(fourCC.utf8) + littleEndian32(UInt32(payload.count)) + payload + (payload.count % 2 == 1 ? [0] : [])
    }
    let vp8x = chunk("VP8X", [0x20 | 0x10 | 0x08 | 0x04, 0, 0, 0, 9, 0, 0, 9, 0, 0])
    let body = Array("WEBP".utf8) + vp8x + chunk("ICCP", [1, 2, 3]) + chunk("VP8 ", [7, 7, 7])
        + chunk("EXIF", Array("Exif\0\0II*\0".utf8)) + chunk("XMP ", [9])
    let file = Array("RIFF".utf8) + littleEndian32(UInt32(body.count)) + body
    let stripped = try #require(strippingWebPMetadata(file))
    let expectedBody = Array("WEBP".utf8) + chunk("VP8X", [0x10, 0, 0, 0, 9, 0, 0, 9, 0, 0]) + chunk("VP8 ", [7, 7, 7])
    #expect(stripped == Array("RIFF".utf8) + littleEndian32(UInt32(expectedBody.count)) + expectedBody)
    #expect(strippingWebPMetadata(Array(file.prefix(35))) == nil)
    #expect(strippingWebPMetadata(Array("RIFF\0\0\0\0WAVE".utf8)) == nil)
}
