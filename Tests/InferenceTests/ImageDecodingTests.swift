import Foundation
import Inference
import InferenceCore
import Testing

/// Image bytes in: decoded once, and every kind of bad input refused with a sentence.
@Suite struct ImageDecodingTests {
    /// A PNG signature and IHDR chunk announcing `width` × `height` pixels (no pixel data follows).
    func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        bytes += Array("IHDR".utf8)
        for value in [width, height] { bytes += withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        bytes += [8, 2, 0, 0, 0, 0, 0, 0, 0]  // 8-bit RGB, then a (zero) CRC
        return bytes
    }

    func decodeError(_ bytes: [UInt8]) -> CoreError? {
        do {
            _ = try DecodedImage(bytes: bytes, maxPixels: 50_000_000)
            return nil
        } catch {
            return error
        }
    }

    @Test func aPNGPhotoDecodesToItsSize() throws {
        let image = try DecodedImage(bytes: Paths.astronaut, maxPixels: 50_000_000)
        #expect(image.width == 512 && image.height == 512)
    }

    @Test func aLosslessWebPDecodesToTheSamePixelsAsItsPNG() throws {
        func load(_ name: String) throws -> DecodedImage {
            try DecodedImage(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/\(name)"))), maxPixels: 50_000_000)
        }
        let webp = try load("clip-small.webp"), png = try load("clip-small.png")
        #expect(webp.width == png.width && webp.height == png.height && webp.width == 150)
        let count = webp.width * webp.height * 3
        let same = (0..<count).allSatisfy { pv_image_pixels(webp.handleForTests)[$0] == pv_image_pixels(png.handleForTests)[$0] }
        #expect(same)
    }

    @Test func aTruncatedWebPIsRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/clip-small.webp")))
        #expect(decodeError(Array(bytes.prefix(bytes.count / 2))) == .invalidInput("the WebP image is damaged or truncated."))
    }

    @Test func bytesThatAreNotAnImageAreRefused() {
        #expect(decodeError(Array("definitely not a picture".utf8))
            == .invalidInput("the bytes are not a JPEG, PNG or WebP image (or the header is damaged)."))
        #expect(decodeError([]) == .invalidInput("the image is empty (0 bytes)."))
    }

    @Test func anImageWithoutPixelsIsRefused() {
        #expect(decodeError(pngHeader(width: 0, height: 0)) == .invalidInput("the image is 0×0 pixels: it has no pixels."))
    }

    @Test func aHundredMegapixelImageIsRefusedBeforeDecoding() {
        #expect(decodeError(pngHeader(width: 10_000, height: 10_000))
            == .invalidInput("the image is 10000×10000 pixels, more than the limit of 50000000 pixels."))
    }

    @Test func aTruncatedPNGIsRefused() {
        let error = decodeError(Array(Paths.astronaut.prefix(40_000)))
        #expect(error?.description.hasPrefix("the image cannot be decoded: ") == true)
    }
}

/// JPEGs are turned upright by their EXIF orientation before any model sees them.
@Suite struct ImageOrientationTests {
    /// The RGB of pixel (x, y).
    func pixel(_ image: DecodedImage, _ x: Int, _ y: Int) -> (Int, Int, Int) {
        let base = pv_image_pixels(image.handleForTests)!
        let at = (y * image.width + x) * 3
        return (Int(base[at]), Int(base[at + 1]), Int(base[at + 2]))
    }

    func load(_ orientation: Int) throws -> DecodedImage {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/exif-orientation-\(orientation).jpg"))
        return try DecodedImage(bytes: [UInt8](bytes), maxPixels: 50_000_000)
    }

    func isRed(_ p: (Int, Int, Int)) -> Bool { p.0 > 200 && p.2 < 60 }
    func isBlue(_ p: (Int, Int, Int)) -> Bool { p.2 > 200 && p.0 < 60 }

    // Stored 64 × 32 with the red half on the left.
    @Test func orientation6IsTurnedAQuarterClockwise() throws {
        let image = try load(6)
        #expect(image.width == 32 && image.height == 64)
        #expect(isRed(pixel(image, 16, 8)) && isBlue(pixel(image, 16, 56)))
    }

    @Test func orientation8IsTurnedAQuarterAnticlockwise() throws {
        let image = try load(8)
        #expect(image.width == 32 && image.height == 64)
        #expect(isBlue(pixel(image, 16, 8)) && isRed(pixel(image, 16, 56)))
    }

    @Test func orientation3IsTurnedHalfARound() throws {
        let image = try load(3)
        #expect(image.width == 64 && image.height == 32)
        #expect(isBlue(pixel(image, 8, 16)) && isRed(pixel(image, 56, 16)))
    }
}
