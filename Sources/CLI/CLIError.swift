import Foundation
import GRPCCore

/// A failure the CLI reports in one sentence, with a documented exit status.
enum CLIError: Error, CustomStringConvertible {
    case notSignedIn
    case local(String)
    case server(RPCError)

    var description: String {
        switch self {
        case .notSignedIn: "You are not signed in; run `photovault login` first."
        case .local(let sentence): sentence
        case .server(let error): "\(error.message) (\(Self.statusName(error.code)))"
        }
    }

    /// Exit statuses: 1 other failure, 3 not signed in / token refused, 4 server unreachable,
    /// 5 invalid input, 6 not found, 7 permission denied, 8 rate limited. (2 is a usage error.)
    var exitCode: Int32 {
        switch self {
        case .notSignedIn: 3
        case .local: 1
        case .server(let error):
            switch error.code {
            case .unauthenticated: 3
            case .unavailable, .deadlineExceeded: 4
            case .invalidArgument, .alreadyExists, .failedPrecondition: 5
            case .notFound: 6
            case .permissionDenied: 7
            case .resourceExhausted: 8
            default: 1
            }
        }
    }

    static func statusName(_ code: RPCError.Code) -> String {
        let camel = "\(code)"
        return camel.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }.replacingOccurrences(of: "INTERNAL_ERROR", with: "INTERNAL")
    }
}
