import Foundation
import CVips
import Synchronization

/// Probing, validation and renditions of uploaded images, over libvips and libexif.
///
/// Every call is synchronous and may block for a long time on large images: call it from a
/// thread pool, never from an event loop. Calls may run concurrently on different threads.
public enum Media {
    /// Output encodings for renditions; quality is clamped to 1…100.
    public enum Encoding: Sendable, Equatable {
        /// Lossy WebP, libvips' Q.
        case webp(quality: Int)
        /// Baseline JPEG with optimised Huffman tables, libvips' Q.
        case jpeg(quality: Int)
    }

    /// An encoded rendition.
    public struct Rendition: Sendable {
        /// The encoded file.
        public var bytes: [UInt8]
        /// Pixel width of the rendition.
        public var width: Int
        /// Pixel height of the rendition.
        public var height: Int
        /// "image/webp" or "image/jpeg".
        public var contentType: String

        /// Memberwise.
        public init(bytes: [UInt8], width: Int, height: Int, contentType: String) {
            self.bytes = bytes
            self.width = width
            self.height = height
            self.contentType = contentType
        }
    }

    private static let initialization: Result<Void, MediaError> = {
        var error = [CChar](repeating: 0, count: Int(CVIPS_ERROR_CAPACITY))
        let code = error.withUnsafeMutableBufferPointer { cvips_initialize($0.baseAddress, $0.count) }
        guard code == Int32(CVIPS_OK) else {
            return .failure(.failed("libvips could not start: \(firstLine(of: error))."))
        }
        return .success(())
    }()

    /// Starts libvips (vips_init) once per process; later calls return the first outcome.
    /// Thread-safe. The other functions call it themselves.
    public static func initialize() throws {
        try initialization.get()
    }

    /// Header decode: format by magic bytes, confirmed by libvips' loader for that format;
    /// dimensions, orientation and EXIF (libexif over the "exif-data" blob libvips extracts,
    /// so HEIC, PNG and WebP work too). Refuses more than `maxPixels` (width × height, before
    /// any decode) with `.tooManyPixels`. Never decodes pixels.
    public static func probe(_ source: some RandomAccessSource, maxPixels: Int) throws -> ImageProbe {
        let (format, header) = try run(source, maxPixels: maxPixels) { reader, loaders, limit, header, error in
            cvips_probe(reader, loaders, limit, 0, header, error, Int(CVIPS_ERROR_CAPACITY))
        }
        return ImageProbe(header, format: format)
    }

    /// Full decode of every pixel, sequentially and in bounded memory, failing on truncation
    /// and decoder errors, so that corrupt files are refused before they are stored. Checks the
    /// format and `maxPixels` as `probe` does. Multi-page files (GIF, TIFF) are checked on their
    /// first page.
    public static func validate(_ source: some RandomAccessSource, maxPixels: Int) throws {
        _ = try run(source, maxPixels: maxPixels) { reader, loaders, limit, header, error in
            cvips_probe(reader, loaders, limit, 1, header, error, Int(CVIPS_ERROR_CAPACITY))
        }
    }

    /// A rendition whose longest side is at most `longestSide` (never enlarged), upright by the
    /// EXIF orientation, sRGB, with all metadata stripped. `maxPixels`, when given, refuses
    /// sources over that many pixels as `probe` does; callers normally probe first.
    public static func render(
        _ source: some RandomAccessSource, longestSide: Int, as encoding: Encoding, maxPixels: Int? = nil
    ) throws -> Rendition {
        let (kind, quality, contentType) = switch encoding {
        case .jpeg(let quality): (CVIPS_ENCODE_JPEG, quality, "image/jpeg")
        case .webp(let quality): (CVIPS_ENCODE_WEBP, quality, "image/webp")
        }
        let side = Int32(clamping: max(1, min(longestSide, 10_000_000)))
        let q = Int32(clamping: max(1, min(quality, 100)))
        var rendition = cvips_rendition()
        defer { cvips_free(rendition.bytes) }
        _ = try run(source, maxPixels: maxPixels) { reader, loaders, limit, header, error in
            cvips_render(reader, loaders, limit, side, Int32(kind), q, header, &rendition, error,
                         Int(CVIPS_ERROR_CAPACITY))
        }
        guard let bytes = rendition.bytes, rendition.length > 0 else {
            throw MediaError.failed("libvips produced an empty rendition.")
        }
        var encoded = Array(UnsafeBufferPointer(start: bytes, count: rendition.length))
        if case .webp = encoding {
            guard let stripped = strippingWebPMetadata(encoded) else {
                throw MediaError.failed("libvips produced a malformed WebP file.")
            }
            encoded = stripped
        }
        return Rendition(
            bytes: encoded,
            width: Int(rendition.width), height: Int(rendition.height), contentType: contentType)
    }

    /// A 64-bit difference hash of the upright image: equal for the same picture re-encoded or
    /// resized, so it finds duplicates where no image embedding exists.
    public static func differenceHash(_ source: some RandomAccessSource, maxPixels: Int? = nil) throws -> UInt64 {
        var hash: UInt64 = 0
        _ = try run(source, maxPixels: maxPixels) { reader, loaders, limit, _, error in
            cvips_difference_hash(reader, loaders, limit, &hash, error, Int(CVIPS_ERROR_CAPACITY))
        }
        return hash
    }

    // MARK: - Plumbing

    private typealias Call = (
        UnsafePointer<cvips_reader>, UnsafePointer<CChar>, Int64,
        UnsafeMutablePointer<cvips_header>, UnsafeMutablePointer<CChar>
    ) -> Int32

    /// Sniffs the format, hands libvips a reader over `source` and turns C failures into
    /// `MediaError`s.
    /// `maxPixels` nil means no limit; a negative limit is treated as 0 (everything is refused).
    private static func run(
        _ source: some RandomAccessSource, maxPixels requested: Int?, _ call: Call
    ) throws -> (ImageFormat, cvips_header) {
        let maxPixels = requested.map { max($0, 0) } ?? -1
        try initialize()
        let context = ReadContext(source)
        let prefix = try context.prefix(64)
        guard let format = sniff(prefix) else {
            throw MediaError.unsupportedFormat(unsupportedSentence(lookalike(prefix, size: source.size)))
        }
        // PNG and GIF state their size in the first bytes: refusing here spares libvips even
        // the header parse, which for a bare IHDR fails before it reports the size.
        if maxPixels >= 0, let (width, height) = declaredSize(prefix, format: format) {
            let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
            if overflow || pixels > maxPixels {
                throw MediaError.tooManyPixels(width: width, height: height, limit: maxPixels)
            }
        }
        let loaders = format.loaders.joined(separator: "\0") + "\0"
        var header = cvips_header()
        var error = [CChar](repeating: 0, count: Int(CVIPS_ERROR_CAPACITY))
        let code: Int32 = withExtendedLifetime(context) {
            var reader = cvips_reader(
                context: Unmanaged.passUnretained(context).toOpaque(),
                read_at: { context, offset, buffer, length in
                    guard let context else { return -1 }
                    return Unmanaged<ReadContext>.fromOpaque(context).takeUnretainedValue()
                        .read(at: offset, into: buffer, length: length)
                },
                size: source.size)
            return loaders.withCString { loaders in
                error.withUnsafeMutableBufferPointer { error in
                    // The buffer's base address is never nil: it was created with a non-zero count.
                    guard let errorBase = error.baseAddress else { return Int32(CVIPS_E_FAILED) }
                    return call(&reader, loaders, Int64(maxPixels), &header, errorBase)
                }
            }
        }
        if code == Int32(CVIPS_OK) { return (format, header) }
        throw mediaError(code: code, format: format, header: header, message: firstLine(of: error),
                         readFailure: context.failure, maxPixels: maxPixels)
    }

    private static func mediaError(
        code: Int32, format: ImageFormat, header: cvips_header, message: String, readFailure: String?,
        maxPixels: Int
    ) -> MediaError {
        let name = format.displayName
        switch code {
        case Int32(CVIPS_E_READ):
            return .failed("Reading the \(name) file failed: \(readFailure ?? message).")
        case Int32(CVIPS_E_UNKNOWN_FORMAT):
            return .unsupportedFormat(unsupportedSentence("it starts like a \(name) image, but libvips cannot read it"))
        case Int32(CVIPS_E_LOADER_MISMATCH):
            let loader = ExifMetadata.text(header.loader) ?? "another loader"
            return .unsupportedFormat(unsupportedSentence(
                "it starts like a \(name) image, but libvips reads it with \(loader)"))
        case Int32(CVIPS_E_UNDECODABLE):
            return .undecodable("The \(name) image could not be decoded: \(message).")
        case Int32(CVIPS_E_TOO_MANY_PIXELS):
            return .tooManyPixels(width: Int(header.width), height: Int(header.height), limit: maxPixels)
        default:
            return .failed("libvips failed on the \(name) image: \(message).")
        }
    }

    /// libvips' messages run over several lines, most specific first; the first one is the reason.
    static func firstLine(of error: [CChar]) -> String {
        let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        var trimmed = line.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed.isEmpty ? "unknown error" : trimmed
    }
}

extension ImageProbe {
    init(_ header: cvips_header, format: ImageFormat) {
        let orientation = (1...8).contains(header.orientation) ? Int(header.orientation) : 1
        let swaps = orientation >= 5
        self.init(
            format: format,
            width: Int(swaps ? header.height : header.width),
            height: Int(swaps ? header.width : header.height),
            orientation: orientation,
            exif: header.has_exif != 0 ? ExifMetadata(header.exif) : nil)
    }
}

/// Carries the Swift source into libvips' C callbacks and keeps the first read error, which C
/// can only report as -1.
private final class ReadContext: Sendable {
    let source: any RandomAccessSource
    private let firstFailure = Mutex<String?>(nil)

    init(_ source: some RandomAccessSource) {
        self.source = source
    }

    var failure: String? { firstFailure.withLock { $0 } }

    func read(at offset: Int64, into buffer: UnsafeMutableRawPointer?, length: Int64) -> Int64 {
        guard let buffer, length >= 0, length <= Int64(Int.max) else {
            record("invalid read request")
            return -1
        }
        do {
            let n = try source.read(at: offset, into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length)))
            guard n >= 0, Int64(n) <= length else {
                record("the source returned \(n) bytes for a \(length)-byte read")
                return -1
            }
            return Int64(n)
        } catch {
            record(String(describing: error))
            return -1
        }
    }

    /// The first bytes, for sniffing; shorter only at the end of the file.
    func prefix(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        do {
            while filled < count {
                let n = try bytes.withUnsafeMutableBytes { all in
                    try source.read(at: Int64(filled), into: UnsafeMutableRawBufferPointer(rebasing: all[filled...]))
                }
                guard n > 0, n <= count - filled else { break }
                filled += n
            }
        } catch {
            throw MediaError.failed("Reading the file failed: \(error).")
        }
        return Array(bytes[..<filled])
    }

    private func record(_ message: String) {
        firstFailure.withLock { if $0 == nil { $0 = message } }
    }
}
