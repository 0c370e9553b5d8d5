import Foundation
import Inference
import Synchronization
import Testing

/// Dynamic batching: concurrent requests share forward passes, and a full queue refuses at once.
@Suite struct DynamicBatchingTests {
    @Test func concurrentRequestsAreGroupedIntoFewBatchesAndEachGetsItsOwnAnswer() async throws {
        let sizes = Mutex<[Int]>([])
        let batcher = DynamicBatcher<Int, Int>(name: "test", settings: .init(maxBatch: 8, maxWait: .milliseconds(50), queueLimit: 100)) { items in
            sizes.withLock { $0.append(items.count) }
            return items.map { .success($0 * 10) }
        }
        defer { batcher.stop() }
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 0..<16 { group.addTask { (value, try await batcher.submit(value)) } }
            return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 16 && answers.allSatisfy { $0.value == $0.key * 10 })
        let batches = sizes.withLock { $0 }
        #expect(batches.reduce(0, +) == 16)
        #expect(batches.count <= 4, "batches: \(batches)")
        #expect(batches.allSatisfy { $0 <= 8 })
    }

    @Test func aLoneRequestRunsAloneInsteadOfWaitingForAFullBatch() async throws {
        let sizes = Mutex<[Int]>([])
        let batcher = DynamicBatcher<Int, Int>(name: "test", settings: .init(maxBatch: 64, maxWait: .milliseconds(20), queueLimit: 100)) { items in
            sizes.withLock { $0.append(items.count) }
            return items.map { .success($0) }
        }
        defer { batcher.stop() }
        // Were the batcher to wait for 64 items, this would never return.
        #expect(try await batcher.submit(7) == 7)
        #expect(sizes.withLock { $0 } == [1])
    }

    @Test func aFullQueueAnswersQueueFullInsteadOfGrowing() async throws {
        let release = DispatchSemaphore(value: 0)
        let batcher = DynamicBatcher<Int, Int>(name: "test", settings: .init(maxBatch: 1, maxWait: .zero, queueLimit: 2)) { items in
            release.wait()
            return items.map { .success($0) }
        }
        defer { batcher.stop() }
        // One request runs (and blocks), two wait; the fourth finds the queue full.
        let running = Task { try await batcher.submit(0) }
        try await Task.sleep(for: .milliseconds(100))
        let waiting = [Task { try await batcher.submit(1) }, Task { try await batcher.submit(2) }]
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: BatcherError.queueFull(limit: 2)) { try await batcher.submit(3) }
        for _ in 0..<3 { release.signal() }
        #expect(try await running.value == 0)
        let first = try await waiting[0].value, second = try await waiting[1].value
        #expect(first == 1 && second == 2)
    }
}
