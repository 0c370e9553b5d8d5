import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on PostgreSQL NOTIFY channels for the whole process and hands each payload to the
/// channel's handler; reconnects after a lost connection. This is how replicas tell each
/// other about new jobs and image changes.
public struct NotificationListener: Service {
    let database: Database
    let handlers: [String: @Sendable (String) -> Void]
    let logger: Logger
    /// Called once each channel listens after a (re)connection, since notifications sent while
    /// disconnected are lost.
    let onConnect: @Sendable () -> Void

    public init(
        database: Database, handlers: [String: @Sendable (String) -> Void], logger: Logger,
        onConnect: @escaping @Sendable () -> Void = {}
    ) {
        self.database = database
        self.handlers = handlers
        self.logger = logger
        self.onConnect = onConnect
    }

    public func run() async throws {
        // Cancelled on shutdown rather than left to notice it: while the database is down the
        // listener waits for a connection, and that wait must not hold up SIGTERM.
        await cancelWhenGracefulShutdown { await listen() }
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (channel, handler) in handlers {
                            group.addTask {
                                try await connection.listen(on: channel) { notifications in
                                    // LISTEN is in place now: look for what arrived while we were not.
                                    onConnect()
                                    for try await notification in notifications {
                                        handler(notification.payload)
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("notification listener lost its connection; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
