import CMail
import Dispatch
import Foundation
import Logging

/// One e-mail to send.
public struct MailMessage: Sendable {
    public let to: String
    public let subject: String
    public let body: String
}

/// Something that delivers e-mail; the seam between accounts and the mail server.
public protocol Mailer: Sendable {
    func send(_ message: MailMessage) async throws
}

/// Delivery failure, with libcurl's explanation.
public struct MailError: Error, CustomStringConvertible {
    public let description: String
}

/// Sends mail through an SMTP server with libcurl (STARTTLS by default).
public struct SMTPMailer: Mailer {
    let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public func send(_ message: MailMessage) async throws {
        let settings = self.settings
        let text = Self.render(message, from: settings.from)
        let envelopeFrom = Self.address(in: settings.from)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global(qos: .utility).async {
                var error = [CChar](repeating: 0, count: 512)
                let security: pv_smtp_security =
                    switch settings.security {
                    case .none: PV_SMTP_PLAIN
                    case .starttls: PV_SMTP_STARTTLS
                    case .tls: PV_SMTP_TLS
                    }
                let status = text.withCString { body in
                    ("<" + message.to + ">").withCString { recipient in
                        var recipients: [UnsafePointer<CChar>?] = [recipient]
                        return pv_smtp_send(
                            settings.url, settings.username, settings.password, security, settings.caFile,
                            "<" + envelopeFrom + ">", &recipients, 1, body, strlen(body), settings.timeoutSeconds,
                            &error, error.count)
                    }
                }
                if status == 0 {
                    continuation.resume()
                } else {
                    continuation.resume(throwing: MailError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
                }
            }
        }
    }

    /// The bare address inside `Name <address>`, or the whole string.
    static func address(in from: String) -> String {
        if let open = from.lastIndex(of: "<"), let close = from.lastIndex(of: ">"), open < close {
            return String(from[from.index(after: open)..<close])
        }
        return from
    }

    /// An RFC 5322 message with CRLF line ends. Header values are single lines by construction.
    static func render(_ message: MailMessage, from: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = address(in: from).split(separator: "@").last.map(String.init) ?? "localhost"
        let headers = [
            "Date: \(formatter.string(from: Date()))",
            "From: \(from)",
            "To: <\(message.to)>",
            "Subject: \(message.subject)",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let body = message.body.replacingOccurrences(of: "\r\n", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
    }
}

/// Used when no SMTP server is configured: says so in the log, never the message body.
public struct UnconfiguredMailer: Mailer {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ message: MailMessage) async throws {
        logger.warning("an e-mail was not sent because PHOTOVAULT_SMTP_URL is not set", metadata: ["subject": "\(message.subject)"])
        throw MailError(description: "No SMTP server is configured (PHOTOVAULT_SMTP_URL).")
    }
}
