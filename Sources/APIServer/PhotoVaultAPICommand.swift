import API
import ArgumentParser
import Foundation
import Logging

/// `photovault-api`: the PhotoVault front service.
@main
struct PhotoVaultAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photovault-api",
        abstract: "The PhotoVault API server.",
        discussion: "Settings come from PHOTOVAULT_* variables; a flag wins over its variable. See README.md.",
        subcommands: [Serve.self, Migrate.self, Keys.self],
        defaultSubcommand: Serve.self)
}

/// Flags shared by the subcommands, mapped onto the variable names they override.
struct CommonOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (PHOTOVAULT_DATABASE_URL); unset runs the embedded server.")
    var databaseURL: String?
    @Option(help: "Folder for the embedded database and generated keys (PHOTOVAULT_DATA_DIR, default ./var).")
    var dataDir: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (PHOTOVAULT_LOG_LEVEL).")
    var logLevel: String?

    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["PHOTOVAULT_DATABASE_URL"] = databaseURL
        values["PHOTOVAULT_DATA_DIR"] = dataDir
        values["PHOTOVAULT_LOG_LEVEL"] = logLevel
        return values
    }

    /// Loads and validates the configuration; on bad values prints every problem and exits 2.
    func load(extra: [String: String] = [:]) -> (APIConfig, Logger) {
        do {
            let config = try APIConfig.load(
                environment: ProcessInfo.processInfo.environment, overrides: overrides.merging(extra) { $1 })
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = config.logLevel
                return handler
            }
            return (config, Logger(label: "photovault-api"))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// `photovault-api serve`: runs the server until SIGTERM/SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API (the default).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on (PHOTOVAULT_HOST, default 127.0.0.1).")
    var host: String?
    @Option(help: "Port to listen on (PHOTOVAULT_PORT, default 50051).")
    var port: String?

    func run() async throws {
        var extra: [String: String] = [:]
        extra["PHOTOVAULT_HOST"] = host
        extra["PHOTOVAULT_PORT"] = port
        let (config, logger) = common.load(extra: extra)
        do {
            try await APIApplication.serve(config: config, logger: logger)
        } catch {
            logger.critical("photovault-api stopped", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

/// `photovault-api migrate`: applies pending migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (config, logger) = common.load()
        do {
            try await APIApplication.migrate(config: config, logger: logger)
        } catch {
            logger.critical("migration failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

/// `photovault-api keys …`: master-key maintenance.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the master keys that wrap every user's data key.", subcommands: [Rotate.self])

    /// `photovault-api keys rotate`: a new master key version, every data key re-wrapped.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap every data key under a new master key version.",
            discussion: """
                With a key file (PHOTOVAULT_MASTER_KEY_FILE or <data>/master-keys) a new version is appended to it first. \
                With PHOTOVAULT_MASTER_KEYS, add the new version there on every replica, then run this. Stored photos are \
                not re-encrypted: only their owners' data keys are re-wrapped. Back up the key file again afterwards.
                """)

        @OptionGroup var common: CommonOptions

        func run() async throws {
            let (config, logger) = common.load()
            do {
                try await APIApplication.rotateKeys(config: config, logger: logger)
            } catch {
                logger.critical("key rotation failed", metadata: ["error": "\(error)"])
                throw ExitCode(1)
            }
        }
    }
}
