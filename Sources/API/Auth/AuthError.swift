import GRPCCore

/// What can go wrong in accounts and tokens, each mapped once to a gRPC status and a sentence.
public enum AuthError: Error, Equatable, RPCErrorConvertible {
    case emailTaken
    /// Unknown e-mail and wrong password alike.
    case wrongCredentials
    case accountDisabled
    case missingToken
    /// The access token cannot be used; the reason is said.
    case badToken(String)
    case badRefreshToken
    case refreshTokenReused
    case wrongResetCode
    /// Too many attempts; `retryAfterSeconds` says how long to wait.
    case rateLimited(what: String, retryAfterSeconds: Int)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .wrongResetCode: .invalidArgument
        case .emailTaken: .alreadyExists
        case .wrongCredentials, .accountDisabled, .missingToken, .badToken, .badRefreshToken, .refreshTokenReused:
            .unauthenticated
        case .rateLimited: .resourceExhausted
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .emailTaken: "An account with this e-mail address already exists."
        case .wrongCredentials: "The e-mail address or the password is wrong."
        case .accountDisabled: "This account is disabled; ask an administrator to enable it."
        case .missingToken: "This call needs an access token: send the metadata 'authorization: Bearer <access token>'."
        case .badToken(let reason): "The access token \(reason)."
        case .badRefreshToken: "The refresh token is unknown, expired or revoked; sign in again."
        case .refreshTokenReused:
            "This refresh token was already used, so it may have been stolen; the whole sign-in has been ended. Sign in again."
        case .wrongResetCode: "The reset code is wrong, expired or used up; request a new one."
        case .rateLimited(let what, let seconds): "Too many \(what); try again in \(Self.describe(seconds))."
        }
    }

    public var rpcErrorMetadata: Metadata {
        if case .rateLimited(_, let seconds) = self {
            return ["retry-after-seconds": "\(seconds)"]
        }
        return [:]
    }

    static func describe(_ seconds: Int) -> String {
        if seconds < 90 { return "\(max(seconds, 1)) second\(seconds == 1 ? "" : "s")" }
        let minutes = (seconds + 59) / 60
        return "\(minutes) minutes"
    }
}
