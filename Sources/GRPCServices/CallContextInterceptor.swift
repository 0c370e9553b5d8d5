import GRPCCore
import Logging
import Foundation

/// Gives every RPC a request id and a logger, logs its outcome, and turns unexpected errors
/// into an INTERNAL status that names the request id instead of leaking internals.
public struct CallContextInterceptor: ServerInterceptor {
    /// Maps errors of libraries the server uses (a database driver, say) to a status;
    /// nil leaves the error to the default handling.
    public typealias ErrorMapper = @Sendable (any Error) -> RPCError?

    private let logger: Logger
    private let mapError: ErrorMapper

    public init(logger: Logger, mapError: @escaping ErrorMapper = { _ in nil }) {
        self.logger = logger
        self.mapError = mapError
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let call = CallContext(metadata: request.metadata, context: context, logger: logger)
        let started = ContinuousClock.now
        do {
            let response = try await CallContext.$current.withValue(call) {
                try await next(request, context)
            }
            if case .failure(let error) = response.accepted {
                Self.log(error, call: call, started: started)
            } else {
                call.logger.debug("rpc accepted", metadata: ["duration_ms": "\(Self.milliseconds(since: started))"])
            }
            return response
        } catch {
            let rpcError = mapError(error) ?? Self.rpcError(from: error, call: call)
            Self.log(rpcError, call: call, started: started)
            throw rpcError
        }
    }

    /// Errors that know their status keep it; anything else is a bug and becomes INTERNAL.
    static func rpcError(from error: any Error, call: CallContext) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if let convertible = error as? any RPCErrorConvertible { return RPCError(convertible) }
        call.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
        return RPCError(code: .internalError, message: "An internal error occurred; quote request id \(call.requestID) when reporting it.")
    }

    static func log(_ error: RPCError, call: CallContext, started: ContinuousClock.Instant) {
        let level: Logger.Level = error.code == .internalError || error.code == .unknown ? .error : .info
        call.logger.log(level: level, "rpc failed", metadata: [
            "code": "\(error.code)",
            "message": "\(error.message)",
            "duration_ms": "\(milliseconds(since: started))",
        ])
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return String(format: "%.2f", ms)
    }
}
