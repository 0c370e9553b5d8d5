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
    /// Does the work. Throwing ``JobFailure/permanent(_:)`` gives up at once; anything else
    /// is retried with backoff until the job runs out of attempts.
    func run(_ job: Job) async throws
}

/// How a job failed, when the handler knows better than "try again later".
public enum JobFailure: Error, CustomStringConvertible {
    /// Retrying cannot help (the image cannot be decoded, say): the job goes dead at once.
    case permanent(String)
    /// Worth retrying; the sentence is shown to admins and in the image's stage.
    case transient(String)

    public var description: String {
        switch self {
        case .permanent(let reason), .transient(let reason): reason
        }
    }
}

/// Where a job stands; the same words as the `jobs.state` column.
public enum JobState: String, Sendable, CaseIterable {
    case queued, running, succeeded, failed, dead
}
