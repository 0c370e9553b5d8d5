import GRPCCore
import PhotoVaultProto
import Synchronization

/// The serving status of each service of a server, as `grpc.health.v1.Health` reports it.
///
/// The empty name stands for the server as a whole. Changes reach every `Watch` stream.
public final class HealthStatusBoard: Sendable {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Sets a service's status and tells its watchers.
    public func set(_ service: String, _ status: Status) {
        let continuations = state.withLock { state -> [AsyncStream<Status>.Continuation] in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for continuation in continuations { continuation.yield(status) }
    }

    /// The status of a service, or nil when the server does not know it.
    public func status(of service: String) -> Status? {
        state.withLock { $0.statuses[service] }
    }

    /// Marks every known service as not serving (used as shutdown begins).
    public func setAllNotServing() {
        let names = state.withLock { Array($0.statuses.keys) }
        for name in names { set(name, .notServing) }
    }

    /// A stream of the service's status: the current one first, then each change.
    func watch(_ service: String) -> AsyncStream<Status> {
        let (stream, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state -> Int in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// `grpc.health.v1.Health`: Check and Watch over a ``HealthStatusBoard``.
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    private let board: HealthStatusBoard

    public init(board: HealthStatusBoard) {
        self.board = board
    }

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = board.status(of: request.service) else {
            throw RPCError(code: .notFound, message: "This server has no service named '\(request.service)'.")
        }
        return .with { $0.status = status }
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        for await status in board.watch(request.service) {
            try await response.write(.with { $0.status = status })
        }
    }
}
