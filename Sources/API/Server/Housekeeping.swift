import Logging
import ServiceLifecycle

/// Deletes what has stopped mattering: old rate-limit windows, sessions ended or expired more
/// than a week ago (with their refresh tokens), and reset codes past their expiry. Runs at
/// start-up and then hourly, and queues the purge job; every replica may run it, the statements are idempotent.
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
    }
}
