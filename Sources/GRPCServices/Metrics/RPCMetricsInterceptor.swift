import CoreMetrics
import GRPCCore

/// Counts every RPC and times it to its last response message, by service, method and status
/// code, through swift-metrics (`photovault_rpc_requests_total`, `photovault_rpc_duration_seconds`).
/// Without a bootstrapped metrics backend the figures go nowhere.
public struct RPCMetricsInterceptor: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let service = context.descriptor.service.fullyQualifiedService
        let method = context.descriptor.method
        let started = ContinuousClock.now
        let record: @Sendable (RPCError.Code?) -> Void = { code in
            let dimensions = [("service", service), ("method", method), ("code", Self.name(of: code))]
            Counter(label: "photovault_rpc_requests_total", dimensions: dimensions).increment()
            CoreMetrics.Timer(label: "photovault_rpc_duration_seconds", dimensions: dimensions).recordInterval(since: started)
        }
        let response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            record((error as? RPCError)?.code ?? .unknown)
            throw error
        }
        switch response.accepted {
        case .failure(let error):
            record(error.code)
            return response
        case .success(let contents):
            return StreamingServerResponse(accepted: .success(.init(metadata: contents.metadata) { writer in
                do {
                    let trailers = try await contents.producer(writer)
                    record(nil)
                    return trailers
                } catch {
                    record((error as? RPCError)?.code ?? .unknown)
                    throw error
                }
            }))
        }
    }

    /// The canonical status name ("OK", "NOT_FOUND", "INTERNAL").
    static func name(of code: RPCError.Code?) -> String {
        guard let code else { return "OK" }
        if code == .internalError { return "INTERNAL" }
        var name = ""
        for character in String(describing: code) {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }
}

extension CoreMetrics.Timer {
    /// Records the time elapsed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
