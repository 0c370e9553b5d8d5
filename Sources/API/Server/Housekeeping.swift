import Foundation
import Logging
import ServiceLifecycle

/// Deletes what has stopped mattering: old rate-limit windows, sessions ended or expired more
/// than a week ago (with their refresh tokens), and reset codes past their expiry. Runs at
/// start-up and then hourly, and queues the purge job and the nightly clustering of people;
/// every replica may run it, the statements are idempotent.
public struct Housekeeping: Service {
    let database: Database
    let logger: Logger
    let interval: Duration

    public init(database: Database, logger: Logger, interval: Duration = .seconds(3600)) {
        self.database = database
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        // Shutdown cancels the hour-long sleep instead of waiting it out.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await sweep()
                } catch {
                    logger.warning("housekeeping failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass over every table that accumulates.
    func sweep() async throws {
        try await RateLimiter(database: database).collectGarbage()
        try await database.execute("""
            DELETE FROM auth_sessions
            WHERE coalesce(revoked_at, expires_at) < now() - interval '7 days'
            """)
        try await database.execute("DELETE FROM password_reset_codes WHERE expires_at < now()")
        // Trash, expired upload sessions and deleted blobs are the job queue's work.
        try await PurgeJob.schedule(database: database)
        try await scheduleNightlyReclustering()
    }

    /// The nightly pass over people: every owner whose faces changed since their last full
    /// clustering, and who has had none for 20 hours, gets one (at most one per owner and day,
    /// whichever replica notices first: the queue keeps one live job per owner).
    func scheduleNightlyReclustering() async throws {
        try await database.transaction { transaction in
            let owners = try await transaction.rows("""
                SELECT f.owner_id FROM faces f
                GROUP BY f.owner_id
                HAVING max(f.created_at) > coalesce((
                    SELECT max(j.updated_at) FROM jobs j
                    WHERE j.owner_id = f.owner_id AND j.kind = \(Pipeline.reclusterFaces) AND j.state = 'succeeded'), '-infinity')
                  AND NOT EXISTS (
                    SELECT 1 FROM jobs j WHERE j.owner_id = f.owner_id AND j.kind = \(Pipeline.reclusterFaces)
                      AND j.created_at > now() - interval '20 hours')
                """) { try $0.decode(UUID.self) }
            for owner in owners {
                try await JobQueue.enqueue(Pipeline.reclusterFaces, imageID: nil, ownerID: owner, in: transaction)
            }
        }
    }
}
