import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Captions images through an OpenAI-compatible chat-completions endpoint with image input.
///
/// Works with OpenAI, Gemini's OpenAI-compatible API and local servers (llama.cpp, ollama, vLLM):
/// the JPEG travels inline as a `data:` URL, so the endpoint needs no access to the library.
public struct VisionChatCaptioner: Sendable {
    /// Where the endpoint is and how to ask it; chosen by the user.
    public struct Settings: Sendable, Equatable {
        /// The prompt used when a request brings none.
        public static let standardPrompt = "Describe this photo in one sentence for a photo library caption."

        /// Base URL up to and including the version, e.g. "https://api.openai.com/v1"; the request goes to "<base>/chat/completions".
        public var baseURL: String
        public var model: String
        /// Sent as "Authorization: Bearer <key>" when set; never logged.
        public var apiKey: String?
        /// How long one caption may take, from connecting to the last byte of the reply.
        public var timeout: Duration
        public var maxTokens: Int
        public var defaultPrompt: String

        /// Settings for `model` at `baseURL`, with the defaults for everything else.
        public init(
            baseURL: String,
            model: String,
            apiKey: String? = nil,
            timeout: Duration = .seconds(60),
            maxTokens: Int = 120,
            defaultPrompt: String = Settings.standardPrompt
        ) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
            self.timeout = timeout
            self.maxTokens = maxTokens
            self.defaultPrompt = defaultPrompt
        }
    }

    /// A reply larger than this is not a caption; the cap keeps a hostile endpoint from filling memory.
    static let maxResponseBytes = 1 << 20
    /// Captions are stored and shown in lists; a model that rambles is cut here.
    static let maxCaptionCharacters = 1_000
    /// How much longer than the client's deadline the whole exchange may take (see `exchange`).
    static let deadlineGrace = Duration.milliseconds(250)
    /// Enough of an endpoint's error message to explain it, not enough to flood a log line.
    static let maxEndpointMessageCharacters = 300

    public let settings: Settings
    private let httpClient: HTTPClient

    /// A captioner that asks the endpoint in `settings` through `httpClient`, which the caller owns and shuts down.
    /// A client with `connectionPool.retryConnectionEstablishment = false` reports an endpoint that is down at once;
    /// one that retries (the default) reports it when `settings.timeout` runs out.
    public init(settings: Settings, httpClient: HTTPClient) {
        self.settings = settings
        self.httpClient = httpClient
    }

    /// Sends the JPEG (as a data: URL) with the prompt (or the default one) and returns the first choice's text, trimmed,
    /// and the model the endpoint says answered (falling back to settings.model).
    public func caption(jpeg: [UInt8], prompt: String?) async throws(VisionChatError) -> (text: String, model: String) {
        let request = try makeRequest(jpeg: jpeg, prompt: prompt)
        let reply = try await exchange(request)
        guard (200..<300).contains(reply.status.code) else {
            throw failure(for: reply)
        }
        guard let body = reply.body else {
            throw malformed("the vision endpoint's reply is larger than \(Self.maxResponseBytes) bytes")
        }
        return try completion(from: body)
    }

    // MARK: Request

    private func makeRequest(jpeg: [UInt8], prompt: String?) throws(VisionChatError) -> HTTPClientRequest {
        let chosenPrompt = prompt.map(trimmed).flatMap { $0.isEmpty ? nil : $0 } ?? settings.defaultPrompt
        let message = ChatRequest.Message(content: [
            .text(chosenPrompt),
            .imageURL("data:image/jpeg;base64," + Data(jpeg).base64EncodedString()),
        ])
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes  // base64 is full of slashes
            body = try encoder.encode(ChatRequest(model: settings.model, maxTokens: settings.maxTokens, messages: [message]))
        } catch {
            throw .refused("the caption request could not be encoded: \(error)")
        }

        var base = trimmed(settings.baseURL)
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + "/chat/completions"
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()),
            parsed.host?.isEmpty == false
        else {
            throw refused("the vision endpoint's base URL '\(settings.baseURL)' is not an http or https URL")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        if let key = settings.apiKey, !key.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    // MARK: Exchange

    /// What came back: the status, and the body unless it was over the limit.
    private struct Reply: Sendable {
        let status: HTTPResponseStatus
        let body: [UInt8]?
    }

    /// Sends the request and reads the whole reply within `settings.timeout`.
    ///
    /// The client's own deadline ends at the response head, so a race with a sleep bounds the
    /// body too: an endpoint that trickles its reply is cut off like one that never answers.
    /// The sleep ends a moment after the deadline so that, when both fire, the client's more
    /// telling error ("Connection refused" after its connection retries) is the one reported.
    private func exchange(_ request: HTTPClientRequest) async throws(VisionChatError) -> Reply {
        let httpClient = httpClient
        let timeout = settings.timeout
        do {
            return try await withThrowingTaskGroup(of: Reply?.self) { group in
                group.addTask {
                    let response = try await httpClient.execute(request, deadline: .now() + TimeAmount(timeout))
                    do {
                        let body = try await response.body.collect(upTo: Self.maxResponseBytes)
                        return Reply(status: response.status, body: Array(body.readableBytesView))
                    } catch is NIOTooManyBytesError {
                        return Reply(status: response.status, body: nil)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout + Self.deadlineGrace)
                    return nil
                }
                defer { group.cancelAll() }
                // The first to finish decides; nil is the timer's.
                guard let reply = try await group.next() ?? nil else {
                    throw HTTPClientError.deadlineExceeded
                }
                return reply
            }
        } catch {
            throw transportFailure(error)
        }
    }

    /// Sorts a failure to get any answer into "the settings are wrong" and "try again later".
    private func transportFailure(_ error: any Error) -> VisionChatError {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
                return refused("the vision endpoint's base URL '\(settings.baseURL)' is not a usable URL (\(clientError.shortDescription))")
            case .redirectLimitReached, .redirectCycleDetected:
                return refused("the vision endpoint redirects without end (\(clientError.shortDescription)); check its base URL")
            case .deadlineExceeded, .connectTimeout, .readTimeout, .getConnectionFromPoolTimeout:
                return unreachable("the vision endpoint did not answer within \(settings.timeout)")
            case .cancelled:
                return unreachable("the caption request was cancelled")
            default:
                break
            }
        }
        if error is CancellationError {
            return unreachable("the caption request was cancelled")
        }
        return unreachable("the vision endpoint could not be reached: \(Self.describeTransport(error))")
    }

    /// A transport error in a few words ("Connection refused"), not NIO's nested description.
    private static func describeTransport(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                describeTransport(first.error)
            } else if error.dnsAError != nil || error.dnsAAAAError != nil {
                "the host name \(error.host) could not be resolved"
            } else {
                "\(error)"
            }
        case let error as HTTPClientError:
            error.shortDescription
        default:
            "\(error)"
        }
    }

    // MARK: Reply

    /// An answer other than success, with the endpoint's own explanation when it gave one.
    private func failure(for reply: Reply) -> VisionChatError {
        var sentence = "the vision endpoint answered \(reply.status.code) \(reply.status.reasonPhrase)"
        if let body = reply.body, let message = Self.endpointMessage(in: body) {
            sentence += ": " + message
        }
        switch reply.status.code {
        case 408, 429, 500...:
            return unreachable(sentence)
        default:
            return refused(sentence)
        }
    }

    /// The caption and the answering model from a successful reply.
    private func completion(from body: [UInt8]) throws(VisionChatError) -> (text: String, model: String) {
        let completion: ChatCompletion
        do {
            completion = try JSONDecoder().decode(ChatCompletion.self, from: Data(body))
        } catch {
            throw malformed("the vision endpoint's reply is not a chat completion (\(Self.describe(error)))")
        }
        guard let content = completion.choices?.first?.message?.content else {
            throw malformed("the vision endpoint's reply has no message in its first choice")
        }
        let caption = Self.cleanCaption(content.text)
        guard !caption.isEmpty else {
            throw malformed("the vision endpoint's reply has an empty caption")
        }
        let model = completion.model.map(trimmed).flatMap { $0.isEmpty ? nil : $0 } ?? settings.model
        return (caption, model)
    }

    /// The caption without the whitespace and the quotes models like to wrap it in, cut to length.
    static func cleanCaption(_ raw: String) -> String {
        let pairs: [(Character, Character)] = [("\"", "\""), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("`", "`")]
        var text = Substring(raw.trimmingCharacters(in: .whitespacesAndNewlines))
        // Only a matching pair is removed, so a caption ending in a quotation keeps its closing mark.
        while text.count >= 2, let first = text.first, let last = text.last,
            pairs.contains(where: { $0.0 == first && $0.1 == last })
        {
            text = Substring(text.dropFirst().dropLast().trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return String(text.prefix(maxCaptionCharacters))
    }

    /// The message in an error body: `{"error":{"message":…}}` (OpenAI, vLLM, llama.cpp),
    /// `{"error":"…"}` (ollama), `{"message":…}`, or Gemini's array around the first shape.
    static func endpointMessage(in body: [UInt8]) -> String? {
        guard var json = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return nil
        }
        if let list = json as? [Any], let first = list.first { json = first }
        guard let object = json as? [String: Any] else { return nil }
        let message = (object["error"] as? [String: Any])?["message"] as? String
            ?? object["error"] as? String
            ?? object["message"] as? String
        guard let message else { return nil }
        let flattened = message.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        guard !flattened.isEmpty else { return nil }
        return flattened.count > maxEndpointMessageCharacters
            ? flattened.prefix(maxEndpointMessageCharacters) + "…" : flattened
    }

    /// A decoding error in a few words, without the coding path's internals.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted: "not valid JSON"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context):
            context.debugDescription
        default: "\(error)"
        }
    }

    // MARK: Errors without the key

    private func unreachable(_ sentence: String) -> VisionChatError { .unreachable(redacted(sentence)) }
    private func refused(_ sentence: String) -> VisionChatError { .refused(redacted(sentence)) }
    private func malformed(_ sentence: String) -> VisionChatError { .malformed(redacted(sentence)) }

    /// Every error sentence passes through here: an endpoint may quote the key it was sent.
    private func redacted(_ sentence: String) -> String {
        guard let key = settings.apiKey, !key.isEmpty else { return sentence }
        return sentence.replacingOccurrences(of: key, with: "[redacted]")
    }

    private func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

// MARK: Wire format

/// The request body of `POST /chat/completions` with one user message: a text part and an image part.
private struct ChatRequest: Encodable {
    struct Message: Encodable {
        var role = "user"
        let content: [Part]
    }

    enum Part: Encodable {
        case text(String)
        case imageURL(String)

        private enum CodingKeys: String, CodingKey { case type, text, imageURL = "image_url" }
        private struct ImageURL: Encodable { let url: String }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .imageURL(let url):
                try container.encode("image_url", forKey: .type)
                try container.encode(ImageURL(url: url), forKey: .imageURL)
            }
        }
    }

    let model: String
    let maxTokens: Int
    let messages: [Message]

    private enum CodingKeys: String, CodingKey { case model, maxTokens = "max_tokens", messages }
}

/// The parts of a chat completion a caption needs; everything else in the reply is ignored.
private struct ChatCompletion: Decodable {
    struct Choice: Decodable {
        let message: Message?
    }

    struct Message: Decodable {
        let content: Content?
    }

    /// `content` is a string for most servers, an array of typed parts for some.
    enum Content: Decodable {
        case string(String)
        case parts([Part])

        struct Part: Decodable {
            let type: String?
            let text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                self = .string(string)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }

        var text: String {
            switch self {
            case .string(let string): string
            case .parts(let parts): parts.filter { ($0.type ?? "text") == "text" }.compactMap(\.text).joined()
            }
        }
    }

    let model: String?
    let choices: [Choice]?
}

extension VisionChatCaptioner {
    /// The HTTP client the server's captioner uses: a refused connection fails at once instead of
    /// being retried until the deadline. It lives as long as the process.
    static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
