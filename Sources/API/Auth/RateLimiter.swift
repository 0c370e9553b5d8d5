import Foundation
import PostgresNIO

/// Fixed-window attempt counters kept in PostgreSQL, so every API replica counts together.
public struct RateLimiter: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Counts one attempt under `key`; throws `AuthError.rateLimited` when the window is full.
    ///
    /// - Parameter what: the attempts named in the refusal, e.g. "sign-in attempts for this account".
    public func hit(_ key: String, limit: RateLimit, what: String) async throws {
        let windowSeconds = Double(limit.window.components.seconds)
        let outcome = try await database.row("""
            INSERT INTO rate_limits AS r (key, window_start, hits) VALUES (\(key), now(), 1)
            ON CONFLICT (key) DO UPDATE SET
                hits = CASE WHEN r.window_start <= now() - make_interval(secs => \(windowSeconds)) THEN 1 ELSE r.hits + 1 END,
                window_start = CASE WHEN r.window_start <= now() - make_interval(secs => \(windowSeconds)) THEN now() ELSE r.window_start END
            RETURNING hits, EXTRACT(EPOCH FROM (window_start + make_interval(secs => \(windowSeconds)) - now()))::float8
            """) { row in try row.decode((Int, Double).self) }
        guard let (hits, remaining) = outcome else { return }
        if hits > limit.limit {
            throw AuthError.rateLimited(what: what, retryAfterSeconds: max(1, Int(remaining.rounded(.up))))
        }
    }

    /// Refuses as ``hit(_:limit:what:)`` would once the window under `key` is full, without
    /// counting an attempt: for limits that count only failures (wrong passwords), checked
    /// before each try so that a full window stops the right guess too.
    public func check(_ key: String, limit: RateLimit, what: String) async throws {
        let windowSeconds = Double(limit.window.components.seconds)
        let outcome = try await database.row("""
            SELECT hits, EXTRACT(EPOCH FROM (window_start + make_interval(secs => \(windowSeconds)) - now()))::float8
            FROM rate_limits WHERE key = \(key) AND window_start > now() - make_interval(secs => \(windowSeconds))
            """) { row in try row.decode((Int, Double).self) }
        guard let (hits, remaining) = outcome, hits >= limit.limit else { return }
        throw AuthError.rateLimited(what: what, retryAfterSeconds: max(1, Int(remaining.rounded(.up))))
    }

    /// Forgets counters whose window ended long ago.
    public func collectGarbage() async throws {
        try await database.execute("DELETE FROM rate_limits WHERE window_start < now() - interval '2 days'")
    }
}
