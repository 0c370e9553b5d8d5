import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Runs the PostgreSQL 16 + pgvector that the `pgserver` wheel ships, on a data folder of ours.
///
/// The server listens on a Unix socket only, in a folder that only its owner can enter, so
/// trust authentication reaches no other local user. PostgreSQL refuses to run as root, so
/// when we are root every command runs as an unprivileged account (`postgres` by default).
public struct EmbeddedPostgres: Sendable {
    /// Where the `pgserver` binaries are (`…/pgserver/pginstall/bin`).
    public let binFolder: URL
    /// The folder that holds `data/`, `run/` (the socket) and `postgres.log`.
    public let folder: URL
    /// The port number in the socket's name (no TCP port is opened).
    public let port: Int
    /// The account the server runs as when we are root.
    public let serviceAccount: String
    let logger: Logger
    /// Extra `-c name=value` server settings (the tests raise `max_connections`).
    public var settings: [String: String] = [:]

    /// The superuser that `initdb` creates, whoever runs it.
    public static let superuser = "photovault"

    /// Failures to find, initialise, start or stop the server, with what to do about them.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(binFolder: URL, folder: URL, port: Int = 5432, serviceAccount: String = "postgres", logger: Logger) {
        self.binFolder = binFolder
        self.folder = folder
        self.port = port
        self.serviceAccount = serviceAccount
        self.logger = logger
    }

    var dataFolder: URL { folder.appendingPathComponent("data") }
    var socketFolder: URL { folder.appendingPathComponent("run") }
    var logFile: URL { folder.appendingPathComponent("postgres.log") }

    /// How to reach the server once it runs.
    public func configuration(database: String = "photovault") -> PostgresClient.Configuration {
        PostgresClient.Configuration(
            unixSocketPath: socketFolder.appendingPathComponent(".s.PGSQL.\(port)").path,
            username: Self.superuser, password: nil, database: database)
    }

    /// Finds the pgserver binaries: an explicit folder, else the project's `.venv`.
    public static func locateBinaries(explicit: String?, projectRoot: URL) throws -> URL {
        let fileManager = FileManager.default
        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            guard fileManager.isExecutableFile(atPath: url.appendingPathComponent("pg_ctl").path) else {
                throw Failure(description: "PHOTOVAULT_PG_BIN=\(explicit) holds no pg_ctl.")
            }
            return url
        }
        let lib = projectRoot.appendingPathComponent(".venv/lib")
        let pythons = (try? fileManager.contentsOfDirectory(atPath: lib.path))?.filter { $0.hasPrefix("python") }.sorted() ?? []
        for python in pythons.reversed() {
            let bin = lib.appendingPathComponent(python).appendingPathComponent("site-packages/pgserver/pginstall/bin")
            if fileManager.isExecutableFile(atPath: bin.appendingPathComponent("pg_ctl").path) { return bin }
        }
        throw Failure(
            description: "No embedded PostgreSQL found under \(lib.path); run `make setup` (pip install pgserver into .venv) or set PHOTOVAULT_DATABASE_URL.")
    }

    /// Initialises the data folder when new, then starts the server unless it already runs.
    ///
    /// - Returns: true when this call started the server (and so should stop it), false when
    ///   it reused one that was already running.
    @discardableResult
    public func start() throws -> Bool {
        try prepareFolders()
        if !FileManager.default.fileExists(atPath: dataFolder.appendingPathComponent("PG_VERSION").path) {
            logger.info("initialising embedded PostgreSQL", metadata: ["folder": "\(dataFolder.path)"])
            try run("initdb", [
                "-D", dataFolder.path, "-U", Self.superuser, "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-instructions",
            ])
        }
        if isRunning() {
            logger.info("reusing the embedded PostgreSQL that already runs", metadata: ["folder": "\(dataFolder.path)"])
            return false
        }
        let options = "-c listen_addresses='' -k \(socketFolder.path) -p \(port) -c unix_socket_permissions=0700"
            + settings.sorted { $0.key < $1.key }.map { " -c \($0.key)=\($0.value)" }.joined()
        do {
            try run("pg_ctl", ["-D", dataFolder.path, "-l", logFile.path, "-o", options, "-w", "-t", "60", "start"])
        } catch where isRunning() {
            // Another replica on this machine started it a moment before us.
            logger.info("reusing the embedded PostgreSQL another process just started")
            return false
        }
        logger.info("embedded PostgreSQL started", metadata: ["socket": "\(socketFolder.path)"])
        return true
    }

    /// Stops the server, letting open transactions end ("fast" mode rolls them back and exits cleanly).
    public func stop() throws {
        guard isRunning() else { return }
        try run("pg_ctl", ["-D", dataFolder.path, "-m", "fast", "-w", "-t", "60", "stop"])
        logger.info("embedded PostgreSQL stopped")
    }

    /// Whether a server runs on our data folder.
    public func isRunning() -> Bool {
        guard FileManager.default.fileExists(atPath: dataFolder.appendingPathComponent("postmaster.pid").path) else { return false }
        return (try? run("pg_ctl", ["-D", dataFolder.path, "status"], quiet: true)) != nil
    }

    /// Creates the folders, owned by the service account when we are root.
    private func prepareFolders() throws {
        let fileManager = FileManager.default
        // Parents stay traversable for the service account; our own folders are private.
        try fileManager.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        for url in [folder, dataFolder, socketFolder] {
            if !fileManager.fileExists(atPath: url.path) {
                try fileManager.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            }
            try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        }
        if getuid() == 0 {
            guard let account = getpwnam(serviceAccount) else {
                throw Failure(description: "PostgreSQL refuses to run as root and there is no '\(serviceAccount)' account to run it as; create one (adduser --system \(serviceAccount)) or set PHOTOVAULT_PG_USER.")
            }
            for path in [folder.path, dataFolder.path, socketFolder.path] {
                guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                    throw Failure(description: "Cannot hand \(path) to the '\(serviceAccount)' account: \(String(cString: strerror(errno))).")
                }
            }
            if fileManager.fileExists(atPath: logFile.path) {
                _ = chown(logFile.path, account.pointee.pw_uid, account.pointee.pw_gid)
            }
        }
    }

    /// Runs one of the server's programs, as the service account when we are root.
    @discardableResult
    private func run(_ program: String, _ arguments: [String], quiet: Bool = false) throws -> String {
        let executable = binFolder.appendingPathComponent(program).path
        let asServiceAccount = getuid() == 0
        let path = asServiceAccount ? "/usr/sbin/runuser" : executable
        let fullArguments = asServiceAccount ? ["-u", serviceAccount, "--", executable] + arguments : arguments
        // Output goes to a file, not a pipe: the server pg_ctl starts would hold a pipe open forever.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("photovault-pg-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        let status = try ChildProcess.run(path, fullArguments, environment: environment, outputFile: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            if !quiet {
                logger.error("embedded PostgreSQL command failed", metadata: ["program": "\(program)", "output": "\(text)"])
            }
            throw Failure(description: "\(program) failed (exit \(status)): \(text.split(separator: "\n").suffix(3).joined(separator: " ")) — see \(logFile.path).")
        }
        return text
    }
}
