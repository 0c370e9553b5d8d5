import AsyncHTTPClient
import Foundation
import Testing
@testable import API

/// The captioner against a real HTTP endpoint: the fake in `Tests/Support/fake_vision_chat.py`,
/// which checks every request the way a strict OpenAI-compatible server would.
@Suite struct VisionChatCaptionerTests {
    static let model = "fake-vision-1"
    static let key = "sk-test-5b1c0d4e9f"

    private func captioner(_ fake: FakeVisionChat, key: String? = Self.key, timeout: Duration = .seconds(10)) -> VisionChatCaptioner {
        captioner(baseURL: fake.baseURL, key: key, timeout: timeout)
    }

    private func captioner(baseURL: String, key: String? = Self.key, timeout: Duration = .seconds(10)) -> VisionChatCaptioner {
        VisionChatCaptioner(
            settings: .init(baseURL: baseURL, model: Self.model, apiKey: key, timeout: timeout),
            httpClient: .shared)
    }

    /// A small real JPEG made by libvips' command-line tool.
    private func makeJPEG() throws -> [UInt8] {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-jpeg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("photo.jpg")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["vips", "black", output.path, "64", "48", "--bands", "3"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FakeFailure("vips could not make a JPEG (status \(process.terminationStatus))") }
        return Array(try Data(contentsOf: output))
    }

    /// Runs `body` and returns the error it threw, or nil.
    private func failure(_ body: () async throws(VisionChatError) -> (text: String, model: String)) async -> VisionChatError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Captions

    @Test func photoIsCaptionedWithThePromptModelAndImageTheEndpointReceived() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, servedModel: "fake-vision-1-2025-06-01")
        defer { fake.stopAndClean() }
        let jpeg = try makeJPEG()

        let caption = try await captioner(fake).caption(jpeg: jpeg, prompt: "Who is in this picture?")

        // The fake wraps its text in quotes and whitespace, as models do.
        #expect(caption.text == "A test caption for: Who is in this picture?")
        #expect(caption.model == "fake-vision-1-2025-06-01")
        let received = try fake.receivedRequests()
        #expect(received.count == 1)
        let request = try #require(received.first)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.model == Self.model)
        #expect(request.prompt == "Who is in this picture?")
        #expect(request.imageBytes == jpeg.count)
        #expect(request.authOK == true)
        #expect(request.failedCheck == nil)
    }

    @Test func defaultPromptIsSentWhenNoneIsGiven() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key)
        defer { fake.stopAndClean() }
        let captioner = captioner(fake)
        let jpeg = try makeJPEG()

        let withoutPrompt = try await captioner.caption(jpeg: jpeg, prompt: nil)
        let blankPrompt = try await captioner.caption(jpeg: jpeg, prompt: "  \n")

        let standard = VisionChatCaptioner.Settings.standardPrompt
        #expect(withoutPrompt.text == "A test caption for: \(standard)")
        #expect(blankPrompt.text == "A test caption for: \(standard)")
        #expect(try fake.receivedRequests().map(\.prompt) == [standard, standard])
    }

    @Test func answeringModelFallsBackToTheConfiguredOne() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, servedModel: "")
        defer { fake.stopAndClean() }

        let caption = try await captioner(fake).caption(jpeg: try makeJPEG(), prompt: "What is this?")

        #expect(caption.model == Self.model)
    }

    @Test func contentGivenAsTextPartsIsJoined() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, mode: "parts")
        defer { fake.stopAndClean() }

        let caption = try await captioner(fake).caption(jpeg: try makeJPEG(), prompt: "A beach at dusk?")

        #expect(caption.text == "A test caption for: A beach at dusk?")
    }

    @Test func endpointWithoutKeyIsAskedWithoutAuthorization() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: nil)
        defer { fake.stopAndClean() }

        _ = try await captioner(fake, key: nil).caption(jpeg: try makeJPEG(), prompt: "Local server?")

        #expect(try fake.receivedRequests().map(\.authOK) == [nil])
    }

    // MARK: Failures

    @Test func wrongKeyIsRefusedWithTheEndpointsMessageAndWithoutTheKey() async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key)
        defer { fake.stopAndClean() }
        let wrongKey = "sk-wrong-93e7a1f0"
        let jpeg = try makeJPEG()

        let error = await failure { () async throws(VisionChatError) in
            try await captioner(fake, key: wrongKey).caption(jpeg: jpeg, prompt: nil)
        }

        // The fake quotes the header it got, as careless servers do; the sentence must not.
        guard case .refused(let sentence) = error else {
            Issue.record("expected .refused, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains("401"))
        #expect(sentence.contains("Incorrect API key provided"))
        #expect(!sentence.contains(wrongKey))
        #expect(!sentence.contains(Self.key))
        #expect(try fake.receivedRequests().map(\.authOK) == [false])
    }

    @Test(arguments: ["500", "429"])
    func overloadedEndpointIsUnreachable(status: String) async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, mode: status)
        defer { fake.stopAndClean() }
        let jpeg = try makeJPEG()

        let error = await failure { () async throws(VisionChatError) in
            try await captioner(fake).caption(jpeg: jpeg, prompt: nil)
        }

        guard case .unreachable(let sentence) = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains(status))
        #expect(try fake.receivedRequests().map(\.status) == [Int(status)])
    }

    /// "hang" never sends a response head; "trickle" sends one at once and then its body a byte
    /// at a time, which the client's own deadline alone would let run on.
    @Test(arguments: ["hang", "trickle"])
    func endpointThatAnswersSlowerThanTheTimeoutIsUnreachable(mode: String) async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, mode: mode)
        defer { fake.stopAndClean() }
        let jpeg = try makeJPEG()

        let started = ContinuousClock.now
        let error = await failure { () async throws(VisionChatError) in
            try await captioner(fake, timeout: .seconds(2)).caption(jpeg: jpeg, prompt: nil)
        }
        let elapsed = ContinuousClock.now - started

        guard case .unreachable(let sentence) = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains("did not answer within 2.0 seconds"))
        // Cut off by our deadline, not by the fake finishing its 25-second answer.
        #expect(elapsed >= .seconds(1.5))
    }

    @Test func closedPortIsUnreachable() async throws {
        // A port held without listening: connections are refused, and no other test can take it.
        let closed = try ClosedPort()
        let jpeg = try makeJPEG()

        // The shared client retries connecting until the deadline, then reports why it failed (or,
        // on a loaded machine, only that the deadline passed).
        let error = await failure { () async throws(VisionChatError) in
            try await captioner(baseURL: closed.baseURL, timeout: .seconds(2)).caption(jpeg: jpeg, prompt: nil)
        }

        guard case .unreachable(let sentence) = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains("Connection refused") || sentence.contains("did not answer within 2.0 seconds"))
    }

    @Test func closedPortFailsAtOnceWithAClientThatDoesNotRetryConnecting() async throws {
        let closed = try ClosedPort()
        let jpeg = try makeJPEG()
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let captioner = VisionChatCaptioner(
            settings: .init(baseURL: closed.baseURL, model: Self.model, apiKey: Self.key, timeout: .seconds(30)),
            httpClient: client)

        let error = await failure { () async throws(VisionChatError) in
            try await captioner.caption(jpeg: jpeg, prompt: nil)
        }
        try await client.shutdown()

        guard case .unreachable(let sentence) = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        // The reason, not a timeout: the 30-second deadline never came into play.
        #expect(sentence.contains("Connection refused"))
    }

    @Test(arguments: ["malformed", "empty", "huge"])
    func successWithoutACaptionIsMalformed(mode: String) async throws {
        let fake = try FakeVisionChat(model: Self.model, key: Self.key, mode: mode)
        defer { fake.stopAndClean() }
        let jpeg = try makeJPEG()

        let error = await failure { () async throws(VisionChatError) in
            try await captioner(fake).caption(jpeg: jpeg, prompt: nil)
        }

        guard case .malformed = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: ["ftp://example.com/v1", "not a url", ""])
    func unusableBaseURLIsRefused(baseURL: String) async throws {
        let error = await failure { () async throws(VisionChatError) in
            try await captioner(baseURL: baseURL).caption(jpeg: [0xFF, 0xD8, 0xFF, 0xD9], prompt: nil)
        }

        guard case .refused = error else {
            Issue.record("expected .refused, got \(String(describing: error))")
            return
        }
    }

    // MARK: Reading replies

    @Test func captionLosesSurroundingQuotesAndWhitespaceButNotInnerOnes() {
        #expect(VisionChatCaptioner.cleanCaption("  \"A dog on a beach.\"\n") == "A dog on a beach.")
        #expect(VisionChatCaptioner.cleanCaption("“ 'Nested' ”") == "Nested")
        #expect(VisionChatCaptioner.cleanCaption("The sign reads \"Open\"") == "The sign reads \"Open\"")
        #expect(VisionChatCaptioner.cleanCaption("\"") == "\"")
        #expect(VisionChatCaptioner.cleanCaption(String(repeating: "é", count: 1_500)).count == 1_000)
    }

    @Test func endpointMessageIsFoundInTheCommonErrorShapes() {
        func message(_ json: String) -> String? { VisionChatCaptioner.endpointMessage(in: Array(json.utf8)) }
        #expect(message(#"{"error":{"message":"Invalid model","type":"invalid_request_error"}}"#) == "Invalid model")
        #expect(message(#"{"error":"model 'llava' not found"}"#) == "model 'llava' not found")
        #expect(message(#"[{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}]"#) == "API key not valid.")
        #expect(message(#"{"message":"Bad\n  request"}"#) == "Bad request")
        #expect(message("<html>502 Bad Gateway</html>") == nil)
    }
}

/// A loopback port bound but not listening, for as long as the value lives: connecting to it is
/// refused, and no other test (or fake) can be given it meanwhile.
final class ClosedPort {
    private let socket: Int32
    let port: Int

    init() throws {
        let descriptor = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw FakeFailure("could not reserve a loopback port")
        }
        socket = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socket) }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
}
