import Foundation
import GRPCCore

/// Failures of the album RPCs that are not plain validation, each with its status and sentence.
public enum AlbumError: Error, Equatable, RPCErrorConvertible {
    /// Image ids that are not the caller's images (or are in the trash); nothing was changed.
    case imagesNotFound([UUID])

    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .imagesNotFound: .notFound
        }
    }

    public var rpcErrorMessage: String {
        switch self {
        case .imagesNotFound(let ids):
            let shown = ids.prefix(20).map(\.lowercased).joined(separator: ", ")
            let more = ids.count > 20 ? " and \(ids.count - 20) more" : ""
            let noun = ids.count == 1 ? "This image was" : "These \(ids.count) images were"
            return "\(noun) not found among your photos (or are in the trash), so nothing was added: \(shown)\(more)."
        }
    }
}
