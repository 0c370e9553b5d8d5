import CoreMetrics
import Foundation

/// Why a ``DynamicBatcher`` refused work.
public enum BatcherError: Error, Equatable {
    /// The queue holds `limit` items' worth of work already; the caller should retry later.
    case queueFull(limit: Int)
    /// The batcher was stopped (the server is shutting down).
    case stopped
}

/// Groups requests for one model into batches: a batch runs as soon as it holds `maxBatch`
/// items or its oldest request has waited `maxWait`, on the batcher's own thread (model calls
/// block for milliseconds and must not hold Swift's cooperative threads). The queue is bounded:
/// past `queueLimit` waiting items a request is refused at once rather than left to grow.
public final class DynamicBatcher<Item: Sendable, Output: Sendable>: @unchecked Sendable {
    /// Batch size, wait and queue bound.
    public struct Settings: Sendable {
        public var maxBatch: Int
        public var maxWait: Duration
        public var queueLimit: Int

        public init(maxBatch: Int, maxWait: Duration, queueLimit: Int) {
            self.maxBatch = max(1, maxBatch)
            self.maxWait = maxWait
            self.queueLimit = max(1, queueLimit)
        }
    }

    private struct Pending {
        let item: Item
        let weight: Int
        let enqueued: Date
        let continuation: CheckedContinuation<Output, any Error>
    }

    public let settings: Settings
    private let process: @Sendable ([Item]) -> [Result<Output, any Error>]
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var queuedWeight = 0
    private var stopped = false
    private var batchesRun = 0
    /// Batch sizes, batch latency and queue wait of this model (swift-metrics, `model` dimension).
    private let batchSizes: Recorder
    private let batchDurations: CoreMetrics.Timer
    private let queueWaits: CoreMetrics.Timer

    /// `process` receives the items of one batch, in arrival order, and answers one result each.
    public init(name: String, settings: Settings, process: @escaping @Sendable ([Item]) -> [Result<Output, any Error>]) {
        self.settings = settings
        self.process = process
        self.batchSizes = Recorder(label: "photovault_inference_batch_size", dimensions: [("model", name)], aggregate: true)
        self.batchDurations = CoreMetrics.Timer(label: "photovault_inference_batch_duration_seconds", dimensions: [("model", name)])
        self.queueWaits = CoreMetrics.Timer(label: "photovault_inference_queue_wait_seconds", dimensions: [("model", name)])
        let thread = Thread { [self] in self.work() }
        thread.name = "batcher-\(name)"
        thread.start()
    }

    /// Queues `item` (counting `weight` items, e.g. a request's number of texts) and waits for its result.
    public func submit(_ item: Item, weight: Int = 1) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: BatcherError.stopped)
                return
            }
            if !pending.isEmpty && queuedWeight + weight > settings.queueLimit {
                condition.unlock()
                continuation.resume(throwing: BatcherError.queueFull(limit: settings.queueLimit))
                return
            }
            pending.append(Pending(item: item, weight: weight, enqueued: Date(), continuation: continuation))
            queuedWeight += weight
            condition.signal()
            condition.unlock()
        }
    }

    /// How many batches have run (for tests and benchmarks).
    public var batchCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return batchesRun
    }

    /// Refuses new work and fails what is still queued; the batch running now finishes.
    public func stop() {
        condition.lock()
        stopped = true
        let abandoned = pending
        pending.removeAll()
        queuedWeight = 0
        condition.broadcast()
        condition.unlock()
        for entry in abandoned { entry.continuation.resume(throwing: BatcherError.stopped) }
    }

    private func work() {
        let wait = Double(settings.maxWait.components.seconds) + Double(settings.maxWait.components.attoseconds) / 1e18
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            // Let the batch fill until it is full or its oldest request has waited long enough.
            let deadline = pending[0].enqueued.addingTimeInterval(wait)
            while !stopped && pending.reduce(0, { $0 + $1.weight }) < settings.maxBatch {
                if !condition.wait(until: deadline) { break }
            }
            var taken: [Pending] = []
            var takenWeight = 0
            while let next = pending.first, taken.isEmpty || takenWeight + next.weight <= settings.maxBatch {
                taken.append(pending.removeFirst())
                takenWeight += next.weight
            }
            queuedWeight -= takenWeight
            batchesRun += 1
            condition.unlock()
            if taken.isEmpty { continue }

            let started = Date()
            for entry in taken { queueWaits.recordSeconds(started.timeIntervalSince(entry.enqueued)) }
            batchSizes.record(takenWeight)
            let results = process(taken.map(\.item))
            batchDurations.recordSeconds(Date().timeIntervalSince(started))
            for (index, entry) in taken.enumerated() {
                let result = index < results.count ? results[index] : .failure(BatcherError.stopped)
                entry.continuation.resume(with: result)
            }
        }
    }
}
