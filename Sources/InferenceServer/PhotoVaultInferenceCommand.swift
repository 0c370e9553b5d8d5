import ArgumentParser
import Foundation
import GRPCServices
import Inference
import Logging
import Prometheus
import ServiceLifecycle

/// `photovault-inference`: the model-serving service. Loads the models it finds (see
/// ``InferenceConfig``), reports the others, and serves InferenceService, health and reflection.
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
        let config: InferenceConfig
        do {
            config = try InferenceConfig.fromEnvironment()
        } catch {
            FileHandle.standardError.write(Data("photovault-inference: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsEndpoint.bootstrap(registry)
        let models = ModelRegistry(config: config, logger: logger)
        if let clip = models.clip {
            // The tag vocabulary's ~7,300 prompt embeddings are made in the background now rather
            // than by the first TAGS request (tens of seconds for ViT-B/32 on a CPU).
            Task.detached(priority: .background) {
                let started = ContinuousClock.now
                if (try? await clip.tagger.vocabularyVectors()) != nil {
                    logger.notice("tag vocabulary embedded", metadata: ["seconds": "\((ContinuousClock.now - started).components.seconds)"])
                }
            }
        }
        let health = HealthStatusBoard()
        let server = GRPCServerService.make(
            host: host, port: port, services: [InferenceServiceHandler(models: models)],
            servedNames: ["photovault.inference.v1.InferenceService"], health: health,
            descriptors: try DescriptorIndex.photoVault(), logger: logger, maximumMessageBytes: 64 * 1024 * 1024)
        // Health detail: one entry per model, SERVING when loaded, NOT_SERVING when absent or broken.
        for entry in models.entries {
            health.set("photovault.inference.v1.InferenceService/\(entry.name)", entry.loaded ? .serving : .notServing)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: MetricsEndpoint(registry: registry, host: config.metricsHost, port: config.metricsPort, logger: logger)),
                    .init(service: GRPCServerService(server: server, health: health, name: "photovault-inference", logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        models.stop()
    }
}
