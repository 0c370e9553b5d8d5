import Foundation
import PhotoVaultProto
import SwiftProtobuf

extension Event {
    /// The event as its owner (or an admin) sees it.
    var proto: Photovault_V1_Event {
        .with { event in
            event.id = id
            event.title = title
            event.description_p = description
            if let startsAt { event.startsAt = Google_Protobuf_Timestamp(date: startsAt) }
            if let endsAt { event.endsAt = Google_Protobuf_Timestamp(date: endsAt) }
            event.location = location
            event.ownerID = ownerID.lowercased
            event.imageCount = Int32(clamping: imageCount)
            event.createdAt = Google_Protobuf_Timestamp(date: createdAt)
        }
    }

    /// The event as guests see it: without its owner.
    var guestProto: Photovault_V1_Event {
        var event = proto
        event.ownerID = ""
        return event
    }
}

extension ShareLink {
    /// The link without its token, which only CreateShareLink's answer carries.
    var proto: Photovault_V1_ShareLink {
        .with { link in
            link.id = id.lowercased
            link.eventID = eventID
            if let expiresAt { link.expiresAt = Google_Protobuf_Timestamp(date: expiresAt) }
            link.hasPassword_p = hasPassword
            link.allowDownload = allowDownload
            link.revoked = revoked
            link.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            if let lastUsedAt { link.lastUsedAt = Google_Protobuf_Timestamp(date: lastUsedAt) }
        }
    }
}

extension ImageRecord {
    /// The image as guests see it: no owner data, no file metadata.
    var sharedProto: Photovault_V1_SharedImage {
        .with { image in
            image.id = id.lowercased
            image.width = Int32(width)
            image.height = Int32(height)
            if let takenAt { image.takenAt = Google_Protobuf_Timestamp(date: takenAt) }
            if let takenAtOffsetMinutes { image.takenAtOffsetMinutes = Int32(takenAtOffsetMinutes) }
        }
    }

    /// An Image carrying only the guest-visible fields, for SearchByFace through a share link.
    var guestProto: Photovault_V1_Image {
        .with { image in
            image.id = id.lowercased
            image.width = Int32(width)
            image.height = Int32(height)
            if let takenAt { image.takenAt = Google_Protobuf_Timestamp(date: takenAt) }
            if let takenAtOffsetMinutes { image.takenAtOffsetMinutes = Int32(takenAtOffsetMinutes) }
            if let eventID { image.eventID = eventID }
        }
    }
}

extension ImageSearch.FaceHit {
    /// A guest's match in a shared event.
    var match: Photovault_V1_FaceMatch {
        .with {
            $0.image = image.sharedProto
            $0.box = .box(box)
            $0.distance = distance
        }
    }
}
