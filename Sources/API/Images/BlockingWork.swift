import Dispatch
import Foundation

/// Runs CPU-bound or blocking work (image decoding) off Swift's cooperative pool, which has
/// only as many threads as cores and must not be stalled by a 2-second decode. At most
/// ``limit`` such jobs run at once (one per core), so fifty parallel uploads decode a few at a
/// time instead of holding fifty decoded images in memory together.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "photovault.blocking", qos: .userInitiated, attributes: .concurrent)
    static let limit = max(2, ProcessInfo.processInfo.activeProcessorCount)
    private static let slots = Slots(limit)

    static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        await slots.acquire()
        defer { Task { await slots.release() } }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result<Value, any Error> { try body() })
            }
        }
    }

    /// A counting semaphore for async code: waiters queue in order.
    private actor Slots {
        private var free: Int
        private var waiters: [CheckedContinuation<Void, Never>] = []

        init(_ count: Int) { free = count }

        func acquire() async {
            if free > 0 {
                free -= 1
                return
            }
            await withCheckedContinuation { waiters.append($0) }
        }

        func release() {
            if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
        }
    }
}
