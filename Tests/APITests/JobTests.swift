import Foundation
import GRPCCore
import PhotoVaultProto
import PostgresNIO
import Synchronization
import Testing
import TestImages
@testable import API

/// A job handler for tests: records each run and fails as told.
private final class ScriptedHandler: JobHandler {
    let kind: String
    let runs = Mutex<[(Int64, Int)]>([])
    let outcome: @Sendable (Job) throws -> Void

    init(kind: String, outcome: @escaping @Sendable (Job) throws -> Void) {
        self.kind = kind
        self.outcome = outcome
    }

    func run(_ job: Job) async throws -> JobOutcome {
        runs.withLock { $0.append((job.id, job.attempt)) }
        try outcome(job)
        return .done
    }
}

@Suite("Job queue")
struct JobTests {
    private func withQueue(_ body: (Database, JobQueue) async throws -> Void) async throws {
        let configuration = try await TestPostgres.shared.freshDatabase()
        try await TestPostgres.withDatabase(configuration) { database in
            var queue = JobQueue(database: database)
            queue.baseBackoff = .seconds(1)
            try await body(database, queue)
        }
    }

    private func enqueue(_ kind: String, maxAttempts: Int = 5, in database: Database) async throws {
        try await database.transaction { transaction in
            try await JobQueue.enqueue(kind, imageID: nil, ownerID: nil, maxAttempts: maxAttempts, in: transaction)
        }
    }

    private func state(_ database: Database) async throws -> [(String, Int32, String)] {
        try await database.rows("SELECT state, attempts, last_error FROM jobs ORDER BY id") { try $0.decode((String, Int32, String).self) }
    }

    /// Runs `workers` until `done` holds (checked every 50 ms, for at most 20 s).
    private func run(_ workers: JobWorkers, until done: @escaping @Sendable () async throws -> Bool) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await workers.run() }
            for _ in 0..<400 {
                if try await done() { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            group.cancelAll()
        }
    }

    @Test func aFailingJobIsRetriedWithGrowingBackoffThenGoesDead() async throws {
        try await withQueue { database, queue in
            let handler = ScriptedHandler(kind: "flaky") { _ in throw JobFailure.transient("The inference service is down.") }
            try await enqueue("flaky", maxAttempts: 3, in: database)
            var workers = JobWorkers(queue: queue, handlers: [handler], count: 1, signal: WakeSignal(), logger: TestPostgres.logger)
            workers.pollInterval = .milliseconds(100)
            try await run(workers) { try await state(database).first?.0 == "dead" }
            let rows = try await state(database)
            #expect(rows.count == 1 && rows[0].0 == "dead" && rows[0].1 == 3)
            #expect(rows[0].2 == "The inference service is down.")
            #expect(handler.runs.withLock { $0.map(\.1) } == [1, 2, 3])
        }
    }

    @Test func backoffDoublesWithJitterAndIsCapped() async throws {
        try await withQueue { _, queue in
            var queue = queue
            queue.baseBackoff = .seconds(10)
            queue.maximumBackoff = .seconds(60)
            for (attempt, nominal) in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 60.0), (9, 60.0)] {
                let seconds = Double(queue.backoff(afterAttempt: attempt).components.seconds)
                #expect(seconds >= nominal * 0.8 && seconds <= nominal * 1.2, "attempt \(attempt): \(seconds)")
            }
        }
    }

    @Test func aPermanentFailureGoesDeadAtOnce() async throws {
        try await withQueue { database, queue in
            let handler = ScriptedHandler(kind: "broken") { _ in throw JobFailure.permanent("The original cannot be decoded.") }
            try await enqueue("broken", in: database)
            let workers = JobWorkers(queue: queue, handlers: [handler], count: 1, signal: WakeSignal(), logger: TestPostgres.logger)
            try await run(workers) { try await state(database).first?.0 == "dead" }
            #expect(try await state(database).first?.1 == 1)
        }
    }

    @Test func anExpiredLeaseIsTakenOverAndTheOldHolderCannotFinish() async throws {
        try await withQueue { database, queue in
            try await enqueue("slow", in: database)
            let first = try #require(try await queue.claim(kinds: ["slow"], worker: "a", lease: .seconds(30)))
            #expect(try await queue.claim(kinds: ["slow"], worker: "b", lease: .seconds(30)) == nil)
            // The lease runs out: moved into the past rather than waited for, so a busy machine
            // cannot let it lapse before the claim above.
            try await database.execute("UPDATE jobs SET leased_until = now() - interval '1 second' WHERE id = \(first.id)")
            let second = try #require(try await queue.claim(kinds: ["slow"], worker: "b", lease: .seconds(30)))
            #expect(second.id == first.id && second.attempt == 2)
            #expect(try await queue.renew(first, worker: "a", lease: .seconds(30)) == false)
            try await queue.succeed(first, worker: "a")
            #expect(try await state(database).first?.0 == "running")
            try await queue.succeed(second, worker: "b")
            #expect(try await state(database).first?.0 == "succeeded")
        }
    }

    @Test func concurrentWorkersRunEachJobExactlyOnce() async throws {
        try await withQueue { database, queue in
            for _ in 0..<30 { try await enqueue("count", in: database) }
            let handler = ScriptedHandler(kind: "count") { _ in }
            let signal = WakeSignal()
            let workers = JobWorkers(queue: queue, handlers: [handler], count: 4, signal: signal, logger: TestPostgres.logger)
            let second = JobWorkers(queue: queue, handlers: [handler], count: 4, signal: signal, logger: TestPostgres.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await second.run() }
                try await run(workers) {
                    try await database.row("SELECT count(*) FROM jobs WHERE state = 'succeeded'") { try $0.decode(Int64.self) } == 30
                }
                group.cancelAll()
            }
            let ids = handler.runs.withLock { $0.map(\.0) }
            #expect(ids.count == 30 && Set(ids).count == 30)
        }
    }

    @Test func adminsListAndRetryJobsAndTheRetriedJobRuns() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 300, height: 200))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let admin = try await api.register("admin@example.com").accessToken
            let member = try await api.register("member@example.com").accessToken
            let image = try await api.upload(jpeg, token: admin).image
            try await api.database.execute("""
                UPDATE jobs SET state = 'dead', attempts = 5, last_error = 'The blob store was unreachable.' WHERE kind = 'derivatives'
                """)
            let meta = TestAPI.bearer(admin)
            let dead = try await api.admin.listJobs(.with { $0.state = .dead }, metadata: meta)
            #expect(dead.jobs.count == 1 && dead.jobs[0].kind == "derivatives" && dead.jobs[0].imageID == image.id)
            #expect(dead.jobs[0].lastError == "The blob store was unreachable." && dead.jobs[0].attempts == 5)
            #expect(try await api.admin.listJobs(.with { $0.kind = "nothing" }, metadata: meta).jobs.isEmpty)
            #expect(await rpcError { try await api.admin.listJobs(.init(), metadata: TestAPI.bearer(member)) }?.code == .permissionDenied)

            let retried = try await api.admin.retryJob(.with { $0.jobID = dead.jobs[0].id }, metadata: meta)
            #expect(retried.state == .queued && retried.attempts == 0)
            let twice = await rpcError { try await api.admin.retryJob(.with { $0.jobID = dead.jobs[0].id }, metadata: meta) }
            #expect(twice?.code == .failedPrecondition)
            #expect(await rpcError { try await api.admin.retryJob(.with { $0.jobID = "999999" }, metadata: meta) }?.code == .notFound)
            #expect(await rpcError { try await api.admin.retryJob(.with { $0.jobID = "x" }, metadata: meta) }?.code == .invalidArgument)

            // A replica with workers picks it up.
            try await withReplica(of: api) { replica in
                let events = try await replica.watchUntilProcessed([image.id], token: admin)
                #expect(events.last?.state == .ready)
            }
        }
    }
}
