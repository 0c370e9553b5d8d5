import Foundation

/// Whose data a dashboard figure covers: the caller's own library, or everyone's (admins).
public enum DashboardScope: Sendable, Equatable {
    case owner(UUID)
    case everyone

    /// The owner to filter on; nil for everyone.
    var owner: UUID? {
        switch self {
        case .owner(let id): id
        case .everyone: nil
        }
    }

    /// The scope a caller asked for: everyone's data needs the admin role.
    static func of(_ caller: Caller, allUsers: Bool) throws -> DashboardScope {
        guard allUsers else { return .owner(caller.userID) }
        try caller.require(.admin, to: "see every user's dashboard (all_users)")
        return .everyone
    }
}
