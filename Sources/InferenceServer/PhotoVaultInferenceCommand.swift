import ArgumentParser
import Foundation
import GRPCServices
import Inference
import Logging
import ServiceLifecycle

/// `photovault-inference`: the model-serving service (health and reflection today; models arrive with issue #4).
@main
struct PhotoVaultInferenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photovault-inference", abstract: "The PhotoVault inference server.")

    @Option(help: "Address to listen on (PHOTOVAULT_INFERENCE_HOST, default 127.0.0.1).")
    var host = ProcessInfo.processInfo.environment["PHOTOVAULT_INFERENCE_HOST"] ?? "127.0.0.1"
    @Option(help: "Port to listen on (PHOTOVAULT_INFERENCE_PORT, default 50052).")
    var port = Int(ProcessInfo.processInfo.environment["PHOTOVAULT_INFERENCE_PORT"] ?? "") ?? 50052

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "photovault-inference")
        let health = HealthStatusBoard()
        let server = GRPCServerService.make(
            host: host, port: port, services: [InferenceServiceHandler()],
            servedNames: ["photovault.inference.v1.InferenceService"], health: health,
            descriptors: try DescriptorIndex.photoVault(), logger: logger, maximumMessageBytes: 64 * 1024 * 1024)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: GRPCServerService(server: server, health: health, name: "photovault-inference", logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
