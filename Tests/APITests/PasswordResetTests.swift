import Foundation
import GRPCCore
import PhotoVaultProto
import Testing
@testable import API

@Suite("Password reset by e-mail", .serialized)
struct PasswordResetTests {
    /// Reads the 8-digit code out of a received message.
    func resetCode(in message: String) -> String? {
        message.split(whereSeparator: { !$0.isNumber }).first { $0.count == 8 }.map(String.init)
    }

    func reset(_ api: TestAPI, email: String, code: String, to newPassword: String) async throws -> Photovault_V1_ResetPasswordResponse {
        try await api.auth.resetPassword(.with {
            $0.email = email
            $0.code = code
            $0.newPassword = newPassword
        })
    }

    func withMail(starttls: Bool = false, _ body: (TestAPI, SMTPSink) async throws -> Void) async throws {
        let sink = try SMTPSink(starttls: starttls)
        defer { sink.stop() }
        var settings = SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)")
        settings.security = starttls ? .starttls : .none
        settings.caFile = sink.certificate?.path
        settings.from = "PhotoVault <no-reply@photovault.test>"
        try await withTestAPI(mailer: SMTPMailer(settings: settings)) { api in try await body(api, sink) }
    }

    @Test func aCodeFromTheRealMailServerResetsThePasswordAndEndsEverySession() async throws {
        try await withMail { api, sink in
            let signIn = try await api.register("forgetful@example.com", name: "Forgetful Fred")
            _ = try await api.auth.sendResetCode(.with { $0.email = "Forgetful@Example.com" })
            let messages = try await sink.waitForMessages(count: 1)
            try #require(messages.count == 1)
            #expect(messages[0].contains("X-Envelope-To: forgetful@example.com"))
            #expect(messages[0].contains("Subject: Your PhotoVault reset code"))
            #expect(messages[0].contains("Hello Forgetful Fred"))
            let code = try #require(resetCode(in: messages[0]))

            _ = try await reset(api, email: "forgetful@example.com", code: code, to: "remembered at last")
            #expect(await rpcError { try await api.me(signIn.accessToken) }?.code == .unauthenticated)
            #expect(await rpcError { try await api.login("forgetful@example.com") }?.code == .unauthenticated)
            _ = try await api.login("forgetful@example.com", password: "remembered at last")
            // A code works once.
            let again = await rpcError {
                try await reset(api, email: "forgetful@example.com", code: code, to: "yet another passphrase")
            }
            #expect(again?.code == .invalidArgument)
        }
    }

    @Test func unknownAddressesGetTheSameAnswerAndNoMail() async throws {
        try await withMail { api, sink in
            try await api.register("real@example.com")
            _ = try await api.auth.sendResetCode(.with { $0.email = "ghost@example.com" })
            _ = try await api.auth.sendResetCode(.with { $0.email = "real@example.com" })
            let messages = try await sink.waitForMessages(count: 1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(sink.messages().count == 1)
            #expect(messages.first?.contains("real@example.com") == true)
            let ghost = await rpcError {
                try await reset(api, email: "ghost@example.com", code: "12345678", to: "whatever you like")
            }
            #expect(ghost?.message == "The reset code is wrong, expired or used up; request a new one.")
        }
    }

    @Test func fiveWrongGuessesUseTheCodeUp() async throws {
        try await withMail { api, sink in
            try await api.register("guessed@example.com")
            _ = try await api.auth.sendResetCode(.with { $0.email = "guessed@example.com" })
            let code = try #require(resetCode(in: try await sink.waitForMessages(count: 1).first ?? ""))
            let wrong = code == "00000000" ? "11111111" : "00000000"
            for _ in 0..<5 {
                let error = await rpcError {
                    try await reset(api, email: "guessed@example.com", code: wrong, to: "attacker chosen pass")
                }
                #expect(error?.message == "The reset code is wrong, expired or used up; request a new one.")
            }
            let right = await rpcError {
                try await reset(api, email: "guessed@example.com", code: code, to: "owner chosen passphrase")
            }
            #expect(right?.code == .invalidArgument)
            _ = try await api.login("guessed@example.com")
        }
    }

    @Test func expiredCodesAreRefused() async throws {
        try await withMail { api, sink in
            try await api.register("late@example.com")
            _ = try await api.auth.sendResetCode(.with { $0.email = "late@example.com" })
            let code = try #require(resetCode(in: try await sink.waitForMessages(count: 1).first ?? ""))
            try await api.database.execute("UPDATE password_reset_codes SET expires_at = now() - interval '1 second'")
            let error = await rpcError {
                try await reset(api, email: "late@example.com", code: code, to: "too late for this one")
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func malformedResetRequestsNameTheField() async throws {
        try await withTestAPI { api in
            let badCode = await rpcError {
                try await reset(api, email: "a@example.com", code: "12ab", to: "a fine new passphrase")
            }
            #expect(badCode?.message == "code must be the 8 digits from the e-mail.")
            let badEmail = await rpcError { try await api.auth.sendResetCode(.with { $0.email = "nope" }) }
            #expect(badEmail?.code == .invalidArgument)
        }
    }

    @Test func mailGoesThroughSTARTTLSWhenTheServerOffersIt() async throws {
        try await withMail(starttls: true) { api, sink in
            try await api.register("secure@example.com")
            _ = try await api.auth.sendResetCode(.with { $0.email = "secure@example.com" })
            let messages = try await sink.waitForMessages(count: 1)
            try #require(messages.count == 1)
            #expect(messages[0].contains("X-Was-TLS: yes"))
        }
    }
}
