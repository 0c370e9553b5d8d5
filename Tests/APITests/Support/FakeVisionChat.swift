import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The fake OpenAI-compatible vision endpoint (`Tests/Support/fake_vision_chat.py`), one process
/// per test on a free loopback port, with the log of what it received.
final class FakeVisionChat: @unchecked Sendable {
    /// One request as the fake summarised it.
    struct ReceivedRequest: Decodable, Equatable {
        let method: String
        let path: String
        let model: String?
        let prompt: String?
        let imageBytes: Int?
        let authOK: Bool?
        let mode: String
        let status: Int
        let failedCheck: String?

        private enum CodingKeys: String, CodingKey {
            case method, path, model, prompt, imageBytes = "image_bytes", authOK = "auth_ok", mode, status
            case failedCheck = "failed_check"
        }
    }

    let port: Int
    let folder: URL
    private let process: Process
    private let input: Pipe

    /// The base URL a captioner is configured with.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Starts the fake; it accepts `model` and `key` and answers as `mode` says (see the script's help).
    init(model: String, key: String?, mode: String = "ok", servedModel: String? = nil) throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-vision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var arguments = [
            TestPostgres.projectRoot.appendingPathComponent("Tests/Support/fake_vision_chat.py").path,
            "--port", "0", "--model", model, "--mode", mode, "--log", folder.appendingPathComponent("requests.jsonl").path,
            "--stop-on-stdin-eof",
        ]
        if let key { arguments += ["--key", key] }
        if let servedModel { arguments += ["--served-model", servedModel] }

        let errors = try FileHandle(forWritingTo: Self.emptyFile(folder.appendingPathComponent("stderr.log")))
        defer { try? errors.close() }
        let started = try PythonHelper.start(
            arguments, errors: errors,
            environment: ProcessInfo.processInfo.environment.filter { $0.key != "FAKE_VISION_CHAT_KEY" })
        (process, input) = (started.process, started.input)
        let text = started.firstLine
        guard let port = Int(text) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw FakeFailure("the fake vision endpoint did not start: '\(text)'; its stderr is in \(folder.path)")
        }
        self.port = port
    }

    /// The requests received so far, oldest first.
    func receivedRequests() throws -> [ReceivedRequest] {
        let log = folder.appendingPathComponent("requests.jsonl")
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        let decoder = JSONDecoder()
        return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
            try decoder.decode(ReceivedRequest.self, from: Data($0.utf8))
        }
    }

    /// Stops the fake (closing its stdin ends it; SIGTERM and SIGKILL if it lingers) and waits
    /// until its port is closed.
    func stop() {
        try? input.fileHandleForWriting.close()
        let pid = process.processIdentifier
        for _ in 0..<20 where process.isRunning { usleep(25_000) }
        if process.isRunning { kill(pid, SIGTERM) }
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(pid, SIGKILL) }
    }

    /// Stops the fake and removes its folder.
    func stopAndClean() {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    private static func emptyFile(_ url: URL) -> URL {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }
}

/// Why a test's fixture is not there.
struct FakeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
