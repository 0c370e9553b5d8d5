import Dispatch

/// Runs CPU-bound or blocking work (image decoding) off Swift's cooperative pool, which has
/// only as many threads as cores and must not be stalled by a 2-second decode.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "photovault.blocking", qos: .userInitiated, attributes: .concurrent)

    static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result<Value, any Error> { try body() })
            }
        }
    }
}
