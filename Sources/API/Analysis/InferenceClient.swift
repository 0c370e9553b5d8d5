import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import PhotoVaultProto
import ServiceLifecycle
import Synchronization

/// The inference servers this replica calls (`PHOTOVAULT_INFERENCE_URLS`): each one is
/// health-checked with ListModels, calls go to the healthy one with the fewest calls in flight,
/// every call has a deadline, and UNAVAILABLE is retried on another server with backoff.
///
/// While no server is healthy the circuit is open: calls fail at once with
/// ``InferenceError/unavailable(_:)`` instead of piling up timeouts, and analysis jobs wait
/// without spending their attempts. The health loop closes the circuit as soon as a server
/// answers again and calls ``onAvailable``.
public final class InferenceClient: Service, Sendable {
    typealias Client = Photovault_Inference_V1_InferenceService.Client<HTTP2ClientTransport.Posix>

    /// One inference server and what the last health check learnt about it.
    struct Endpoint: Sendable {
        let address: InferenceAddress
        let client: GRPCClient<HTTP2ClientTransport.Posix>
    }

    struct EndpointState: Sendable {
        var healthy = false
        var outstanding = 0
        var models: [Photovault_Inference_V1_ModelInfo] = []
        var lastError = "not checked yet"
        var checkedOnce = false
    }

    let endpoints: [Endpoint]
    let settings: InferenceSettings
    let logger: Logger
    private let states: Mutex<[EndpointState]>
    private let availabilityHandlers = Mutex<[@Sendable () async -> Void]>([])
    private let modelHandlers = Mutex<[@Sendable (ServedModels) async -> Void]>([])
    private let lastReportedModels = Mutex<ServedModels?>(nil)

    /// True when at least one inference server is configured.
    public var isConfigured: Bool { !endpoints.isEmpty }

    public init(settings: InferenceSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        self.endpoints = try settings.addresses.map { address in
            Endpoint(
                address: address,
                client: GRPCClient(transport: try .http2NIOPosix(
                    target: .dns(host: address.host, port: address.port), transportSecurity: .plaintext,
                    config: .defaults { $0.connection.maxIdleTime = nil })))
        }
        self.states = Mutex(Array(repeating: EndpointState(), count: settings.addresses.count))
    }

    /// Registers work to do whenever the circuit closes (a server is healthy after none was).
    public func onAvailable(_ handler: @escaping @Sendable () async -> Void) {
        availabilityHandlers.withLock { $0.append(handler) }
    }

    /// Registers work to do whenever the served models change (and once when first seen).
    public func onModelsChanged(_ handler: @escaping @Sendable (ServedModels) async -> Void) {
        modelHandlers.withLock { $0.append(handler) }
    }

    /// The models the healthy servers serve (the first healthy server's list; replicas are
    /// expected to serve the same models). Nil while none is healthy.
    public var servedModels: ServedModels? {
        states.withLock { states in
            states.first(where: \.healthy).map { ServedModels($0.models) }
        }
    }

    /// How many servers passed their last health check.
    public var healthyCount: Int { states.withLock { $0.filter(\.healthy).count } }

    /// The served model that `task` needs, for a call made on a user's behalf: FAILED_PRECONDITION
    /// when no server is configured or none serves such a model, UNAVAILABLE while none is reachable.
    func requireModel(_ model: KeyPath<ServedModels, ServedModels.Model?>, for task: String) throws -> ServedModels.Model {
        guard isConfigured else {
            throw APIError.failedPrecondition("\(task) needs the inference service, and none is configured (PHOTOVAULT_INFERENCE_URLS).")
        }
        guard let models = servedModels else {
            throw APIError.unavailable("No inference server is reachable right now; try again later.")
        }
        guard let served = models[keyPath: model] else {
            throw APIError.failedPrecondition("The inference service serves no model for \(task); see its ListModels.")
        }
        return served
    }

    /// Whether any server passed its last health check.
    public var isAvailable: Bool { states.withLock { $0.contains(where: \.healthy) } }

    // MARK: - Calls

    /// Analyses one encoded image; see `photovault.inference.v1.InferenceService.Analyze`.
    public func analyze(_ request: Photovault_Inference_V1_AnalyzeRequest) async throws(InferenceError)
        -> Photovault_Inference_V1_AnalyzeResponse
    {
        try await call(timeout: settings.analyzeTimeout) { client, options in
            try await client.analyze(request, options: options)
        }
    }

    /// Embeds texts with the sentence model or CLIP's text tower.
    public func embedText(_ texts: [String], kind: Photovault_Inference_V1_TextEmbeddingKind) async throws(InferenceError)
        -> Photovault_Inference_V1_EmbedTextResponse
    {
        let request = Photovault_Inference_V1_EmbedTextRequest.with {
            $0.texts = texts
            $0.kind = kind
        }
        return try await call(timeout: settings.textTimeout) { client, options in
            try await client.embedText(request, options: options)
        }
    }

    /// Runs `body` on the least busy healthy server, moving to another on UNAVAILABLE or
    /// RESOURCE_EXHAUSTED after a backoff, at most `settings.attempts` times.
    private func call<Response: Sendable>(
        timeout: Duration, _ body: @Sendable (Client, CallOptions) async throws -> Response
    ) async throws(InferenceError) -> Response {
        guard isConfigured else { throw .notConfigured }
        var tried: Set<Int> = []
        var lastProblem = ""
        for attempt in 0..<settings.attempts {
            if attempt > 0 {
                let delay = settings.retryBackoff * Int(1 << min(attempt - 1, 6))
                try? await Task.sleep(for: delay)
            }
            guard let index = pick(avoiding: tried) else { break }
            tried.insert(index)
            var options = CallOptions.defaults
            options.timeout = timeout
            options.maxResponseMessageBytes = 64 * 1024 * 1024
            options.maxRequestMessageBytes = 256 * 1024 * 1024
            do {
                let response = try await body(Client(wrapping: endpoints[index].client), options)
                finish(index)
                return response
            } catch let error as RPCError {
                finish(index)
                let address = endpoints[index].address
                switch error.code {
                case .unavailable, .deadlineExceeded, .unknown, .cancelled:
                    // A connection problem or an overloaded server: that server sits out until its
                    // next health check passes.
                    if error.code != .deadlineExceeded { markUnhealthy(index, reason: error.message) }
                    lastProblem = "\(address): \(error.code) \(error.message)"
                case .resourceExhausted:
                    lastProblem = "\(address) is busy: \(error.message)"
                    tried.remove(index)
                default:
                    throw .rejected(code: error.code, message: error.message)
                }
            } catch {
                finish(index)
                markUnhealthy(index, reason: "\(error)")
                lastProblem = "\(endpoints[index].address): \(error)"
            }
        }
        if lastProblem.isEmpty { lastProblem = unavailableSummary() }
        throw .unavailable(lastProblem)
    }

    /// The healthy server with the fewest calls in flight (not in `avoiding`), counting the new call.
    private func pick(avoiding: Set<Int>) -> Int? {
        states.withLock { states in
            let candidates = states.indices.filter { states[$0].healthy && !avoiding.contains($0) }
            guard let best = candidates.min(by: { states[$0].outstanding < states[$1].outstanding }) else { return nil }
            // Among equally idle servers, spread the calls instead of always taking the first.
            let ties = candidates.filter { states[$0].outstanding == states[best].outstanding }
            let chosen = ties.randomElement() ?? best
            states[chosen].outstanding += 1
            return chosen
        }
    }

    private func finish(_ index: Int) {
        states.withLock { $0[index].outstanding -= 1 }
    }

    private func markUnhealthy(_ index: Int, reason: String) {
        let wasHealthy = states.withLock { states in
            defer {
                states[index].healthy = false
                states[index].lastError = reason
            }
            return states[index].healthy
        }
        if wasHealthy {
            logger.warning("inference server failing; sitting it out until it passes a health check",
                           metadata: ["inference": "\(endpoints[index].address)", "error": "\(reason)"])
        }
    }

    private func unavailableSummary() -> String {
        let states = self.states.withLock { $0 }
        let parts = zip(endpoints, states).map { endpoint, state in "\(endpoint.address): \(state.lastError)" }
        return "no inference server is reachable (" + parts.joined(separator: "; ") + ")"
    }

    // MARK: - Running

    public func run() async throws {
        guard isConfigured else {
            try? await gracefulShutdown()
            return
        }
        try await withThrowingDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask { try await endpoint.client.runConnections() }
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        await self.checkHealth()
                        try? await Task.sleep(for: self.settings.healthInterval)
                    }
                }
                for endpoint in self.endpoints { endpoint.client.beginGracefulShutdown() }
            }
        }
    }

    /// Asks every server for its models at once and updates the circuit.
    func checkHealth() async {
        let wasAvailable = isAvailable
        await withTaskGroup(of: Void.self) { group in
            for index in endpoints.indices {
                group.addTask { await self.check(index) }
            }
        }
        if !wasAvailable, isAvailable {
            logger.notice("inference available", metadata: ["models": "\(servedModels.map { "\($0)" } ?? "")"])
            for handler in availabilityHandlers.withLock({ $0 }) { await handler() }
        }
        if let models = servedModels {
            let changed = lastReportedModels.withLock { last in
                defer { last = models }
                return last != models
            }
            if changed {
                for handler in modelHandlers.withLock({ $0 }) { await handler(models) }
            }
        }
    }

    private func check(_ index: Int) async {
        var options = CallOptions.defaults
        options.timeout = settings.healthTimeout
        do {
            let reply = try await Client(wrapping: endpoints[index].client).listModels(.init(), options: options)
            let firstTime = states.withLock { states in
                defer {
                    states[index].healthy = true
                    states[index].models = reply.models
                    states[index].lastError = ""
                    states[index].checkedOnce = true
                }
                return !states[index].healthy
            }
            if firstTime {
                logger.info("inference server healthy", metadata: [
                    "inference": "\(endpoints[index].address)",
                    "models": "\(reply.models.filter(\.loaded).map(\.name).joined(separator: ","))",
                ])
            }
        } catch {
            let reason = (error as? RPCError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            let first = states.withLock { states in
                defer { states[index].checkedOnce = true }
                return !states[index].checkedOnce
            }
            if first {
                logger.warning("inference server not reachable yet; analysis waits for it",
                               metadata: ["inference": "\(endpoints[index].address)", "error": "\(reason)"])
            }
            markUnhealthy(index, reason: reason)
        }
    }
}

/// Why an inference call did not give an answer.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// No inference server is configured: AI analysis is off on this server.
    case notConfigured
    /// Every server is down, unreachable or busy: try again later.
    case unavailable(String)
    /// A server refused the call itself (bad input, say): retrying will not help.
    case rejected(code: RPCError.Code, message: String)

    public var description: String {
        switch self {
        case .notConfigured: "No inference server is configured (PHOTOVAULT_INFERENCE_URLS is empty)."
        case .unavailable(let reason): "The inference service is unavailable: \(reason)."
        case .rejected(let code, let message): "The inference service refused the call (\(code)): \(message)"
        }
    }
}

extension InferenceError {
    /// The status an RPC caller sees: the inference service down is UNAVAILABLE (retry), none
    /// configured is FAILED_PRECONDITION, and input it refused is INVALID_ARGUMENT on `field`.
    func apiError(refusedField field: String, because reason: String) -> APIError {
        switch self {
        case .unavailable: .unavailable(description)
        case .notConfigured: .failedPrecondition(description)
        case .rejected(let code, let message):
            code == .invalidArgument ? .invalid(field, "\(reason): \(message)") : .unavailable(description)
        }
    }
}

/// One inference server's address.
public struct InferenceAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (an optional `http://` or `grpc://` prefix is accepted); nil when malformed.
    public static func parse(_ text: String) -> InferenceAddress? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        for scheme in ["http://", "grpc://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { return nil }
        return InferenceAddress(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}

/// How photovault-api uses the inference service.
public struct InferenceSettings: Sendable {
    /// The servers; empty turns AI analysis off (stages are marked skipped).
    public var addresses: [InferenceAddress] = [InferenceAddress(host: "127.0.0.1", port: 50052)]
    /// Deadline of one Analyze call (captioning on a CPU takes seconds; a queue adds more).
    public var analyzeTimeout: Duration = .seconds(120)
    /// Deadline of one EmbedText call.
    public var textTimeout: Duration = .seconds(15)
    /// How often every server is asked for its models.
    public var healthInterval: Duration = .seconds(2)
    public var healthTimeout: Duration = .seconds(3)
    /// Tries per call, each on another server where there is one.
    public var attempts = 3
    public var retryBackoff: Duration = .milliseconds(200)

    public init() {}
}

/// The models the inference service has loaded, by what the API uses them for.
public struct ServedModels: Sendable, Equatable, CustomStringConvertible {
    /// A served model's name and vector length.
    public struct Model: Sendable, Equatable {
        public var name: String
        public var dim: Int
    }

    /// CLIP: image embeddings, zero-shot tags, text-to-image search.
    public var clip: Model?
    /// The caption model (dim 0).
    public var caption: Model?
    /// The face detector and descriptor.
    public var faces: Model?
    /// The sentence embedding model.
    public var text: Model?

    public init(clip: Model? = nil, caption: Model? = nil, faces: Model? = nil, text: Model? = nil) {
        self.clip = clip
        self.caption = caption
        self.faces = faces
        self.text = text
    }

    init(_ models: [Photovault_Inference_V1_ModelInfo]) {
        for model in models where model.loaded {
            let entry = Model(name: model.name, dim: Int(model.embeddingDim))
            if model.tasks.contains(.imageEmbedding) { clip = entry }
            if model.tasks.contains(.caption) { caption = entry }
            if model.tasks.contains(.faces) { faces = entry }
            if model.tasks.contains(.textEmbedding) && !model.tasks.contains(.imageEmbedding) { text = entry }
        }
    }

    public var description: String {
        [("clip", clip), ("caption", caption), ("faces", faces), ("text", text)]
            .compactMap { label, model in model.map { "\(label)=\($0.name)/\($0.dim)" } }
            .joined(separator: " ")
    }
}
