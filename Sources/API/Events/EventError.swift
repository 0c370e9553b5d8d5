import GRPCCore

/// Failures of share links that are not plain validation, each with its status and sentence.
public enum EventError: Error, Equatable, RPCErrorConvertible {
    /// Unknown, forged, revoked and expired tokens alike, so a guest learns nothing from the difference.
    case linkNotWorking
    /// The link has a password and the request carries none.
    case passwordMissing
    case wrongPassword
    /// An original asked for through a link that allows only previews and thumbnails.
    case originalsNotShared

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .linkNotWorking: .notFound
        case .passwordMissing, .wrongPassword: .unauthenticated
        case .originalsNotShared: .permissionDenied
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .linkNotWorking: "This share link does not work: it is unknown, revoked or expired."
        case .passwordMissing: "This share link is protected by a password; send it with the request."
        case .wrongPassword: "The password of this share link is wrong."
        case .originalsNotShared:
            "This share link does not allow downloading originals; previews and thumbnails are available."
        }
    }
}
