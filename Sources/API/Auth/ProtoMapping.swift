import Foundation
import PhotoVaultProto
import SwiftProtobuf

extension Role {
    var proto: Photovault_V1_Role {
        switch self {
        case .admin: .admin
        case .photographer: .photographer
        case .member: .member
        }
    }

    /// The role a request names, or INVALID_ARGUMENT for unspecified and unknown values.
    init(proto: Photovault_V1_Role, field: String) throws {
        switch proto {
        case .admin: self = .admin
        case .photographer: self = .photographer
        case .member: self = .member
        default: throw APIError.invalid(field, "must be ROLE_ADMIN, ROLE_PHOTOGRAPHER or ROLE_MEMBER")
        }
    }
}

extension User {
    var proto: Photovault_V1_User {
        .with {
            $0.id = id.uuidString.lowercased()
            $0.email = email
            $0.name = name
            $0.role = role.proto
            $0.disabled = disabled
            $0.createdAt = Google_Protobuf_Timestamp(date: createdAt)
            if let lastLoginAt { $0.lastLoginAt = Google_Protobuf_Timestamp(date: lastLoginAt) }
        }
    }
}

extension TokenPair {
    var proto: Photovault_V1_AuthResponse {
        .with {
            $0.accessToken = accessToken
            $0.accessTokenExpiresAt = Google_Protobuf_Timestamp(date: accessExpires)
            $0.refreshToken = refreshToken
            $0.refreshTokenExpiresAt = Google_Protobuf_Timestamp(date: refreshExpires)
            $0.user = user.proto
        }
    }
}

/// Parses a UUID named in a request, or INVALID_ARGUMENT naming the field.
/// A timestamp from a request, refused unless it is a real instant between years 1 and 9999
/// (larger values would overflow on their way to PostgreSQL).
func parseTimestamp(_ timestamp: Google_Protobuf_Timestamp, field: String) throws -> Date {
    guard (-62_135_596_800...253_402_300_799).contains(timestamp.seconds), (0..<1_000_000_000).contains(timestamp.nanos) else {
        throw APIError.invalid(field, "must be a time between the years 1 and 9999")
    }
    return timestamp.date
}

func parseID(_ text: String, field: String) throws -> UUID {
    guard !text.isEmpty else { throw APIError.invalid(field, "is empty") }
    guard text.count <= 64, let id = UUID(uuidString: text) else { throw APIError.invalid(field, "is not a valid id") }
    return id
}
