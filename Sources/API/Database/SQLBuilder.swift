import PostgresNIO

/// Builds a query whose shape depends on the request (optional filters), still binding
/// every value as a parameter.
struct SQLBuilder {
    private(set) var sql: String
    private var binds = PostgresBindings()

    init(_ sql: String) {
        self.sql = sql
    }

    /// Appends SQL text; values go through ``bind(_:)``.
    mutating func append(_ text: String) {
        sql += text
    }

    /// Binds `value` and returns its placeholder (`$3`).
    mutating func bind(_ value: some PostgresThrowingDynamicTypeEncodable) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
