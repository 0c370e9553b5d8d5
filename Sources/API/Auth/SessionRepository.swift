import Crypto
import Foundation
import PostgresNIO

/// Sign-in sessions and their refresh tokens (`auth_sessions`, `refresh_tokens`).
///
/// A session is one sign-in; each Refresh replaces its refresh token with a new one. The
/// replaced tokens stay recorded, so presenting one again is recognised as theft and ends
/// the session for everyone holding its tokens.
struct SessionRepository: Sendable {
    let database: Database

    /// Where a session stands, with its account, as the authenticator needs it.
    struct Status: Sendable {
        let user: User
        let revoked: Bool
        let expired: Bool
    }

    /// What presenting a refresh token led to.
    enum Rotation: Sendable {
        case rotated(sessionID: UUID, userID: UUID, newToken: String, expires: Date)
        case reused(sessionID: UUID)
        case invalid
    }

    /// A new random refresh token: 256 bits, base64url without padding.
    static func newToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The stored form of a token: its SHA-256, hex-encoded (bound as text, decoded to bytea in SQL).
    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Opens a session and returns its id and first refresh token; inside `transaction` when
    /// given (a sign-up creates the account and its first session together), else in its own.
    func create(
        userID: UUID, peer: String, lifetime: Duration, in transaction: Transaction? = nil
    ) async throws -> (sessionID: UUID, token: String, expires: Date) {
        let sessionID = UUID()
        let token = Self.newToken()
        let expires = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        let write: @Sendable (Transaction) async throws -> Void = { transaction in
            try await transaction.execute("""
                INSERT INTO auth_sessions (id, user_id, expires_at, peer) VALUES (\(sessionID), \(userID), \(expires), \(peer))
                """)
            try await transaction.execute("""
                INSERT INTO refresh_tokens (token_hash, session_id) VALUES (decode(\(Self.digest(token)), 'hex'), \(sessionID))
                """)
        }
        if let transaction { try await write(transaction) } else { try await database.transaction(write) }
        return (sessionID, token, expires)
    }

    /// Trades a refresh token for a new one, atomically: of two concurrent presentations of
    /// the same token, one rotates and the other is treated as reuse.
    func rotate(token: String, lifetime: Duration) async throws -> Rotation {
        let digest = Self.digest(token)
        let outcome = try await database.transaction { transaction -> Rotation in
            let claimed = try await transaction.row("""
                UPDATE refresh_tokens t SET rotated_at = now()
                FROM auth_sessions s
                WHERE t.token_hash = decode(\(digest), 'hex') AND t.rotated_at IS NULL AND s.id = t.session_id
                  AND s.revoked_at IS NULL AND s.expires_at > now()
                RETURNING s.id, s.user_id
                """) { try $0.decode((UUID, UUID).self) }
            if let (sessionID, userID) = claimed {
                let newToken = Self.newToken()
                let expires = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
                try await transaction.execute("""
                    INSERT INTO refresh_tokens (token_hash, session_id) VALUES (decode(\(Self.digest(newToken)), 'hex'), \(sessionID))
                    """)
                try await transaction.execute("""
                    UPDATE auth_sessions SET last_used_at = now(), expires_at = \(expires) WHERE id = \(sessionID)
                    """)
                return .rotated(sessionID: sessionID, userID: userID, newToken: newToken, expires: expires)
            }
            let previous = try await transaction.row("""
                SELECT t.session_id, t.rotated_at IS NOT NULL FROM refresh_tokens t WHERE t.token_hash = decode(\(digest), 'hex')
                """) { try $0.decode((UUID, Bool).self) }
            if let (sessionID, wasRotated) = previous, wasRotated { return .reused(sessionID: sessionID) }
            return .invalid
        }
        if case .reused(let sessionID) = outcome {
            try await revoke(sessionID: sessionID, reason: "refresh token reused")
        }
        return outcome
    }

    /// Ends one session.
    func revoke(sessionID: UUID, reason: String) async throws {
        try await database.execute("""
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = \(reason)
            WHERE id = \(sessionID) AND revoked_at IS NULL
            """)
    }

    /// The session a refresh token belongs to, if the token is known.
    func session(ofToken token: String) async throws -> (sessionID: UUID, userID: UUID)? {
        try await database.row("""
            SELECT s.id, s.user_id FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
            WHERE t.token_hash = decode(\(Self.digest(token)), 'hex')
            """) { try $0.decode((UUID, UUID).self) }
    }

    /// Ends every session of a user, except `keeping` when given.
    func revokeAll(userID: UUID, keeping: UUID? = nil, reason: String, in transaction: Transaction? = nil) async throws {
        let keep = keeping ?? UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        let statement: PostgresQuery = """
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = \(reason)
            WHERE user_id = \(userID) AND revoked_at IS NULL AND id <> \(keep)
            """
        if let transaction { try await transaction.execute(statement) } else { try await database.execute(statement) }
    }

    /// The session's state and its account, in one read.
    func status(sessionID: UUID) async throws -> Status? {
        try await database.row("""
            SELECT u.id, u.email, u.name, u.role, u.disabled, u.created_at, u.last_login_at,
                   s.revoked_at IS NOT NULL, s.expires_at <= now()
            FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = \(sessionID)
            """) { row in
            let (id, email, name, role, disabled, createdAt, lastLogin, revoked, expired) = try row.decode(
                (UUID, String, String, String, Bool, Date, Date?, Bool, Bool).self)
            return Status(user: User((id, email, name, role, disabled, createdAt, lastLogin)), revoked: revoked, expired: expired)
        }
    }
}
