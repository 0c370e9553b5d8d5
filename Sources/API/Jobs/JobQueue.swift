import Foundation
import PostgresNIO

/// The `jobs` table: enqueue in the caller's transaction, claim with `FOR UPDATE SKIP LOCKED`
/// under a lease, finish, fail with exponential backoff, and go dead after the last attempt.
///
/// A worker that dies mid-job simply stops renewing its lease; once the lease has expired any
/// replica claims the job again (counting the attempt), so nothing is lost with a process.
public struct JobQueue: Sendable {
    let database: Database
    /// NOTIFY channel that wakes idle workers on every replica.
    public static let wakeChannel = "photovault_jobs"
    /// First retry delay; each later one doubles, up to ``maximumBackoff``.
    public var baseBackoff: Duration = .seconds(5)
    public var maximumBackoff: Duration = .seconds(3600)

    public init(database: Database) {
        self.database = database
    }

    /// Queues `kind` in `transaction` (so it exists exactly when the transaction commits) and
    /// wakes the workers at commit. A live job of the same kind for the same image (or, without
    /// an image, for the same owner) is kept, and asked to run again if it is running.
    public static func enqueue(
        _ kind: String, imageID: UUID?, ownerID: UUID?, maxAttempts: Int = 5, in transaction: Transaction
    ) async throws {
        if imageID == nil, let ownerID {
            // An owner-wide job (clustering the owner's faces): one live job per owner and kind.
            try await transaction.execute("""
                INSERT INTO jobs (kind, image_id, owner_id, max_attempts)
                VALUES (\(kind), NULL, \(ownerID), \(Int32(maxAttempts)))
                ON CONFLICT (owner_id, kind) WHERE image_id IS NULL AND owner_id IS NOT NULL AND state IN ('queued', 'running', 'failed')
                DO UPDATE SET run_again = true WHERE jobs.state = 'running'
                """)
        } else {
            try await transaction.execute("""
                INSERT INTO jobs (kind, image_id, owner_id, max_attempts)
                VALUES (\(kind), \(imageID), \(ownerID), \(Int32(maxAttempts)))
                ON CONFLICT (image_id, kind) WHERE state IN ('queued', 'running', 'failed')
                DO UPDATE SET run_again = true WHERE jobs.state = 'running'
                """)
        }
        try await transaction.execute("SELECT pg_notify(\(wakeChannel), \(kind))")
        if let imageID, let stage = Pipeline.stage(of: kind) {
            try await ImageStages.set(imageID, stage: stage, state: "pending", error: "", in: transaction)
        }
    }

    /// Takes the next runnable job (queued or failed and due, or running with an expired
    /// lease) of the given kinds, leasing it to `worker`.
    public func claim(kinds: [String], worker: String, lease: Duration) async throws -> Job? {
        let leaseSeconds = Double(lease.components.seconds)
        return try await database.transaction { transaction in
            guard
                let job = try await transaction.row("""
                    UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_by = \(worker),
                        leased_until = now() + make_interval(secs => \(leaseSeconds)), updated_at = now()
                    WHERE id = (
                        SELECT id FROM jobs
                        WHERE kind = ANY(\(kinds))
                          AND ((state IN ('queued', 'failed') AND run_after <= now())
                               OR (state = 'running' AND leased_until < now()))
                        ORDER BY run_after, id
                        FOR UPDATE SKIP LOCKED
                        LIMIT 1)
                    RETURNING id, kind, image_id, owner_id, attempts, max_attempts
                    """, { row in
                        let (id, kind, image, owner, attempts, maximum) = try row.decode((Int64, String, UUID?, UUID?, Int32, Int32).self)
                        return Job(id: id, kind: kind, imageID: image, ownerID: owner, attempt: Int(attempts), maxAttempts: Int(maximum))
                    })
            else { return nil }
            if let image = job.imageID, let stage = Pipeline.stage(of: job.kind) {
                try await ImageStages.set(image, stage: stage, state: "running", error: "", in: transaction)
            }
            return job
        }
    }

    /// Extends the lease of a job still held by `worker`; false when it was lost meanwhile.
    public func renew(_ job: Job, worker: String, lease: Duration) async throws -> Bool {
        let leaseSeconds = Double(lease.components.seconds)
        return try await database.row("""
            UPDATE jobs SET leased_until = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = \(job.id) AND state = 'running' AND leased_by = \(worker)
            RETURNING id
            """) { _ in true } ?? false
    }

    /// Marks the job done, its stage done (or skipped), and queues what follows, all at once.
    /// A job asked for again while it ran goes back to the queue instead, with fresh attempts.
    public func succeed(_ job: Job, worker: String, outcome: JobOutcome = .done) async throws {
        try await database.transaction { transaction in
            guard
                let again = try await transaction.row("""
                    UPDATE jobs SET state = CASE WHEN run_again THEN 'queued' ELSE 'succeeded' END,
                        attempts = CASE WHEN run_again THEN 0 ELSE attempts END, run_again = false,
                        run_after = now(), leased_until = NULL, last_error = '', updated_at = now()
                    WHERE id = \(job.id) AND state = 'running' AND leased_by = \(worker)
                    RETURNING state = 'queued'
                    """, { try $0.decode(Bool.self) })
            // Lost the lease meanwhile (a long pause): whoever holds it now finishes the job.
            else { return }
            if again {
                try await transaction.execute("SELECT pg_notify(\(Self.wakeChannel), \(job.kind))")
                if let image = job.imageID, let stage = Pipeline.stage(of: job.kind) {
                    try await ImageStages.set(image, stage: stage, state: "pending", error: "", in: transaction)
                }
                return
            }
            // What follows is queued first, so that no announcement in between calls the image ready.
            for next in Pipeline.next(after: job.kind) {
                let image = Pipeline.ownerWide.contains(next) ? nil : job.imageID
                try await Self.enqueue(next, imageID: image, ownerID: job.ownerID, in: transaction)
            }
            if let image = job.imageID, let stage = Pipeline.stage(of: job.kind) {
                switch outcome {
                case .done: try await ImageStages.set(image, stage: stage, state: "done", error: "", in: transaction)
                case .skipped(let why): try await ImageStages.set(image, stage: stage, state: "skipped", error: why, in: transaction)
                }
            }
        }
    }

    /// Records a failure: retried after a backoff while attempts remain, dead afterwards or
    /// at once when `permanent`.
    public func fail(_ job: Job, worker: String, error: String, permanent: Bool) async throws {
        let dead = permanent || job.attempt >= job.maxAttempts
        let delay = backoff(afterAttempt: job.attempt)
        let message = String(error.prefix(1000))
        try await database.transaction { transaction in
            let updated = try await transaction.row("""
                UPDATE jobs SET state = \(dead ? "dead" : "failed"), last_error = \(message), leased_until = NULL,
                    run_after = now() + make_interval(secs => \(Double(delay.components.seconds))), updated_at = now()
                WHERE id = \(job.id) AND state = 'running' AND leased_by = \(worker)
                RETURNING id
                """) { _ in true } ?? false
            guard updated else { return }
            if let image = job.imageID, let stage = Pipeline.stage(of: job.kind) {
                try await ImageStages.set(image, stage: stage, state: dead ? "failed" : "pending", error: message, in: transaction)
            }
        }
    }

    /// Puts a job that cannot run yet (a dependency is down) back in the queue without spending
    /// the attempt; it runs again after `delay`, or sooner when ``resumeWaiting(kinds:)`` is called.
    public func postpone(_ job: Job, worker: String, reason: String, delay: Duration) async throws {
        let message = String(reason.prefix(1000))
        try await database.transaction { transaction in
            let updated = try await transaction.row("""
                UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), last_error = \(message),
                    leased_until = NULL, run_after = now() + make_interval(secs => \(Double(delay.components.seconds))),
                    updated_at = now()
                WHERE id = \(job.id) AND state = 'running' AND leased_by = \(worker)
                RETURNING id
                """) { _ in true } ?? false
            guard updated else { return }
            if let image = job.imageID, let stage = Pipeline.stage(of: job.kind) {
                try await ImageStages.set(image, stage: stage, state: "pending", error: "Waiting: \(message)", in: transaction)
            }
        }
    }

    /// Makes postponed jobs of these kinds due now and wakes the workers of every replica; called
    /// when what they waited for is back.
    public func resumeWaiting(kinds: [String]) async throws {
        try await database.transaction { transaction in
            try await transaction.execute("""
                UPDATE jobs SET run_after = now() WHERE state = 'queued' AND kind = ANY(\(kinds)) AND run_after > now()
                """)
            try await transaction.execute("SELECT pg_notify(\(Self.wakeChannel), 'resume')")
        }
    }

    /// The wait before the attempt after `attempt`: base × 2^(attempt−1), capped, ±20 % jitter
    /// so that jobs failing together do not retry together.
    func backoff(afterAttempt attempt: Int) -> Duration {
        let base = Double(baseBackoff.components.seconds)
        let raw = min(base * pow(2, Double(max(0, attempt - 1))), Double(maximumBackoff.components.seconds))
        return .seconds(max(1, (raw * Double.random(in: 0.8...1.2)).rounded()))
    }
}
