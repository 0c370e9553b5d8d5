import GRPCCore
import PostgresNIO

/// How database failures reach clients: an unreachable server is UNAVAILABLE (retry later),
/// anything else stays a bug for the interceptor to report as INTERNAL.
enum DatabaseErrors {
    static let unavailable = "The database is unavailable right now; retry shortly."

    static func rpcError(for error: any Error) -> RPCError? {
        if error is DatabaseUnavailable { return RPCError(code: .unavailable, message: unavailable) }
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            return RPCError(code: .unavailable, message: unavailable)
        default:
            // SQLSTATE class 08 (connection) and 57P0x (shutdown): transient too.
            if let state = error.sqlState, state.hasPrefix("08") || state.hasPrefix("57P0") {
                return RPCError(code: .unavailable, message: unavailable)
            }
            return nil
        }
    }
}

/// No database connection could be had in time.
struct DatabaseUnavailable: Error, CustomStringConvertible {
    var description: String { DatabaseErrors.unavailable }
}
