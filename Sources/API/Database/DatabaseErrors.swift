import GRPCCore
import PostgresNIO

/// How database failures reach clients: an unreachable server is UNAVAILABLE (retry later),
/// anything else stays a bug for the interceptor to report as INTERNAL.
enum DatabaseErrors {
    static func rpcError(for error: any Error) -> RPCError? {
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            return RPCError(code: .unavailable, message: "The database is unavailable right now; retry shortly.")
        default:
            // SQLSTATE class 08 (connection) and 57P0x (shutdown): transient too.
            if let state = error.sqlState, state.hasPrefix("08") || state.hasPrefix("57P0") {
                return RPCError(code: .unavailable, message: "The database is unavailable right now; retry shortly.")
            }
            return nil
        }
    }
}
