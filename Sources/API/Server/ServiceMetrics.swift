import CoreMetrics
import Foundation
import Logging

/// Gauges read from the database at scrape time: the job queue's depth and the age of its
/// oldest waiting job by kind, and the bytes stored. (RPC and job latencies are recorded as
/// they happen.)
public struct ServiceMetrics: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Reads the current figures into their gauges; a database outage leaves the last values.
    public func refresh() async {
        do {
            let queue = try await database.rows("""
                SELECT kind, state, count(*)::bigint, coalesce(extract(epoch FROM now() - min(run_after)), 0)::float8
                FROM jobs WHERE state IN ('queued', 'running', 'failed', 'dead') GROUP BY kind, state
                """) { try $0.decode((String, String, Int64, Double).self) }
            var seen = Set<String>()
            for (kind, state, count, oldest) in queue {
                seen.insert("\(kind)|\(state)")
                Gauge(label: "photovault_jobs", dimensions: [("kind", kind), ("state", state)]).record(count)
                if state == "queued" { Gauge(label: "photovault_jobs_oldest_queued_seconds", dimensions: [("kind", kind)]).record(max(0, oldest)) }
            }
            // Kinds that emptied read 0 rather than their last count.
            for kind in Self.knownKinds.union(queue.map(\.0)) {
                for state in ["queued", "running", "failed", "dead"] where !seen.contains("\(kind)|\(state)") {
                    Gauge(label: "photovault_jobs", dimensions: [("kind", kind), ("state", state)]).record(0)
                }
                if !seen.contains("\(kind)|queued") {
                    Gauge(label: "photovault_jobs_oldest_queued_seconds", dimensions: [("kind", kind)]).record(0)
                }
            }
            if let (originals, derivatives, images) = try await database.row("""
                SELECT coalesce(sum(byte_size), 0)::bigint, coalesce(sum(coalesce(preview_size, 0) + coalesce(thumbnail_size, 0)), 0)::bigint,
                    count(*)::bigint
                FROM images
                """, { try $0.decode((Int64, Int64, Int64).self) }) {
                Gauge(label: "photovault_stored_bytes", dimensions: [("kind", "original")]).record(originals)
                Gauge(label: "photovault_stored_bytes", dimensions: [("kind", "derivative")]).record(derivatives)
                Gauge(label: "photovault_images", dimensions: []).record(images)
            }
        } catch {
            logger.warning("could not read metrics from the database", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    static let knownKinds: Set<String> = [Pipeline.derivatives, Pipeline.purge]
}
