import Foundation
import PostgresNIO

/// Password-reset codes (`password_reset_codes`): at most one live code per user.
struct ResetCodeRepository: Sendable {
    let database: Database

    /// A stored code: its hash and how many wrong guesses it has seen.
    struct Entry: Sendable {
        let hash: String
        let attempts: Int
        let expired: Bool
    }

    /// Replaces the user's code.
    func store(userID: UUID, hash: String, lifetime: Duration) async throws {
        let expires = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        try await database.execute("""
            INSERT INTO password_reset_codes (user_id, code_hash, expires_at) VALUES (\(userID), \(hash), \(expires))
            ON CONFLICT (user_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at,
                attempts = 0, created_at = now()
            """)
    }

    /// Counts one guess and returns the entry as it was before it, if any.
    ///
    /// Counting before checking means parallel guesses cannot exceed the attempt limit.
    func claimAttempt(userID: UUID) async throws -> Entry? {
        try await database.row("""
            UPDATE password_reset_codes SET attempts = attempts + 1 WHERE user_id = \(userID)
            RETURNING code_hash, attempts - 1, expires_at <= now()
            """) { row in
            let (hash, attempts, expired) = try row.decode((String, Int, Bool).self)
            return Entry(hash: hash, attempts: attempts, expired: expired)
        }
    }

    func delete(userID: UUID, in transaction: Transaction) async throws {
        try await transaction.execute("DELETE FROM password_reset_codes WHERE user_id = \(userID)")
    }
}
