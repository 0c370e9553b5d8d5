import Foundation
import PostgresNIO

/// The `users` table.
struct UserRepository: Sendable {
    let database: Database

    /// The columns every account query selects first, in this order.
    typealias Columns = (UUID, String, String, String, Bool, Date, Date?)

    static func decode(_ row: PostgresRow) throws -> User {
        User(try row.decode(Columns.self))
    }

    /// Inserts an account; the first account of the installation becomes admin.
    ///
    /// An advisory lock serialises concurrent first sign-ups so exactly one becomes admin.
    func insert(in transaction: Transaction, email: String, name: String, passwordHash: String) async throws -> User {
        try await transaction.execute("SELECT pg_advisory_xact_lock(\(Int64(0x75736572)))")
        let anyUser = try await transaction.row("SELECT 1 FROM users LIMIT 1") { _ in true } ?? false
        let role = anyUser ? Role.member : Role.admin
        do {
            return try await transaction.row("""
                INSERT INTO users (id, email, name, password_hash, role)
                VALUES (\(UUID()), \(email), \(name), \(passwordHash), \(role.rawValue))
                RETURNING id, email, name, role, disabled, created_at, last_login_at
                """, Self.decode)!
        } catch let error as PSQLError where error.isUniqueViolation {
            throw AuthError.emailTaken
        }
    }

    func find(id: UUID) async throws -> User? {
        try await database.row("SELECT id, email, name, role, disabled, created_at, last_login_at FROM users WHERE id = \(id)", Self.decode)
    }

    /// The account and its password hash, for sign-in.
    func findWithPassword(email: String) async throws -> (User, String)? {
        try await database.row("""
            SELECT id, email, name, role, disabled, created_at, last_login_at, password_hash
            FROM users WHERE email = \(email)
            """) { row in
            let (id, email, name, role, disabled, createdAt, lastLogin, hash) = try row.decode(
                (UUID, String, String, String, Bool, Date, Date?, String).self)
            return (User((id, email, name, role, disabled, createdAt, lastLogin)), hash)
        }
    }

    func passwordHash(id: UUID) async throws -> String? {
        try await database.row("SELECT password_hash FROM users WHERE id = \(id)") { try $0.decode(String.self) }
    }

    func setPassword(in transaction: Transaction, id: UUID, hash: String) async throws {
        try await transaction.execute("UPDATE users SET password_hash = \(hash), updated_at = now() WHERE id = \(id)")
    }

    func recordLogin(id: UUID) async throws {
        try await database.execute("UPDATE users SET last_login_at = now() WHERE id = \(id)")
    }

    /// A page of accounts, oldest first, after the keyset of the last one seen.
    ///
    /// Each row comes with its keyset: `created_at` as exact microsecond text, then the id.
    func list(after cursor: (createdAt: String, id: UUID)?, limit: Int, query: String?) async throws -> [(User, [String])] {
        let pattern = query.map { "%" + $0.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        let afterTime = cursor?.createdAt ?? "-infinity"
        let afterID = cursor?.id ?? UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        return try await database.rows("""
            SELECT id, email, name, role, disabled, created_at, last_login_at,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            FROM users
            WHERE (created_at, id) > (\(afterTime)::timestamptz, \(afterID))
              AND (\(pattern)::text IS NULL OR lower(email) LIKE \(pattern) OR lower(name) LIKE \(pattern))
            ORDER BY created_at, id
            LIMIT \(limit)
            """) { row in
            let (id, email, name, role, disabled, createdAt, lastLogin, keyset) = try row.decode(
                (UUID, String, String, String, Bool, Date, Date?, String).self)
            return (User((id, email, name, role, disabled, createdAt, lastLogin)), [keyset, id.uuidString])
        }
    }

    /// Changes a role or the disabled flag, refusing to leave the installation without an active admin.
    func update(id: UUID, role: Role?, disabled: Bool?) async throws -> User {
        try await database.transaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Int64(0x75736572)))")
            guard let current = try await transaction.row(
                "SELECT id, email, name, role, disabled, created_at, last_login_at FROM users WHERE id = \(id) FOR UPDATE",
                Self.decode)
            else { throw APIError.notFound("The user") }
            let newRole = role ?? current.role
            let newDisabled = disabled ?? current.disabled
            if current.role == .admin, !current.disabled, newRole != .admin || newDisabled {
                let otherAdmins = try await transaction.row(
                    "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> \(id)") { try $0.decode(Int.self) } ?? 0
                if otherAdmins == 0 {
                    throw APIError.failedPrecondition("This is the last active admin; make another account admin first.")
                }
            }
            return try await transaction.row("""
                UPDATE users SET role = \(newRole.rawValue), disabled = \(newDisabled), updated_at = now()
                WHERE id = \(id)
                RETURNING id, email, name, role, disabled, created_at, last_login_at
                """, Self.decode)!
        }
    }
}

extension User {
    /// An account from the columns of ``UserRepository/Columns``.
    init(_ columns: UserRepository.Columns) {
        let (id, email, name, role, disabled, createdAt, lastLogin) = columns
        self.init(
            id: id, email: email, name: name, role: Role(rawValue: role) ?? .member, disabled: disabled,
            createdAt: createdAt, lastLoginAt: lastLogin)
    }
}
