import Foundation

/// A real SMTP server (aiosmtpd, `Tests/Support/smtp_sink.py`) that stores what it receives.
final class SMTPSink: @unchecked Sendable {
    let port: Int
    let folder: URL
    let certificate: URL?
    private let process: Process
    private let input: Pipe

    /// Starts the server; with `starttls` it presents a fresh self-signed certificate and
    /// refuses mail until the client upgrades.
    init(starttls: Bool = false) throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-mail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var arguments = [TestPostgres.projectRoot.appendingPathComponent("Tests/Support/smtp_sink.py").path, folder.appendingPathComponent("inbox").path]
        if starttls {
            let cert = folder.appendingPathComponent("cert.pem"), key = folder.appendingPathComponent("key.pem")
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", cert.path,
                                 "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            arguments += ["--tls-cert", cert.path, "--tls-key", key.path]
            certificate = cert
        } else {
            certificate = nil
        }
        let started = try PythonHelper.start(arguments)
        (process, input) = (started.process, started.input)
        let text = started.firstLine
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw SinkError(description: "the SMTP sink did not start: '\(text)'")
        }
        self.port = port
    }

    struct SinkError: Error, CustomStringConvertible {
        let description: String
    }

    /// The messages received so far, as text.
    func messages() -> [String] {
        let inbox = folder.appendingPathComponent("inbox")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { try? String(contentsOf: inbox.appendingPathComponent($0), encoding: .utf8) }
    }

    /// Waits (up to `timeout`) until at least `count` messages arrived.
    func waitForMessages(count: Int, timeout: Duration = .seconds(20)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let received = messages()
            if received.count >= count { return received }
            try await Task.sleep(for: .milliseconds(50))
        }
        return messages()
    }

    /// Stops the server (closing its stdin ends it) without waiting on Foundation's child
    /// bookkeeping, which can miss an exit; SIGKILL if it lingers.
    func stop() {
        try? input.fileHandleForWriting.close()
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
