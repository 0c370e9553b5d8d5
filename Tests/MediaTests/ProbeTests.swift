import CVips
import Foundation
import Synchronization
import TestImages
import Testing
@testable import Media

@Suite struct ProbeTests {
    @Test func jpegExifFieldsAreReadBackExactly() throws {
        let f = try Fixtures()
        let file = try f.image("camera.jpg", width: 400, height: 300)
        try f.tag(file, [
            "-DateTimeOriginal=2023:07:14 18:30:05", "-OffsetTimeOriginal=+02:00",
            "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
            "-GPSAltitude=35", "-GPSAltitudeRef#=0",
            "-Make=PhotoVault Camera Co.", "-Model=PV-1", "-LensModel=PV 35mm F2.8",
            "-FNumber=2.8", "-ExposureTime=1/250", "-ISO=200", "-FocalLength=35", "-Orientation#=6",
        ])
        let probe = try Media.probe(FileSource(path: file), maxPixels: 100_000_000)
        #expect(probe.format == .jpeg)
        #expect(probe.width == 300)
        #expect(probe.height == 400)
        #expect(probe.orientation == 6)
        let exif = try #require(probe.exif)
        #expect(exif.takenAt == ISO8601DateFormatter().date(from: "2023-07-14T16:30:05Z"))
        #expect(exif.takenAtOffsetMinutes == 120)
        #expect(exif.make == "PhotoVault Camera Co.")
        #expect(exif.model == "PV-1")
        #expect(exif.lens == "PV 35mm F2.8")
        #expect(exif.fNumber == 2.8)
        #expect(exif.exposureTimeSeconds == 1.0 / 250.0)
        #expect(exif.iso == 200)
        #expect(exif.focalLengthMM == 35)
        #expect(exif.orientation == 6)
        #expect(abs((exif.latitude ?? 0) - 48.8584) < 1e-6)
        #expect(abs((exif.longitude ?? 0) - 2.2945) < 1e-6)
        #expect(exif.altitudeM == 35)
    }

    @Test func southWestAndBelowSeaLevelAreNegative() throws {
        let f = try Fixtures()
        let file = try f.image("south.jpg", width: 64, height: 48, plain: true)
        try f.tag(file, [
            "-GPSLatitude=33.8688", "-GPSLatitudeRef=S", "-GPSLongitude=70.6693", "-GPSLongitudeRef=W",
            "-GPSAltitude=28", "-GPSAltitudeRef#=1", "-DateTimeOriginal=2024:02:29 23:59:59",
        ])
        let exif = try #require(try Media.probe(FileSource(path: file), maxPixels: 1 << 30).exif)
        #expect(abs((exif.latitude ?? 0) + 33.8688) < 1e-6)
        #expect(abs((exif.longitude ?? 0) + 70.6693) < 1e-6)
        #expect(exif.altitudeM == -28)
        // No offset tag: the wall-clock time read as UTC.
        #expect(exif.takenAt == ISO8601DateFormatter().date(from: "2024-02-29T23:59:59Z"))
        #expect(exif.takenAtOffsetMinutes == nil)
        #expect(exif.make == nil)
    }

    @Test(arguments: [
        ("image.png", ImageFormat.png), ("image.webp", .webp), ("image.tif", .tiff), ("image.gif", .gif),
    ])
    func commonFormatsAreDetectedWithTheirDimensions(name: String, format: ImageFormat) throws {
        let f = try Fixtures()
        let file = try f.image(name, width: 321, height: 123)
        let probe = try Media.probe(FileSource(path: file), maxPixels: 1_000_000)
        #expect(probe.format == format)
        #expect(probe.width == 321)
        #expect(probe.height == 123)
        #expect(probe.orientation == 1)
        try Media.validate(FileSource(path: file), maxPixels: 1_000_000)
    }

    @Test func pngExifChunkIsRead() throws {
        let f = try Fixtures()
        let file = try f.image("exif.png", width: 200, height: 100, plain: true)
        try f.tag(file, ["-Make=PNG Maker", "-DateTimeOriginal=2020:01:02 03:04:05", "-OffsetTimeOriginal=-05:30",
                         "-Orientation#=8"])
        #expect(try f.bytes(file).contains(bytes: Array("eXIf".utf8)))
        let probe = try Media.probe(FileSource(path: file), maxPixels: 1_000_000)
        #expect(probe.format == .png)
        #expect(probe.width == 100 && probe.height == 200)
        let exif = try #require(probe.exif)
        #expect(exif.make == "PNG Maker")
        #expect(exif.takenAtOffsetMinutes == -330)
        #expect(exif.takenAt == ISO8601DateFormatter().date(from: "2020-01-02T08:34:05Z"))
    }

    @Test func webpExifIsRead() throws {
        let f = try Fixtures()
        let file = try f.image("exif.webp", width: 120, height: 90, plain: true)
        try f.tag(file, ["-Model=WebP Model", "-ISO=3200"])
        let exif = try #require(try Media.probe(FileSource(path: file), maxPixels: 1_000_000).exif)
        #expect(exif.model == "WebP Model")
        #expect(exif.iso == 3200)
    }

    @Test func heicIsDetectedWithItsExif() throws {
        let f = try Fixtures()
        let source = try f.image("source.v", width: 640, height: 480)
        let file = f.path("photo.heic")
        try f.run("vips", ["heifsave", source, file, "--compression", "hevc"])
        try f.tag(file, ["-Make=HEIC Maker", "-Model=Phone 15", "-DateTimeOriginal=2022:12:31 23:00:00",
                         "-OffsetTimeOriginal=+01:00", "-FNumber=1.8"])
        let probe = try Media.probe(FileSource(path: file), maxPixels: 1_000_000)
        #expect(probe.format == .heic)
        #expect(probe.width == 640 && probe.height == 480)
        let exif = try #require(probe.exif)
        #expect(exif.make == "HEIC Maker")
        #expect(exif.model == "Phone 15")
        #expect(exif.fNumber == 1.8)
        #expect(exif.takenAt == ISO8601DateFormatter().date(from: "2022-12-31T22:00:00Z"))
        try Media.validate(FileSource(path: file), maxPixels: 1_000_000)
    }

    @Test func avifIsToldApartFromHeic() throws {
        let f = try Fixtures()
        let source = try f.image("source.v", width: 160, height: 96)
        let file = f.path("photo.avif")
        // AVIF needs an AV1 encoder in libheif (libaom here); without one there is nothing to test.
        guard (try? f.run("vips", ["heifsave", source, file, "--compression", "av1"])) != nil else { return }
        let probe = try Media.probe(FileSource(path: file), maxPixels: 1_000_000)
        #expect(probe.format == .avif)
        #expect(probe.width == 160 && probe.height == 96)
    }

    @Test func memoryAndFileSourcesAgree() throws {
        let f = try Fixtures()
        let file = try f.image("same.jpg", width: 50, height: 70)
        try f.tag(file, ["-Make=Same"])
        let fromFile = try Media.probe(FileSource(path: file), maxPixels: 10_000)
        let fromMemory = try Media.probe(MemorySource(f.bytes(file)), maxPixels: 10_000)
        #expect(fromFile == fromMemory)
    }

    @Test func probesRunConcurrently() throws {
        let f = try Fixtures()
        let file = try f.image("shared.jpg", width: 300, height: 200)
        let bytes = try f.bytes(file)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            do {
                if i % 2 == 0 {
                    let probe = try Media.probe(MemorySource(bytes), maxPixels: 1_000_000)
                    if probe.width != 300 { failures.add("width \(probe.width)") }
                } else {
                    try Media.validate(MemorySource(bytes), maxPixels: 1_000_000)
                }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty)
    }
}

/// Collects failures from concurrent work.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

/// Counts the bytes libvips asks for.
final class CountingSource: RandomAccessSource {
    let inner: MemorySource
    private let total = Mutex(0)
    init(_ bytes: [UInt8]) { inner = MemorySource(bytes) }
    var size: Int64 { inner.size }
    var bytesRead: Int { total.withLock { $0 } }
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(at: offset, into: buffer)
        total.withLock { $0 += n }
        return n
    }
}

@Test func probeReadsOnlyTheHeaderOfALargeFile() throws {
    let f = try Fixtures()
    let bytes = try f.bytes(f.image("large.jpg", width: 3000, height: 2000))
    let source = CountingSource(bytes)
    _ = try Media.probe(source, maxPixels: 100_000_000)
    #expect(source.bytesRead < bytes.count / 10, "read \(source.bytesRead) of \(bytes.count) bytes")
    print("probe read \(source.bytesRead) of \(bytes.count) bytes")
}
