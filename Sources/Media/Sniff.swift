extension Media {
    /// Format from magic bytes alone (the first 32 bytes are enough), never from a file name.
    /// nil when unknown.
    public static func sniff(_ prefix: [UInt8]) -> ImageFormat? {
        let p = prefix
        if p.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if p.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if p.count >= 12, p.starts(with: Array("RIFF".utf8)), Array(p[8..<12]) == Array("WEBP".utf8) {
            return .webp
        }
        if p.starts(with: Array("GIF87a".utf8)) || p.starts(with: Array("GIF89a".utf8)) { return .gif }
        // Classic TIFF and BigTIFF, both byte orders.
        if p.starts(with: [0x49, 0x49, 0x2A, 0x00]) || p.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
            || p.starts(with: [0x49, 0x49, 0x2B, 0x00]) || p.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) {
            return .tiff
        }
        return heifFamily(p)
    }

    private static let heicBrands: Set<String> = [
        "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs",
    ]
    private static let avifBrands: Set<String> = ["avif", "avis"]
    /// Generic HEIF brands: image containers without saying which codec.
    private static let heifBrands: Set<String> = ["mif1", "msf1", "mif2", "miaf"]

    /// HEIC and AVIF share ISO-BMFF's ftyp box; the major brand decides, then the compatible
    /// brands within the prefix. MP4 and QuickTime videos use the same box and return nil.
    private static func heifFamily(_ p: [UInt8]) -> ImageFormat? {
        guard p.count >= 12, Array(p[4..<8]) == Array("ftyp".utf8) else { return nil }
        let boxSize = Int(p[0]) << 24 | Int(p[1]) << 16 | Int(p[2]) << 8 | Int(p[3])
        let major = brand(p, at: 8)
        if avifBrands.contains(major) { return .avif }
        if heicBrands.contains(major) { return .heic }
        var compatible: [String] = []
        var offset = 16
        while offset + 4 <= min(p.count, max(boxSize, 16)) {
            compatible.append(brand(p, at: offset))
            offset += 4
        }
        if compatible.contains(where: avifBrands.contains) { return .avif }
        if compatible.contains(where: heicBrands.contains) { return .heic }
        if heifBrands.contains(major) || compatible.contains(where: heifBrands.contains) { return .heic }
        return nil
    }

    private static func brand(_ p: [UInt8], at offset: Int) -> String {
        String(decoding: p[offset..<offset + 4], as: UTF8.self)
    }

    /// Width and height as the file's first bytes declare them, for formats that put them at a
    /// fixed place (PNG's IHDR, GIF's logical screen); nil otherwise.
    static func declaredSize(_ p: [UInt8], format: ImageFormat) -> (Int, Int)? {
        switch format {
        case .png:
            guard p.count >= 24, Array(p[12..<16]) == Array("IHDR".utf8) else { return nil }
            let width = Int(p[16]) << 24 | Int(p[17]) << 16 | Int(p[18]) << 8 | Int(p[19])
            let height = Int(p[20]) << 24 | Int(p[21]) << 16 | Int(p[22]) << 8 | Int(p[23])
            return (width, height)
        case .gif:
            guard p.count >= 10 else { return nil }
            return (Int(p[6]) | Int(p[7]) << 8, Int(p[8]) | Int(p[9]) << 8)
        default:
            return nil
        }
    }

    /// What a file that is not an accepted image looks like, for the refusal sentence.
    static func lookalike(_ p: [UInt8], size: Int64) -> String? {
        if size == 0 || p.isEmpty { return "the file is empty" }
        if p.starts(with: [0x50, 0x4B, 0x03, 0x04]) || p.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return "it looks like a ZIP archive"
        }
        if p.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return "it looks like an ELF executable" }
        if p.starts(with: Array("%PDF".utf8)) { return "it looks like a PDF document" }
        if p.count >= 8, Array(p[4..<8]) == Array("ftyp".utf8) { return "it looks like an MP4 or QuickTime video" }
        if p.starts(with: Array("BM".utf8)) { return "it looks like a BMP image" }
        if p.starts(with: [0x1F, 0x8B]) { return "it looks like a gzip archive" }
        return nil
    }

    static func unsupportedSentence(_ detail: String?) -> String {
        let base = "The file is not a JPEG, PNG, WebP, HEIC, TIFF, GIF or AVIF image"
        guard let detail else { return base + "." }
        return base + " (\(detail))."
    }
}
