import Foundation
import PhotoVaultProto
import SwiftProtobuf

extension Album {
    /// The album as AlbumService returns it.
    var proto: Photovault_V1_Album {
        .with { album in
            album.id = id.lowercased
            album.ownerID = ownerID.lowercased
            album.title = title
            album.description_p = description
            album.coverImageID = coverImageID?.lowercased ?? ""
            album.kind = kind.proto
            album.sortOrder = sortOrder.proto
            album.imageCount = Int32(clamping: imageCount)
            if let startTime { album.startTime = Google_Protobuf_Timestamp(date: startTime) }
            if let endTime { album.endTime = Google_Protobuf_Timestamp(date: endTime) }
            if let place = place.proto { album.place = place }
            album.personID = personID?.lowercased ?? ""
            album.editedByUser = editedByUser
            album.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            album.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
        }
    }
}

extension AlbumKind {
    var proto: Photovault_V1_AlbumKind {
        switch self {
        case .manual: .manual
        case .trip: .trip
        case .location: .location
        case .person: .person
        }
    }

    /// nil for UNSPECIFIED; INVALID_ARGUMENT for a number this server does not know.
    init?(proto: Photovault_V1_AlbumKind, field: String) throws {
        switch proto {
        case .unspecified: return nil
        case .manual: self = .manual
        case .trip: self = .trip
        case .location: self = .location
        case .person: self = .person
        case .UNRECOGNIZED(let value): throw APIError.invalid(field, "has an unknown album kind \(value)")
        }
    }
}

extension AlbumSortOrder {
    var proto: Photovault_V1_AlbumSortOrder {
        switch self {
        case .takenAscending: .takenAsc
        case .takenDescending: .takenDesc
        case .addedAscending: .addedAsc
        case .addedDescending: .addedDesc
        }
    }

    init(proto: Photovault_V1_AlbumSortOrder) throws {
        switch proto {
        case .unspecified, .takenAsc: self = .takenAscending
        case .takenDesc: self = .takenDescending
        case .addedAsc: self = .addedAscending
        case .addedDesc: self = .addedDescending
        case .UNRECOGNIZED(let value): throw APIError.invalid("sort_order", "has an unknown value \(value)")
        }
    }
}

extension CountryCount {
    /// The country group; covers only where they were looked up.
    var proto: Photovault_V1_CountryGroup {
        .with { group in
            group.countryCode = countryCode
            group.countryName = country
            group.imageCount = imageCount
            group.coverImageID = cover?.lowercased ?? ""
            group.cities = cities.map { city in
                .with {
                    $0.city = city.city
                    $0.adminRegion = city.region
                    $0.imageCount = city.imageCount
                    $0.coverImageID = city.cover?.lowercased ?? ""
                }
            }
        }
    }
}
