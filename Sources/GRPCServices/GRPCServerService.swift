import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle

/// Runs a gRPC server as a lifecycle `Service`: on SIGTERM/SIGINT it reports NOT_SERVING,
/// stops accepting calls and lets the calls in flight finish.
public struct GRPCServerService: Service {
    public let server: GRPCServer<HTTP2ServerTransport.Posix>
    let health: HealthStatusBoard
    let name: String
    let logger: Logger

    public init(server: GRPCServer<HTTP2ServerTransport.Posix>, health: HealthStatusBoard, name: String, logger: Logger) {
        self.server = server
        self.health = health
        self.name = name
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                if let address = try await server.listeningAddress {
                    logger.notice("\(name) listening", metadata: ["address": "\(address)"])
                }
            }
        } onGracefulShutdown: {
            logger.notice("\(name) shutting down; finishing calls in flight")
            health.setAllNotServing()
            server.beginGracefulShutdown()
        }
    }

    /// A PEM certificate chain and its private key, for serving over TLS.
    public struct TLSFiles: Sendable {
        public let certificateChain: String
        public let privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    /// An HTTP/2 server (TLS when `tls` is given, else plaintext) on `host:port` with the standard services added
    /// (health, both reflection versions), an ``RPCMetricsInterceptor`` and a ``CallContextInterceptor``.
    public static func make(
        host: String, port: Int, services: [any RegistrableRPCService], servedNames: [String],
        health: HealthStatusBoard, descriptors: DescriptorIndex, logger: Logger,
        maximumMessageBytes: Int = 16 * 1024 * 1024,
        tls: TLSFiles? = nil,
        mapError: @escaping CallContextInterceptor.ErrorMapper = { _ in nil }
    ) -> GRPCServer<HTTP2ServerTransport.Posix> {
        let reflection = ReflectionService(
            index: descriptors,
            servedServices: servedNames + [
                "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
            ])
        health.set("", .serving)
        for name in servedNames { health.set(name, .serving) }
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            if let tls {
                .tls(certificateChain: [.file(path: tls.certificateChain, format: .pem)], privateKey: .file(path: tls.privateKey, format: .pem))
            } else {
                .plaintext
            }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port),
            transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = maximumMessageBytes }
        )
        return GRPCServer(
            transport: transport,
            services: services + [HealthService(board: health), reflection, ReflectionAlphaService(reflection)],
            interceptors: [RPCMetricsInterceptor(), CallContextInterceptor(logger: logger, mapError: mapError)]
        )
    }
}
