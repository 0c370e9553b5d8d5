import Foundation

/// What an account may do.
public enum Role: String, Sendable, CaseIterable {
    case admin, photographer, member
}

/// An account as stored, without its password hash.
public struct User: Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let name: String
    public let role: Role
    public let disabled: Bool
    public let createdAt: Date
    public let lastLoginAt: Date?
}

/// The signed-in account an RPC runs for, established by ``Authenticator``.
public struct Caller: Sendable, Equatable {
    /// The account as of the last time this replica read it (at most the session-cache
    /// lifetime ago; changes made through the API evict it at once).
    public let user: User
    public let sessionID: UUID

    public var userID: UUID { user.id }
    public var role: Role { user.role }

    /// Refuses the call unless the caller holds one of `roles`.
    public func require(_ roles: Role..., to action: String) throws {
        guard roles.contains(role) else {
            let names = roles.map(\.rawValue).joined(separator: " or ")
            throw APIError.permissionDenied("Only \(names) accounts may \(action).")
        }
    }
}
