import Foundation
import Logging

/// Account administration: the domain behind AdminService's user RPCs.
public struct Administration: Sendable {
    let users: UserRepository
    let sessions: SessionRepository
    let authenticator: Authenticator
    let database: Database
    /// Data keys, re-wrapped by master-key rotation.
    let dataKeys: DataKeys?
    let logger: Logger

    init(database: Database, authenticator: Authenticator, dataKeys: DataKeys?, logger: Logger) {
        self.users = UserRepository(database: database)
        self.sessions = SessionRepository(database: database)
        self.authenticator = authenticator
        self.database = database
        self.dataKeys = dataKeys
        self.logger = logger
    }

    /// A page of accounts, oldest first.
    public func listUsers(pageSize: Int32, pageToken: String, query rawQuery: String) async throws -> (users: [User], nextPageToken: String) {
        let size = try PageToken.pageSize(pageSize)
        let query = rawQuery.trimmingCharacters(in: .whitespaces)
        guard query.count <= 254 else { throw APIError.invalid("query", "is longer than 254 characters") }
        let scope = "users:" + query.lowercased()
        var cursor: (createdAt: String, id: UUID)?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 2) {
            guard values[0].wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil,
                let id = UUID(uuidString: values[1])
            else {
                throw APIError.invalid("page_token", "is not a token this server issued")
            }
            cursor = (values[0], id)
        }
        let rows = try await users.list(after: cursor, limit: size + 1, query: query.isEmpty ? nil : query)
        let page = rows.prefix(size).map(\.0)
        var next = ""
        if rows.count > size { next = PageToken.encode(scope: scope, values: rows[size - 1].1) }
        return (page, next)
    }

    /// Changes a role; takes effect on the account's next call.
    public func setRole(userID: UUID, role: Role) async throws -> User {
        let user = try await users.update(id: userID, role: role, disabled: nil)
        await authenticator.forget(userID: userID)
        logger.info("role changed", metadata: ["user_id": "\(userID)", "role": "\(role.rawValue)"])
        return user
    }

    /// Disables or enables an account. Disabling ends its sessions, so its tokens stop at once.
    public func setDisabled(userID: UUID, disabled: Bool, by caller: Caller) async throws -> User {
        if disabled, userID == caller.userID {
            throw APIError.failedPrecondition("Admins cannot disable their own account.")
        }
        let user = try await users.update(id: userID, role: nil, disabled: disabled)
        if disabled { try await sessions.revokeAll(userID: userID, reason: "account disabled") }
        await authenticator.forget(userID: userID)
        logger.info(disabled ? "account disabled" : "account enabled", metadata: ["user_id": "\(userID)"])
        return user
    }
}
