import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The PostgreSQL connection pool every repository goes through.
///
/// Its `client` must be running (`client.run()` in a task) while it is used. Waiting for a
/// connection is bounded: when PostgreSQL is down, calls fail with UNAVAILABLE after
/// `connectionWait` instead of hanging until the client gives up.
public struct Database: Sendable {
    /// The underlying pool; repositories write their SQL against it with bound parameters.
    public let client: PostgresClient
    let logger: Logger
    let connectionWait: Duration

    public init(configuration: PostgresClient.Configuration, logger: Logger, connectionWait: Duration = .seconds(5)) {
        var configuration = configuration
        configuration.options.minimumConnections = 2
        configuration.options.maximumConnections = 20
        configuration.options.connectTimeout = connectionWait
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.connectionWait = connectionWait
    }

    /// Runs a query and discards its rows.
    public func execute(_ query: PostgresQuery) async throws {
        try await withConnection { connection in
            _ = try await connection.query(query, logger: logger)
        }
    }

    /// Runs a query and decodes each row with `decode`.
    public func rows<Row: Sendable>(
        _ query: PostgresQuery,
        _ decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        try await withConnection { connection in
            try await Transaction(connection: connection, logger: logger).rows(query, decode)
        }
    }

    /// Runs a query and decodes its first row, if any.
    public func row<Row: Sendable>(
        _ query: PostgresQuery,
        _ decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> Row? {
        try await rows(query, decode).first
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (Transaction) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            do {
                return try await connection.withTransaction(logger: logger) { connection in
                    try await body(Transaction(connection: connection, logger: logger))
                }
            } catch let error as PostgresTransactionError {
                // The body's own error (a domain error, say) matters more than the wrapper;
                // the rollback has happened by now.
                if let closureError = error.closureError { throw closureError }
                throw error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Leases a connection for `body`, giving up with ``DatabaseUnavailable`` when none
    /// comes within `connectionWait`. Once leased, `body` runs to its end unhurried.
    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let leased = LeaseFlag()
        let client = self.client, wait = self.connectionWait
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.set()
                    return try await body(connection)
                }
            }
            group.addTask {
                try? await Task.sleep(for: wait)
                if !Task.isCancelled, !leased.isSet { throw DatabaseUnavailable() }
                return nil
            }
            while let outcome = try await group.next() {
                if let result = outcome {
                    group.cancelAll()
                    return result
                }
            }
            throw DatabaseUnavailable()
        }
    }
}

/// Set once a connection has been leased.
private final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

extension PostgresClient {
    /// Runs the pool in a child task of `group` and gives that task a moment to start, so the
    /// first query does not find the pool idle (postgres-nio warns when it does).
    public func start(in group: inout ThrowingTaskGroup<Void, any Error>) async {
        group.addTask { await self.run() }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

/// One open transaction, handed to repository methods that must write several rows together.
public struct Transaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement and discards its rows.
    public func execute(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    /// Runs a script of several statements (a migration), one statement at a time.
    ///
    /// postgres-nio speaks only the extended protocol, which takes one statement per query.
    public func executeScript(_ sql: String) async throws {
        for statement in Self.statements(in: sql) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    /// Splits a script at semicolons that end a line, keeping `$$ … $$` bodies whole.
    static func statements(in script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var insideDollarQuote = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") && current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { insideDollarQuote.toggle() }
            if !insideDollarQuote, trimmed.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Runs a query and decodes each row.
    public func rows<Row>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row) async throws -> [Row] {
        var result: [Row] = []
        for try await row in try await connection.query(query, logger: logger) {
            result.append(try decode(row))
        }
        return result
    }

    /// Runs a query and decodes its first row, if any.
    public func row<Row>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row) async throws -> Row? {
        try await rows(query, decode).first
    }
}

extension PSQLError {
    /// The five-character SQLSTATE the server reported, if the error came from the server.
    var sqlState: String? { serverInfo?[.sqlState] }

    /// Whether the statement broke a unique constraint (SQLSTATE 23505).
    var isUniqueViolation: Bool { sqlState == "23505" }
}
