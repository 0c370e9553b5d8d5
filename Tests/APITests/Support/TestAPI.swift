import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCServices
import Logging
import Media
import PhotoVaultProto
import PostgresNIO
@testable import API

typealias Transport = HTTP2ClientTransport.Posix

/// A running photovault-api (the real services on a real port over a fresh database)
/// and a real gRPC client talking to it.
struct TestAPI: Sendable {
    let database: Database
    /// How to reach the test's database, for a second pool (a second replica).
    let databaseConfiguration: PostgresClient.Configuration
    let services: APIServices
    let client: GRPCClient<Transport>
    let port: Int
    /// The replica's data folder: master-key file, blobs, staging area.
    let dataFolder: URL

    var auth: Photovault_V1_AuthService.Client<Transport> { .init(wrapping: client) }
    var admin: Photovault_V1_AdminService.Client<Transport> { .init(wrapping: client) }
    var images: Photovault_V1_ImageService.Client<Transport> { .init(wrapping: client) }
    var health: Grpc_Health_V1_Health.Client<Transport> { .init(wrapping: client) }

    /// Signing keys for tests: one current key and an old one still accepted.
    static let signingKeys = try! SigningKeys.parse(pairs: "current:" + Data(repeating: 7, count: 32).base64EncodedString()
        + ",previous:" + Data(repeating: 9, count: 32).base64EncodedString())

    /// A configuration with the shipped defaults, but limits high enough not to trip by accident.
    static func defaultConfig() -> APIConfig {
        var config = APIConfig()
        config.limits.loginPerAccount = RateLimit(1000, per: .seconds(900))
        config.limits.loginPerPeer = RateLimit(1000, per: .seconds(900))
        config.limits.registerPerPeer = RateLimit(1000, per: .seconds(900))
        config.limits.registerPerAccount = RateLimit(1000, per: .seconds(900))
        config.limits.resetPerAccount = RateLimit(1000, per: .seconds(900))
        config.limits.resetPerPeer = RateLimit(1000, per: .seconds(900))
        // Analysis is off unless a test serves inference itself (see InferenceFixture).
        config.inference.addresses = []
        return config
    }

    /// Bearer metadata for a token.
    static func bearer(_ token: String) -> Metadata {
        ["authorization": "Bearer \(token)"]
    }

    /// Registers an account and returns its sign-in.
    @discardableResult
    func register(_ email: String, password: String = "a long passphrase 42", name: String = "Test User") async throws -> Photovault_V1_AuthResponse {
        try await auth.register(.with {
            $0.email = email
            $0.password = password
            $0.name = name
        })
    }

    func login(_ email: String, password: String = "a long passphrase 42") async throws -> Photovault_V1_AuthResponse {
        try await auth.login(.with {
            $0.email = email
            $0.password = password
        })
    }

    func me(_ token: String) async throws -> Photovault_V1_User {
        try await auth.me(.init(), metadata: Self.bearer(token)).user
    }
}

/// Runs `body` against a fresh API; tears everything down afterwards.
func withTestAPI(
    configure: (inout APIConfig) -> Void = { _ in },
    mailer: (any Mailer)? = nil,
    _ body: (TestAPI) async throws -> Void
) async throws {
    var config = TestAPI.defaultConfig()
    configure(&config)
    let configuration = try await TestPostgres.shared.freshDatabase()
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-test-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: folder) }
    try await withAPIServer(databaseConfiguration: configuration, config: config, mailer: mailer, dataFolder: folder, body)
}

/// A second API replica on the same database as `api`, as another host would run it.
func withReplica(of api: TestAPI, configure: (inout APIConfig) -> Void = { _ in }, _ body: (TestAPI) async throws -> Void) async throws {
    var config = TestAPI.defaultConfig()
    configure(&config)
    try await withAPIServer(
        databaseConfiguration: api.databaseConfiguration, config: config, mailer: nil, dataFolder: api.dataFolder, body)
}

/// Serves the real services over `databaseConfiguration` on a free port, with a client.
private func withAPIServer(
    databaseConfiguration configuration: PostgresClient.Configuration, config: APIConfig, mailer: (any Mailer)?,
    dataFolder: URL, _ body: (TestAPI) async throws -> Void
) async throws {
    let logger = TestPostgres.logger
    try Media.initialize()
    let database = Database(configuration: configuration, logger: logger, connectionWait: TestPostgres.connectionWait)
    var config = config
    config.dataFolder = dataFolder
    let masterKeys = try MasterKeys.load(pairs: config.masterKeys, file: config.effectiveMasterKeyFile).keys
    let staging = try StagingArea(parent: dataFolder.appendingPathComponent("tmp"), logger: logger)
    defer { staging.removeAll() }
    let (blobStore, s3Store) = try makeBlobStore(config: config, logger: logger)
    do {
        try await serve(
            databaseConfiguration: configuration, config: config, database: database, masterKeys: masterKeys, staging: staging,
            blobStore: blobStore, mailer: mailer, dataFolder: dataFolder, body)
    } catch {
        try? await s3Store?.shutdown()
        throw error
    }
    try? await s3Store?.shutdown()
}

private func serve(
    databaseConfiguration configuration: PostgresClient.Configuration, config: APIConfig, database: Database,
    masterKeys: MasterKeys, staging: StagingArea, blobStore: any BlobStore, mailer: (any Mailer)?, dataFolder: URL,
    _ body: (TestAPI) async throws -> Void
) async throws {
    let logger = TestPostgres.logger
    // The pool outlives everything that uses it: background services and the server stop
    // (and are awaited) in the inner group before the pool is cancelled in the outer one.
    try await withThrowingTaskGroup(of: Void.self) { outer in
        await database.client.start(in: &outer)
        defer { outer.cancelAll() }
        let services = try await APIServices(
            database: database, config: config, signingKeys: TestAPI.signingKeys,
            mailer: mailer ?? UnconfiguredMailer(logger: logger), masterKeys: masterKeys, blobStore: blobStore,
            staging: staging, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services.backgroundServices(database: database) + [services.hub] {
                group.addTask { try await service.run() }
            }
            let server = try services.makeServer(host: "127.0.0.1", port: 0)
            group.addTask { try await server.serve() }
            defer {
                server.beginGracefulShutdown()
                group.cancelAll()
            }
            guard let port = try await server.listeningAddress?.ipv4?.port else {
                throw APIError.unavailable("test server did not listen")
            }
            try await withGRPCClient(
                transport: try .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                try await body(TestAPI(
                    database: database, databaseConfiguration: configuration, services: services, client: client, port: port,
                    dataFolder: dataFolder))
            }
        }
    }
}

/// Runs `call` and returns the RPCError it throws; fails the test when it succeeds or throws something else.
func rpcError(_ call: () async throws -> some Any) async -> RPCError? {
    do {
        _ = try await call()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
    }
}
