import Foundation
import GRPCServices
import Logging
import Media
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// photovault-api from configuration to shutdown: database, migrations, keys, server.
public enum APIApplication {
    /// Serves until SIGTERM or SIGINT, then finishes calls in flight, closes the pool and
    /// stops the embedded PostgreSQL if this process started it.
    public static func serve(config: APIConfig, logger: Logger) async throws {
        try await withDatabase(config: config, logger: logger) { database in
            try await Migrator(database: database, logger: logger).migrate()
            let (keys, created) = try SigningKeys.loadOrCreate(file: config.effectiveJWTKeysFile)
            if config.jwtKeys == nil, created {
                logger.notice("created a token signing key", metadata: ["file": "\(config.effectiveJWTKeysFile.path)"])
            }
            let signingKeys = try config.jwtKeys.map(SigningKeys.parse(pairs:)) ?? keys
            let mailer: any Mailer = config.smtp.map { SMTPMailer(settings: $0) } ?? UnconfiguredMailer(logger: logger)
            if config.smtp == nil {
                logger.warning("PHOTOVAULT_SMTP_URL is not set: password-reset e-mails cannot be sent")
            }
            try Media.initialize()
            let masterKeys = try loadMasterKeys(config: config, logger: logger)
            let staging = try StagingArea(parent: config.dataFolder.appendingPathComponent("tmp"), logger: logger)
            defer { staging.removeAll() }
            let (blobStore, s3Store) = try makeBlobStore(config: config, logger: logger)
            let services = try await APIServices(
                database: database, config: config, signingKeys: signingKeys, mailer: mailer,
                masterKeys: masterKeys, blobStore: blobStore, staging: staging, logger: logger)
            let server = GRPCServerService(
                server: try services.makeServer(host: config.host, port: config.port), health: services.health,
                name: "photovault-api", logger: logger)
            let registry = PrometheusCollectorRegistry()
            MetricsEndpoint.bootstrap(registry)
            let sampler = ServiceMetrics(database: database, logger: logger)
            let metrics = MetricsEndpoint(
                registry: registry, host: config.metricsHost, port: config.metricsPort, logger: logger, refresh: { await sampler.refresh() })
            let group = ServiceGroup(
                configuration: .init(
                    // Shutdown runs in reverse: the hub ends watch streams, then the server drains, then the rest.
                    services: services.backgroundServices(database: database).map { .init(service: $0) }
                        + [.init(service: metrics), .init(service: server), .init(service: services.hub)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            do {
                try await group.run()
            } catch {
                try? await s3Store?.shutdown()
                throw error
            }
            // The HTTP client must be shut down before it is released.
            try? await s3Store?.shutdown()
        }
    }

    /// Re-wraps every data key under the newest master key, adding a version to the key file
    /// first when the keys come from a file.
    public static func rotateKeys(config: APIConfig, logger: Logger) async throws {
        try await withDatabase(config: config, logger: logger) { database in
            try await Migrator(database: database, logger: logger).migrate()
            let masterKeys = try loadMasterKeys(config: config, logger: logger)
            if case .file = masterKeys.origin { try masterKeys.addVersion() }
            let count = try await DataKeys(database: database, master: masterKeys).rewrapAll(logger: logger)
            logger.notice(
                "master key rotated; back up the key file again",
                metadata: ["master_version": "\(masterKeys.currentVersion)", "rewrapped": "\(count)"])
        }
    }

    /// The master keys, creating the default key file on first start (and saying so loudly).
    static func loadMasterKeys(config: APIConfig, logger: Logger) throws -> MasterKeys {
        let (keys, created) = try MasterKeys.load(pairs: config.masterKeys, file: config.effectiveMasterKeyFile)
        if created {
            logger.critical(
                "created a new master key file; BACK IT UP NOW, apart from the database and the blobs: without it no photo stored by this server can ever be read again",
                metadata: ["file": "\(config.effectiveMasterKeyFile.path)"])
        }
        return keys
    }

    /// Applies pending migrations and returns.
    public static func migrate(config: APIConfig, logger: Logger) async throws {
        try await withDatabase(config: config, logger: logger) { database in
            let applied = try await Migrator(database: database, logger: logger).migrate()
            logger.notice("migrations done", metadata: ["applied": "\(applied)"])
        }
    }

    /// Runs `body` with a connected pool: the configured server, or the embedded one,
    /// started (or reused) first and stopped afterwards if this call started it.
    static func withDatabase(config: APIConfig, logger: Logger, _ body: (Database) async throws -> Void) async throws {
        var embedded: EmbeddedPostgres?
        var startedHere = false
        let configuration: PostgresClient.Configuration
        if let url = config.databaseURL {
            configuration = try DatabaseURL.configuration(from: url)
        } else {
            let bin = try EmbeddedPostgres.locateBinaries(
                explicit: config.postgresBinFolder, projectRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            let server = EmbeddedPostgres(
                binFolder: bin, folder: config.dataFolder.appendingPathComponent("postgres"),
                serviceAccount: config.postgresAccount, logger: logger)
            startedHere = try server.start()
            embedded = server
            try await server.createDatabaseIfMissing("photovault", logger: logger)
            configuration = server.configuration(database: "photovault")
        }
        defer {
            if startedHere, let embedded {
                do { try embedded.stop() } catch { logger.error("could not stop the embedded PostgreSQL", metadata: ["error": "\(error)"]) }
            }
        }
        let database = Database(configuration: configuration, logger: logger, connectionWait: config.databaseWait)
        try await withThrowingTaskGroup(of: Void.self) { group in
            await database.client.start(in: &group)
            do {
                try await database.waitUntilReachable()
                try await body(database)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

extension Database {
    /// Fails with UNAVAILABLE-worthy words if the server cannot be reached within `attempts` tries.
    func waitUntilReachable(attempts: Int = 20) async throws {
        var lastError: (any Error)?
        for attempt in 1...attempts {
            do {
                try await execute("SELECT 1")
                return
            } catch {
                lastError = error
                logger.warning("database not reachable yet", metadata: ["attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                try await Task.sleep(for: .milliseconds(250 * min(attempt, 8)))
            }
        }
        throw EmbeddedPostgres.Failure(description: "Cannot reach PostgreSQL: \(lastError.map { String(reflecting: $0) } ?? "no answer").")
    }
}

extension EmbeddedPostgres {
    /// Creates a database on the running embedded server unless it exists.
    public func createDatabaseIfMissing(_ name: String, logger: Logger) async throws {
        let client = PostgresClient(configuration: configuration(database: "postgres"), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            await client.start(in: &group)
            defer { group.cancelAll() }
            let exists = try await client.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger)
                .collect().count > 0
            if !exists {
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name.replacingOccurrences(of: "\"", with: ""))\""), logger: logger)
            }
        }
    }
}
