import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle

/// The workers inside one photovault-api process: N loops that claim jobs from the shared
/// queue, run them, and sleep until a NOTIFY (or the poll interval) says there may be more.
///
/// On graceful shutdown they stop claiming and let the jobs in hand finish; a job cut off by
/// a crash is picked up again by any replica once its lease expires.
public struct JobWorkers: Service {
    let queue: JobQueue
    let handlers: [String: any JobHandler]
    let count: Int
    let signal: WakeSignal
    let logger: Logger
    /// How long a claimed job is ours without a renewal.
    var lease: Duration = .seconds(60)
    /// How often an idle worker looks anyway (due retries, expired leases, lost NOTIFYs).
    var pollInterval: Duration = .seconds(2)
    /// When a job waiting for a dependency looks again, unless the dependency's return wakes it sooner.
    var waitingDelay: Duration = .seconds(30)

    public init(queue: JobQueue, handlers: [any JobHandler], count: Int, signal: WakeSignal, logger: Logger) {
        self.queue = queue
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.count = count
        self.signal = signal
        self.logger = logger
    }

    public func run() async throws {
        // With no workers this replica only serves calls; it still runs until shutdown, since a
        // service that returns early stops the whole service group.
        guard count > 0 else {
            try? await gracefulShutdown()
            return
        }
        let host = ProcessInfo.processInfo.hostName
        let pid = getpid()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for number in 1...count {
                    group.addTask { await work(as: "\(host):\(pid):\(number)") }
                }
            }
        } onGracefulShutdown: {
            signal.signal()
        }
    }

    private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    private func work(as worker: String) async {
        let kinds = Array(handlers.keys)
        while !stopping {
            let generation = signal.generation
            do {
                if let job = try await queue.claim(kinds: kinds, worker: worker, lease: lease) {
                    await perform(job, as: worker)
                    continue
                }
            } catch {
                logger.warning("could not claim a job; will retry", metadata: ["error": "\(String(reflecting: error))"])
            }
            if stopping { break }
            await signal.wait(after: generation, timeout: pollInterval)
        }
    }

    /// Runs one job while renewing its lease, then records the outcome.
    private func perform(_ job: Job, as worker: String) async {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        if let image = job.imageID { logger[metadataKey: "image_id"] = "\(image)" }
        guard let handler = handlers[job.kind] else { return }
        if job.attempt > job.maxAttempts {
            // Its earlier runs died with their processes, lease after lease.
            try? await queue.fail(job, worker: worker, error: "The worker running it stopped \(job.maxAttempts) times.", permanent: true)
            return
        }
        let started = ContinuousClock.now
        let outcome: Result<JobOutcome, any Error> = await withTaskGroup(of: Result<JobOutcome, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(try await handler.run(job))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: lease / 3)
                    if Task.isCancelled { break }
                    _ = try? await queue.renew(job, worker: worker, lease: lease)
                }
                return nil
            }
            var result: Result<JobOutcome, any Error> = .success(.done)
            if let first = await group.next(), let first { result = first }
            group.cancelAll()
            return result
        }
        let elapsed = ContinuousClock.now - started
        CoreMetrics.Timer(label: "photovault_job_duration_seconds", dimensions: [("kind", job.kind), ("outcome", (try? outcome.get()) == nil ? "failed" : "succeeded")])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        do {
            switch outcome {
            case .success(let result):
                try await queue.succeed(job, worker: worker, outcome: result)
                logger.info("job done", metadata: ["ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)"])
            case .failure(JobFailure.waiting(let reason)):
                try await queue.postpone(job, worker: worker, reason: reason, delay: waitingDelay)
                logger.info("job waits", metadata: ["reason": "\(reason)"])
            case .failure(let error):
                let permanent: Bool
                if case JobFailure.permanent = error { permanent = true } else { permanent = false }
                let sentence = String(describing: error)
                try await queue.fail(job, worker: worker, error: sentence, permanent: permanent)
                logger.warning("job failed", metadata: ["attempt": "\(job.attempt)", "permanent": "\(permanent)", "error": "\(sentence)"])
            }
        } catch {
            // The lease runs out and another worker takes the job again.
            if !(error is CancellationError) {
                logger.error("could not record a job's outcome", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
