import GRPCCore
import Media

/// Failures of the image RPCs that are not plain validation, each with its status and sentence.
public enum ImageError: Error, Equatable, RPCErrorConvertible {
    /// Over the size or pixel limit (RESOURCE_EXHAUSTED).
    case tooLarge(String)
    /// The bytes are not an image we accept, or a broken one (INVALID_ARGUMENT).
    case notAnImage(String)
    /// A stored blob failed its integrity check (DATA_LOSS): never serve altered bytes.
    case dataLoss(String)
    /// A byte range past the end (OUT_OF_RANGE).
    case outOfRange(String)

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .tooLarge: .resourceExhausted
        case .notAnImage: .invalidArgument
        case .dataLoss: .dataLoss
        case .outOfRange: .outOfRange
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .tooLarge(let sentence), .notAnImage(let sentence), .dataLoss(let sentence), .outOfRange(let sentence): sentence
        }
    }

    /// How a decoder's refusal reaches the uploader.
    static func from(_ error: MediaError, limit: Int) -> ImageError {
        switch error {
        case .tooManyPixels(let width, let height, _):
            .tooLarge("The image is \(width) × \(height) pixels; this server accepts at most \(limit) pixels.")
        default:
            .notAnImage(error.description)
        }
    }
}

extension BlobCipherError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code { .dataLoss }
    public var rpcErrorMessage: String { description }
}
