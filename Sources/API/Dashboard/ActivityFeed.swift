import Foundation

/// Turns stored activity rows into the feed's public kinds and one human sentence each.
enum ActivityFeed {
    /// Stored kind → public kind; unknown kinds pass through.
    static let publicKinds = [
        "upload": "image_uploaded", "trash": "image_trashed", "restore": "image_restored", "delete": "image_deleted",
        "purge": "image_purged", "update_metadata": "image_edited",
    ]

    static func entry(id: Int64, owner: UUID, kind: String, image: UUID?, detail json: String, at: Date) -> ActivityEntry {
        let detail = (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
        let file = detail["file_name"].map { "\($0)" } ?? "a photo"
        let count = Int(detail["count"] ?? "") ?? 0
        let photos = count == 1 ? "1 photo" : "\(count) photos"
        let summary: String = switch kind {
        case "upload": "Uploaded \(file)\(detail["bytes"].flatMap(Int64.init).map { " (\(ByteCountFormatter.string(fromByteCount: $0, countStyle: .file)))" } ?? "")."
        case "trash": "Moved a photo to the trash."
        case "restore": "Restored a photo from the trash."
        case "delete": "Deleted \(file) for good."
        case "purge": "Emptied \(file) from the trash after the retention period."
        case "update_metadata": "Edited a photo's \(detail["fields"].map { $0.replacingOccurrences(of: ",", with: ", ") } ?? "details")."
        case "album_created": "Created the album \(detail["title"] ?? "")\(count > 0 ? " with \(photos)" : "")."
        case "album_deleted": "Deleted an album."
        case "album_images_added": "Added \(photos) to an album."
        case "album_images_removed": "Removed \(photos) from an album."
        case "albums_generated": "Generated albums: \(detail["created"] ?? "0") new, \(detail["updated"] ?? "0") updated."
        default: kind.replacingOccurrences(of: "_", with: " ").capitalized + "."
        }
        return ActivityEntry(
            id: id, kind: publicKinds[kind] ?? kind, imageID: image, albumID: detail["album_id"].flatMap(UUID.init(uuidString:)),
            actorID: kind == "purge" ? nil : owner, summary: summary, at: at)
    }
}
