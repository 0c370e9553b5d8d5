import Logging
import PostgresNIO

/// One numbered schema change. Numbers only grow; a released migration is never edited.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Applies the migrations a database has not seen yet, each in its own transaction,
/// recording it in `schema_migrations`.
///
/// An advisory lock makes replicas that start together take turns instead of racing.
public struct Migrator: Sendable {
    let database: Database
    let migrations: [Migration]
    let logger: Logger

    public init(database: Database, migrations: [Migration] = Migrations.all, logger: Logger) {
        self.database = database
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Key of the advisory lock held while migrating ("photovlt" in ASCII).
    static let lockKey: Int64 = 0x70686f746f766c74

    /// Applies what is missing and returns the versions it applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        // Under the lock too: two sessions running CREATE TABLE IF NOT EXISTS at once can both
        // find the table missing, and one then fails on a duplicate catalog row.
        try await database.transaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            try await transaction.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await database.transaction { transaction -> Bool in
                try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
                let seen = try await transaction.row(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)") { _ in true } ?? false
                if seen { return false }
                try await transaction.executeScript(migration.sql)
                try await transaction.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }
}
