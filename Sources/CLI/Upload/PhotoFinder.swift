import Foundation

/// Finds the photos under the paths given to `upload`: files as they are, folders recursively
/// (hidden entries skipped); a photo is a file whose name and first bytes both say image.
struct PhotoFinder {
    /// A file to upload.
    struct Candidate: Sendable {
        /// As given on the command line (shown to the user).
        var path: String
        /// Absolute, for the resume state's key.
        var absolutePath: String
        var size: Int64
        var modified: Date
    }

    /// A file left out, with the reason shown in the summary.
    struct Skipped: Sendable {
        var path: String
        var reason: String
    }

    static let extensions: Set<String> = ["jpg", "jpeg", "jpe", "png", "webp", "heic", "heif", "tif", "tiff", "gif", "avif"]

    var candidates: [Candidate] = []
    var skipped: [Skipped] = []
    /// Paths that do not exist or cannot be read: failures, not skips.
    var missing: [Skipped] = []

    init(paths: [String]) {
        var seen = Set<String>()
        for path in paths {
            visit(path, explicit: true, seen: &seen)
        }
        candidates.sort { $0.path < $1.path }
    }

    private mutating func visit(_ path: String, explicit: Bool, seen: inout Set<String>) {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
            missing.append(Skipped(path: path, reason: "No such file or folder."))
            return
        }
        if isFolder.boolValue {
            guard let entries = try? manager.contentsOfDirectory(atPath: path) else {
                missing.append(Skipped(path: path, reason: "The folder cannot be read."))
                return
            }
            for entry in entries.sorted() where !entry.hasPrefix(".") {
                visit((path as NSString).appendingPathComponent(entry), explicit: false, seen: &seen)
            }
            return
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard seen.insert(absolute).inserted else { return }
        guard let attributes = try? manager.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular else {
            skipped.append(Skipped(path: path, reason: "not a regular file"))
            return
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = attributes[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
        let name = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard Self.extensions.contains(name) else {
            skipped.append(Skipped(path: path, reason: "not an image by its name"))
            return
        }
        guard size > 0 else {
            skipped.append(Skipped(path: path, reason: "empty file"))
            return
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            missing.append(Skipped(path: path, reason: "The file cannot be read."))
            return
        }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard Self.looksLikeImage([UInt8](head)) else {
            skipped.append(Skipped(path: path, reason: "its bytes are not an image's (JPEG, PNG, WebP, HEIC, TIFF, GIF, AVIF)"))
            return
        }
        candidates.append(Candidate(path: path, absolutePath: absolute, size: size, modified: modified))
    }

    /// Magic bytes of the formats the server accepts; the server decodes fully and has the last word.
    static func looksLikeImage(_ head: [UInt8]) -> Bool {
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<offset + bytes.count]) == bytes
        }
        return starts([0xFF, 0xD8, 0xFF])  // JPEG
            || starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])  // PNG
            || (starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8))  // WebP
            || starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8))
            || starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])  // TIFF
            || starts(Array("ftyp".utf8), at: 4)  // HEIF / AVIF (ISO BMFF)
    }
}
