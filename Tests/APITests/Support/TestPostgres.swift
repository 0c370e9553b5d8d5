import Foundation
import Logging
import PostgresNIO
import Synchronization
@testable import API

/// The one real PostgreSQL of a test run: the same embedded server `photovault-api` uses,
/// started on first use in a temporary folder and stopped when the test process exits.
/// Each test gets a fresh database cloned from a migrated template.
actor TestPostgres {
    static let shared = TestPostgres()

    /// The repository root, found from this file's path.
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let logger: Logger = {
        var logger = Logger(label: "photovault-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["PHOTOVAULT_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// How long a test's query waits for a connection: generous, since a whole suite runs at
    /// once on two cores (the outage tests set their own).
    static let connectionWait: Duration = .seconds(60)

    private var startup: Task<EmbeddedPostgres, any Error>?
    /// The last database creation; the next one waits for it, since PostgreSQL refuses to
    /// copy a template that another CREATE DATABASE is copying.
    private var lastCreation: Task<Void, any Error>?
    private var counter = 0
    fileprivate static let running = Mutex<EmbeddedPostgres?>(nil)

    /// Starts the server and the migrated template database, once.
    private func start() async throws -> EmbeddedPostgres {
        if let startup { return try await startup.value }
        let task = Task { try await Self.startServer() }
        startup = task
        return try await task.value
    }

    private static func startServer() async throws -> EmbeddedPostgres {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-tests-\(getpid())")
        let bin = try EmbeddedPostgres.locateBinaries(explicit: nil, projectRoot: projectRoot)
        var server = EmbeddedPostgres(binFolder: bin, folder: folder.appendingPathComponent("postgres"), logger: logger)
        // Every test runs its own API (pool, listeners, workers) at once, on two cores.
        server.settings = ["max_connections": "500"]
        try server.start()
        running.withLock { $0 = server }
        atexit {
            if let server = TestPostgres.running.withLock({ $0 }) {
                try? server.stop()
                try? FileManager.default.removeItem(at: server.folder.deletingLastPathComponent())
            }
        }
        try await server.createDatabaseIfMissing("template_photovault", logger: logger)
        _ = try await Self.withDatabase(server.configuration(database: "template_photovault")) { database in
            try await Migrator(database: database, logger: logger).migrate()
            // Places are loaded once into the template, so every test database has them at no cost.
            if let file = PlaceDirectory.locateFile(explicit: nil, projectRoot: projectRoot) {
                try await PlaceDirectory(database: database, logger: logger).loadIfNeeded(file: file)
            }
        }
        return server
    }

    /// A new, migrated, empty database and how to reach it.
    func freshDatabase() async throws -> PostgresClient.Configuration {
        let server = try await start()
        counter += 1
        let name = "test_\(counter)_\(UUID().uuidString.prefix(8).lowercased())"
        let previous = lastCreation
        let admin = try await adminDatabase(server)
        let creation = Task {
            _ = try? await previous?.value
            try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE template_photovault"))
        }
        lastCreation = creation
        try await creation.value
        return server.configuration(database: name)
    }

    private var admin: Database?

    /// One pool on the `postgres` database for the whole run, which creates the test databases.
    /// (A pool started and stopped per creation is slower, and stopping pools while dozens of
    /// tests start at once is one more thing that can stall.)
    private func adminDatabase(_ server: EmbeddedPostgres) async throws -> Database {
        if let admin { return admin }
        let database = Database(configuration: server.configuration(database: "postgres"), logger: Self.logger, connectionWait: Self.connectionWait)
        Task.detached { await database.client.run() }
        admin = database
        return database
    }

    /// Runs `body` with a connected pool that is closed afterwards.
    static func withDatabase<T: Sendable>(
        _ configuration: PostgresClient.Configuration, _ body: (Database) async throws -> T
    ) async throws -> T {
        let database = Database(configuration: configuration, logger: logger, connectionWait: connectionWait)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            await database.client.start(in: &group)
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
