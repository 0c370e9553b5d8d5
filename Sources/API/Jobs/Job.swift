import Foundation

/// One claimed unit of background work, as a worker sees it.
public struct Job: Sendable, Equatable {
    public let id: Int64
    public let kind: String
    /// The image it works on, for per-image jobs.
    public let imageID: UUID?
    public let ownerID: UUID?
    /// This run's number, starting at 1.
    public let attempt: Int
    public let maxAttempts: Int
}

/// Runs the jobs of one kind. Each job kind is one small type.
public protocol JobHandler: Sendable {
    /// The `jobs.kind` value it runs, e.g. "derivatives".
    var kind: String { get }
    /// Does the work and says how it went. Throwing ``JobFailure/permanent(_:)`` gives up at
    /// once, ``JobFailure/waiting(_:)`` puts the job back without spending an attempt; anything
    /// else is retried with backoff until the job runs out of attempts.
    func run(_ job: Job) async throws -> JobOutcome
}

/// How a job that did not fail ended, for the image stage it advances.
public enum JobOutcome: Sendable, Equatable {
    /// The work is done: the stage is done.
    case done
    /// Nothing to do on this server (no model for it, say): the stage is skipped, with why.
    case skipped(String)
}

/// How a job failed, when the handler knows better than "try again later".
public enum JobFailure: Error, CustomStringConvertible {
    /// Retrying cannot help (the image cannot be decoded, say): the job goes dead at once.
    case permanent(String)
    /// Worth retrying; the sentence is shown to admins and in the image's stage.
    case transient(String)
    /// Cannot run now because something it needs is down (every inference server, say): the job
    /// goes back to the queue without spending an attempt and runs again when it returns.
    case waiting(String)

    public var description: String {
        switch self {
        case .permanent(let reason), .transient(let reason), .waiting(let reason): reason
        }
    }
}

/// Where a job stands; the same words as the `jobs.state` column.
public enum JobState: String, Sendable, CaseIterable {
    case queued, running, succeeded, failed, dead
}
