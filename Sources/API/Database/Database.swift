import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The PostgreSQL connection pool every repository goes through.
///
/// It is a `Service`: the pool runs while the service group runs, and closes with it.
public struct Database: Sendable {
    /// The underlying pool; repositories write their SQL against it with bound parameters.
    public let client: PostgresClient
    let logger: Logger

    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        var configuration = configuration
        configuration.options.minimumConnections = 2
        configuration.options.maximumConnections = 20
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs a query and discards its rows.
    public func execute(_ query: PostgresQuery) async throws {
        try await client.query(query, logger: logger)
    }

    /// Runs a query and decodes each row with `decode`.
    public func rows<Row: Sendable>(
        _ query: PostgresQuery,
        _ decode: @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        var result: [Row] = []
        for try await row in try await client.query(query, logger: logger) {
            result.append(try decode(row))
        }
        return result
    }

    /// Runs a query and decodes its first row, if any.
    public func row<Row: Sendable>(
        _ query: PostgresQuery,
        _ decode: @Sendable (PostgresRow) throws -> Row
    ) async throws -> Row? {
        for try await row in try await client.query(query, logger: logger) {
            return try decode(row)
        }
        return nil
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(
        _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in
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
