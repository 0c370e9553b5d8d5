import Foundation
import ServiceLifecycle
import Synchronization

/// Fans image changes announced over NOTIFY out to this replica's WatchImages streams, each
/// seeing only its owner's images. As a service it ends every stream on graceful shutdown, so
/// open watches do not hold the server up.
public final class ImageWatchHub: Service, Sendable {
    private struct Watcher {
        var owner: UUID
        var continuation: AsyncStream<ImageChange>.Continuation
    }
    private let watchers = Mutex<[UUID: Watcher]>([:])

    public init() {}

    /// Changes to `owner`'s images from now on, until the stream is dropped.
    func watch(owner: UUID) -> AsyncStream<ImageChange> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ImageChange>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [weak self] _ in
            _ = self?.watchers.withLock { $0.removeValue(forKey: id) }
        }
        watchers.withLock { $0[id] = Watcher(owner: owner, continuation: continuation) }
        return stream
    }

    /// Delivers a NOTIFY payload (JSON of an ``ImageChange``).
    func deliver(_ payload: String) {
        guard let change = try? JSONDecoder().decode(ImageChange.self, from: Data(payload.utf8)) else { return }
        let targets = watchers.withLock { $0.values.filter { $0.owner == change.owner }.map(\.continuation) }
        for continuation in targets { continuation.yield(change) }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let all = watchers.withLock { watchers in
            defer { watchers.removeAll() }
            return watchers.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }

    /// How many streams are open (for tests and metrics).
    var count: Int { watchers.withLock { $0.count } }
}
