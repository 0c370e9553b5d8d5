import Foundation
import GRPCCore

/// A failure the CLI reports in one sentence, with a documented exit status.
enum CLIError: Error, CustomStringConvertible {
    case notSignedIn
    case signInEnded(String)
    case usage(String)
    case local(String)
    case server(RPCError)
    /// Some files of an upload failed; the summary says which and why.
    case partialUpload(failed: Int, of: Int)
    case interrupted

    init(_ error: any Error) {
        switch error {
        case let error as CLIError: self = error
        case let error as RPCError where error.code == .cancelled: self = .interrupted
        case let error as RPCError: self = .server(error)
        case let error as any RPCErrorConvertible: self = .server(RPCError(error))
        case is CancellationError: self = .interrupted
        default: self = .local("\(error)")
        }
    }

    var description: String {
        switch self {
        case .notSignedIn: "You are not signed in; run `photovault login` first."
        case .signInEnded(let message): "Your sign-in has ended (\(message)); run `photovault login` again."
        case .usage(let sentence), .local(let sentence): sentence
        case .server(let error): "\(Self.sentence(error.message)) (\(Self.statusName(error.code)))"
        case .partialUpload(let failed, let total): "\(failed) of \(total) files could not be uploaded; run the same command again to retry them."
        case .interrupted: "Interrupted; run the same command again to resume."
        }
    }

    /// Exit statuses, documented in the README and in `photovault --help`.
    var exitCode: Int32 {
        switch self {
        case .usage: 2
        case .notSignedIn, .signInEnded: 3
        case .local: 1
        case .partialUpload: 9
        case .interrupted: 130
        case .server(let error):
            switch error.code {
            case .unauthenticated: 3
            case .unavailable, .deadlineExceeded: 4
            case .invalidArgument, .alreadyExists, .failedPrecondition, .outOfRange: 5
            case .notFound: 6
            case .permissionDenied: 7
            case .resourceExhausted: 8
            case .unimplemented: 10
            default: 1
            }
        }
    }

    /// The status name as gRPC spells it: `NOT_FOUND`, `UNAVAILABLE`.
    var statusName: String? {
        if case .server(let error) = self { return Self.statusName(error.code) }
        return nil
    }

    static func statusName(_ code: RPCError.Code) -> String {
        let camel = "\(code)"
        return camel.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }.replacingOccurrences(of: "INTERNAL_ERROR", with: "INTERNAL")
    }

    /// The server's message as one line (a transport error can span several).
    static func sentence(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
