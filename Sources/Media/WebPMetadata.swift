/// libvips 8.14's webpsave ignores `strip` and always writes an EXIF chunk (rebuilt from the
/// image header), so renditions are cleaned here: the container is rewritten without its EXIF,
/// XMP and ICC chunks, and VP8X's flags for them are cleared. Returns nil when the bytes are not
/// a well-formed WebP container, which the caller treats as a failure rather than pass on.
func strippingWebPMetadata(_ bytes: [UInt8]) -> [UInt8]? {
    guard bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)),
          Array(bytes[8..<12]) == Array("WEBP".utf8) else { return nil }
    let dropped: Set<[UInt8]> = [Array("EXIF".utf8), Array("XMP ".utf8), Array("ICCP".utf8)]
    var body: [UInt8] = Array("WEBP".utf8)
    var offset = 12
    while offset < bytes.count {
        guard offset + 8 <= bytes.count else { return nil }
        let fourCC = Array(bytes[offset..<offset + 4])
        let size = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
            | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
        let end = offset + 8 + size + (size & 1)
        guard end <= bytes.count || (end == bytes.count + 1 && size & 1 == 1) else { return nil }
        var chunk = Array(bytes[offset..<min(end, bytes.count)])
        if chunk.count < 8 + size + (size & 1) { chunk.append(0) }
        if fourCC == Array("VP8X".utf8), chunk.count > 8 {
            // Bits: ICC 0x20, EXIF 0x08, XMP 0x04.
            chunk[8] &= ~UInt8(0x20 | 0x08 | 0x04)
        }
        if !dropped.contains(fourCC) { body += chunk }
        offset = end
    }
    let riffSize = UInt32(body.count)
    return Array("RIFF".utf8)
        + [UInt8(riffSize & 0xFF), UInt8(riffSize >> 8 & 0xFF), UInt8(riffSize >> 16 & 0xFF), UInt8(riffSize >> 24)]
        + body
}
