import GRPCCore

/// Failures any feature can report, each mapped once to a gRPC status and a sentence.
///
/// Features with failures of their own (``AuthError``) keep them in their own type.
public enum APIError: Error, Equatable, RPCErrorConvertible {
    /// A request field failed validation; the sentence names the field.
    case invalid(_ field: String, _ reason: String)
    /// Also used for other users' resources, so their existence is never revealed.
    case notFound(String)
    case permissionDenied(String)
    case failedPrecondition(String)
    /// A dependency (database, inference, mail) is down; the client should retry.
    case unavailable(String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalid: .invalidArgument
        case .notFound: .notFound
        case .permissionDenied: .permissionDenied
        case .failedPrecondition: .failedPrecondition
        case .unavailable: .unavailable
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .invalid(let field, let reason): "\(field) \(reason)."
        case .notFound(let what): "\(what) was not found."
        case .permissionDenied(let reason), .failedPrecondition(let reason), .unavailable(let reason): reason
        }
    }
}
