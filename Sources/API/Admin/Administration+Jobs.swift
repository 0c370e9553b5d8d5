import Foundation
import Logging
import PostgresNIO

/// A job as admins see it.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var state: JobState
    public var imageID: UUID?
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String
    public var createdAt: Date
    public var updatedAt: Date
    public var runAfter: Date

    static let columns = "id, kind, state, image_id, attempts, max_attempts, last_error, created_at, updated_at, run_after"

    init(row: PostgresRow) throws {
        let (id, kind, state, image, attempts, maximum, error, created, updated, runAfter) =
            try row.decode((Int64, String, String, UUID?, Int32, Int32, String, Date, Date, Date).self)
        self.id = id
        self.kind = kind
        self.state = JobState(rawValue: state) ?? .queued
        self.imageID = image
        self.attempts = Int(attempts)
        self.maxAttempts = Int(maximum)
        self.lastError = error
        self.createdAt = created
        self.updatedAt = updated
        self.runAfter = runAfter
    }
}

extension Administration {
    /// A page of jobs, newest first, optionally of one state and kind.
    public func listJobs(pageSize: Int32, pageToken: String, state: JobState?, kind: String) async throws -> ([JobRecord], String) {
        let size = try PageToken.pageSize(pageSize)
        guard kind.count <= 64 else { throw APIError.invalid("kind", "is longer than 64 characters") }
        let scope = "jobs:\(state?.rawValue ?? ""):\(kind)"
        var before: Int64?
        if let values = try PageToken.decode(pageToken, scope: scope, count: 1) {
            guard let id = Int64(values[0]) else { throw APIError.invalid("page_token", "is not a token this server issued") }
            before = id
        }
        var sql = SQLBuilder("SELECT \(JobRecord.columns) FROM jobs WHERE true")
        if let state { sql.append(" AND state = \(try sql.bind(state.rawValue))") }
        if !kind.isEmpty { sql.append(" AND kind = \(try sql.bind(kind))") }
        if let before { sql.append(" AND id < \(try sql.bind(before))") }
        sql.append(" ORDER BY id DESC LIMIT \(try sql.bind(Int32(size + 1)))")
        let rows = try await database.rows(sql.query, JobRecord.init(row:))
        let next = rows.count > size ? PageToken.encode(scope: scope, values: [String(rows[size - 1].id)]) : ""
        return (Array(rows.prefix(size)), next)
    }

    /// Gives a failed or dead job a fresh set of attempts, now. FAILED_PRECONDITION for a job
    /// that is queued, running or done.
    public func retryJob(id rawID: String) async throws -> JobRecord {
        guard let id = Int64(rawID), id > 0 else { throw APIError.invalid("job_id", "must be a job id from ListJobs") }
        return try await database.transaction { transaction in
            guard
                let current = try await transaction.row(
                    "SELECT \(unescaped: JobRecord.columns) FROM jobs WHERE id = \(id) FOR UPDATE", JobRecord.init(row:))
            else { throw APIError.notFound("Job \(id)") }
            guard current.state == .dead || current.state == .failed else {
                throw APIError.failedPrecondition("Job \(id) is \(current.state.rawValue); only failed or dead jobs can be retried.")
            }
            let updated = try await transaction.row("""
                UPDATE jobs SET state = 'queued', attempts = 0, run_after = now(), last_error = '', updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: JobRecord.columns)
                """, JobRecord.init(row:))
            try await transaction.execute("SELECT pg_notify(\(JobQueue.wakeChannel), \(current.kind))")
            if let image = current.imageID, let stage = Pipeline.stage(of: current.kind) {
                try await ImageStages.set(image, stage: stage, state: "pending", error: "", in: transaction)
            }
            guard let updated else { throw APIError.notFound("Job \(id)") }
            return updated
        }
    }

    /// Makes a new master key version (key file only) and re-wraps every data key under it.
    public func rotateMasterKey() async throws -> (version: Int, rewrapped: Int64) {
        guard let keys = dataKeys else { throw APIError.failedPrecondition("This server has no data keys to re-wrap.") }
        do {
            let version = try keys.master.addVersion()
            logger.notice("new master key version; back up the key file again", metadata: ["master_version": "\(version)"])
            return (version, try await keys.rewrapAll(logger: logger))
        } catch let error as MasterKeyError {
            throw APIError.failedPrecondition(error.description)
        }
    }
}
