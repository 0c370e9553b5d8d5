import Foundation
import GRPCCore
import JWTKit
import PhotoVaultProto
import PostgresNIO
import Testing
@testable import API

@Suite("Accounts and tokens")
struct AuthTests {
    @Test func firstAccountBecomesAdminAndLaterOnesAreMembers() async throws {
        try await withTestAPI { api in
            let first = try await api.register("first@example.com")
            let second = try await api.register("second@example.com")
            #expect(first.user.role == .admin)
            #expect(second.user.role == .member)
            #expect(try await api.me(second.accessToken).email == "second@example.com")
        }
    }

    @Test func concurrentFirstSignUpsMakeExactlyOneAdmin() async throws {
        try await withTestAPI { api in
            let roles = try await withThrowingTaskGroup(of: Photovault_V1_Role.self) { group in
                for index in 0..<5 {
                    group.addTask { try await api.register("racer\(index)@example.com").user.role }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(roles.filter { $0 == .admin }.count == 1)
            #expect(roles.filter { $0 == .member }.count == 4)
        }
    }

    @Test func emailIsNormalisedAndTakenOnlyOnce() async throws {
        try await withTestAPI { api in
            let reply = try await api.register("  Ada.Lovelace@Example.COM ")
            #expect(reply.user.email == "ada.lovelace@example.com")
            let error = await rpcError { try await api.register("ada.lovelace@example.com") }
            #expect(error?.code == .alreadyExists)
            #expect(error?.message == "An account with this e-mail address already exists.")
            let count = try await userCount(api)
            #expect(count == 1)
            // Signing in works with any case of the address.
            _ = try await api.login("ADA.LOVELACE@example.com")
        }
    }

    /// Bad sign-up input: each is refused with INVALID_ARGUMENT naming the field, and nothing is stored.
    @Test(arguments: SignUpCase.all([
        ("", "a long passphrase 42", "Ada", "email is empty."),
        (String(repeating: "a", count: 1_000_000) + "@example.com", "a long passphrase 42", "Ada", "email is longer than 254 characters."),
        ("not-an-address", "a long passphrase 42", "Ada", "email is not an e-mail address (expected name@example.com)."),
        ("ada@localhost", "a long passphrase 42", "Ada", "email has no valid domain after the @ (expected name@example.com)."),
        ("robert'); DROP TABLE users;--@example.com", "a long passphrase 42", "Ada", "email has characters that an e-mail address cannot have before the @."),
        ("ada\r\nBcc: x@evil.com@example.com", "a long passphrase 42", "Ada", "email is not an e-mail address (expected name@example.com)."),
        ("ada\r\nbcc@example.com", "a long passphrase 42", "Ada", "email has characters that an e-mail address cannot have before the @."),
        ("ada@example.com", "short", "Ada", "password must have at least 10 characters."),
        ("ada@example.com", "password123", "Ada", "password is too common; choose one that others are unlikely to guess."),
        ("ada@example.com", "1234567890", "Ada", "password is too common; choose one that others are unlikely to guess."),
        ("ada@example.com", "aaaaaaaaaaaaaaaa", "Ada", "password is too common; choose one that others are unlikely to guess."),
        ("adalovelace@example.com", "my adalovelace secret", "Ada", "password must not contain your e-mail address."),
        ("ada@example.com", String(repeating: "x7", count: 600), "Ada", "password is longer than 1024 bytes."),
        ("ada@example.com", "a long passphrase 42", "", "name is empty."),
        ("ada@example.com", "a long passphrase 42", String(repeating: "n", count: 100_000), "name is longer than 100 characters."),
        ("ada@example.com", "a long passphrase 42", "Ada\u{07}\u{1B}[2J", "name contains control characters."),
    ]))
    func badSignUpIsRefusedAndStoresNothing(_ input: SignUpCase) async throws {
        try await withTestAPI { api in
            let error = await rpcError { try await api.register(input.email, password: input.password, name: input.name) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == input.message)
            let count = try await userCount(api)
            #expect(count == 0)
        }
    }

    @Test func sqlShapedNamesAreStoredVerbatim() async throws {
        try await withTestAPI { api in
            let name = "Robert'); DROP TABLE users;--"
            let reply = try await api.register("bobby@example.com", name: name)
            #expect(reply.user.name == name)
            #expect(try await api.me(reply.accessToken).name == name)
            let count = try await userCount(api)
            #expect(count == 1)
        }
    }

    @Test func loginAnswersAlikeForUnknownEmailAndWrongPassword() async throws {
        try await withTestAPI { api in
            try await api.register("known@example.com")
            var unknownTimes: [Duration] = [], wrongTimes: [Duration] = []
            var messages: Set<String> = []
            for _ in 0..<5 {
                let clock = ContinuousClock()
                var error: RPCError?
                let unknown = await clock.measure { error = await rpcError { try await api.login("nobody@example.com") } }
                #expect(error?.code == .unauthenticated)
                messages.insert(error?.message ?? "")
                let wrong = await clock.measure { error = await rpcError { try await api.login("known@example.com", password: "not the password") } }
                #expect(error?.code == .unauthenticated)
                messages.insert(error?.message ?? "")
                unknownTimes.append(unknown)
                wrongTimes.append(wrong)
            }
            #expect(messages == ["The e-mail address or the password is wrong."])
            // A coarse guard, not a benchmark: without the decoy Argon2id check an unknown
            // address answers tens of times faster than a wrong password.
            let medianUnknown = unknownTimes.sorted()[2], medianWrong = wrongTimes.sorted()[2]
            #expect(medianUnknown * 3 > medianWrong, "unknown \(medianUnknown) vs wrong \(medianWrong)")
        }
    }

    @Test func passwordIsStoredAsArgon2idPHCString() async throws {
        try await withTestAPI { api in
            try await api.register("hash@example.com", password: "a long passphrase 42")
            let hash = try await api.database.row("SELECT password_hash FROM users") { try $0.decode(String.self) }
            #expect(hash?.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$") == true)
            #expect(hash?.contains("a long passphrase") == false)
        }
    }

    @Test func accessTokensExpire() async throws {
        // Long enough that a loaded machine still uses the token once before it expires (expiry
        // is counted in whole seconds), short enough to wait out.
        try await withTestAPI(configure: { $0.accessTokenLifetime = .seconds(6) }) { api in
            let signIn = try await api.register("expiring@example.com")
            _ = try await api.me(signIn.accessToken)
            try await Task.sleep(for: .milliseconds(7200))
            let error = await rpcError { try await api.me(signIn.accessToken) }
            #expect(error?.code == .unauthenticated)
            #expect(error?.message == "The access token has expired; refresh it or sign in again.")
            // The refresh token still works and yields a working access token.
            let refreshed = try await api.auth.refresh(.with { $0.refreshToken = signIn.refreshToken })
            #expect(try await api.me(refreshed.accessToken).email == "expiring@example.com")
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheWholeFamily() async throws {
        try await withTestAPI { api in
            let signIn = try await api.register("rotate@example.com")
            let second = try await api.auth.refresh(.with { $0.refreshToken = signIn.refreshToken })
            #expect(second.refreshToken != signIn.refreshToken)
            let third = try await api.auth.refresh(.with { $0.refreshToken = second.refreshToken })
            _ = try await api.me(third.accessToken)

            // The first token again: theft is assumed and the whole sign-in ends.
            let reuse = await rpcError { try await api.auth.refresh(.with { $0.refreshToken = signIn.refreshToken }) }
            #expect(reuse?.code == .unauthenticated)
            #expect(reuse?.message.contains("already used") == true)
            let newest = await rpcError { try await api.auth.refresh(.with { $0.refreshToken = third.refreshToken }) }
            #expect(newest?.code == .unauthenticated)
            let access = await rpcError { try await api.me(third.accessToken) }
            #expect(access?.code == .unauthenticated)

            // Other sign-ins of the same account are untouched.
            let other = try await api.login("rotate@example.com")
            _ = try await api.me(other.accessToken)
        }
    }

    @Test func unknownAndMalformedRefreshTokensAreRefused() async throws {
        try await withTestAPI { api in
            for token in ["", "nonsense", String(repeating: "A", count: 43), String(repeating: "z", count: 100_000)] {
                let error = await rpcError { try await api.auth.refresh(.with { $0.refreshToken = token }) }
                #expect(error?.code == (token.isEmpty ? .invalidArgument : .unauthenticated))
            }
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await withTestAPI { api in
            let signIn = try await api.register("bye@example.com")
            let other = try await api.login("bye@example.com")
            _ = try await api.auth.logout(.init(), metadata: TestAPI.bearer(signIn.accessToken))
            #expect(await rpcError { try await api.me(signIn.accessToken) }?.code == .unauthenticated)
            #expect(await rpcError { try await api.auth.refresh(.with { $0.refreshToken = signIn.refreshToken }) }?.code == .unauthenticated)
            _ = try await api.me(other.accessToken)
        }
    }

    @Test func logoutByRefreshTokenOnlyReachesTheCallersOwnSessions() async throws {
        try await withTestAPI { api in
            let mine = try await api.register("owner@example.com")
            let theirs = try await api.register("other@example.com")
            let error = await rpcError {
                try await api.auth.logout(.with { $0.refreshToken = theirs.refreshToken }, metadata: TestAPI.bearer(mine.accessToken))
            }
            #expect(error?.code == .unauthenticated)
            _ = try await api.me(theirs.accessToken)
            let second = try await api.login("owner@example.com")
            _ = try await api.auth.logout(.with { $0.refreshToken = second.refreshToken }, metadata: TestAPI.bearer(mine.accessToken))
            #expect(await rpcError { try await api.me(second.accessToken) }?.code == .unauthenticated)
            _ = try await api.me(mine.accessToken)
        }
    }

    @Test func changePasswordEndsEveryOtherSession() async throws {
        try await withTestAPI { api in
            let a = try await api.register("change@example.com")
            let b = try await api.login("change@example.com")
            let wrong = await rpcError {
                try await api.auth.changePassword(.with {
                    $0.currentPassword = "not my password"
                    $0.newPassword = "a brand new passphrase"
                }, metadata: TestAPI.bearer(a.accessToken))
            }
            #expect(wrong?.code == .invalidArgument)
            #expect(wrong?.message == "current_password is wrong.")

            let fresh = try await api.auth.changePassword(.with {
                $0.currentPassword = "a long passphrase 42"
                $0.newPassword = "a brand new passphrase"
            }, metadata: TestAPI.bearer(a.accessToken))
            _ = try await api.me(fresh.accessToken)
            #expect(await rpcError { try await api.me(b.accessToken) }?.code == .unauthenticated)
            #expect(await rpcError { try await api.me(a.accessToken) }?.code == .unauthenticated)
            #expect(await rpcError { try await api.auth.refresh(.with { $0.refreshToken = b.refreshToken }) }?.code == .unauthenticated)
            #expect(await rpcError { try await api.login("change@example.com") }?.code == .unauthenticated)
            _ = try await api.login("change@example.com", password: "a brand new passphrase")
        }
    }

    @Test func callsWithoutAUsableTokenAreRefusedWithAReason() async throws {
        try await withTestAPI { api in
            let signIn = try await api.register("tokens@example.com")
            func meError(_ metadata: Metadata) async -> RPCError? {
                await rpcError { try await api.auth.me(.init(), metadata: metadata) }
            }
            let missing = await meError([:])
            #expect(missing?.code == .unauthenticated)
            #expect(missing?.message.contains("authorization: Bearer") == true)
            #expect(await meError(["authorization": "Basic abc"])?.code == .unauthenticated)
            #expect(await meError(["authorization": "Bearer not.a.jwt"])?.message == "The access token is malformed.")
            #expect(await meError(["authorization": .string("Bearer " + String(repeating: "x", count: 10_000))])?.code == .unauthenticated)

            // Signed with a key id this server does not know.
            let stranger = JWTKeyCollection()
            await stranger.add(hmac: HMACKey(from: Data(repeating: 1, count: 32)), digestAlgorithm: .sha256, kid: "stranger")
            let claims = try await forgedClaims(for: signIn)
            let unknownKey = try await stranger.sign(claims, kid: "stranger")
            #expect(await meError(TestAPI.bearer(unknownKey))?.message == "The access token was signed with an unknown key.")

            // Our key id, but not our secret.
            let impostor = JWTKeyCollection()
            await impostor.add(hmac: HMACKey(from: Data(repeating: 2, count: 32)), digestAlgorithm: .sha256, kid: "current")
            let badSignature = try await impostor.sign(claims, kid: "current")
            #expect(await meError(TestAPI.bearer(badSignature))?.message == "The access token has a signature that does not verify.")

            // A token signed by the previous key is still accepted during a rotation.
            let previous = JWTKeyCollection()
            await previous.add(hmac: HMACKey(from: Data(repeating: 9, count: 32)), digestAlgorithm: .sha256, kid: "previous")
            let rotated = try await previous.sign(claims, kid: "previous")
            #expect(try await api.me(rotated).email == "tokens@example.com")
        }
    }

    @Test func verifyTokenReportsOwnerOrReason() async throws {
        try await withTestAPI { api in
            let signIn = try await api.register("verify@example.com")
            let good = try await api.auth.verifyToken(.with { $0.accessToken = signIn.accessToken })
            #expect(good.valid)
            #expect(good.userID == signIn.user.id)
            #expect(good.role == .admin)
            #expect(good.expiresAt.seconds == signIn.accessTokenExpiresAt.seconds)
            let bad = try await api.auth.verifyToken(.with { $0.accessToken = "x.y.z" })
            #expect(!bad.valid)
            #expect(bad.reason == "The access token is malformed.")
            #expect(bad.userID.isEmpty)
            #expect(await rpcError { try await api.auth.verifyToken(.init()) }?.code == .invalidArgument)
        }
    }
}

/// Claims for a real session of `signIn`, to be signed by keys the server does or does not know.
func forgedClaims(for signIn: Photovault_V1_AuthResponse) async throws -> AccessTokenClaims {
    let parts = signIn.accessToken.split(separator: ".")
    var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
    return try JSONDecoder().decode(AccessTokenClaims.self, from: Data(base64Encoded: payload)!)
}

func userCount(_ api: TestAPI) async throws -> Int {
    try await api.database.row("SELECT count(*) FROM users") { try $0.decode(Int.self) } ?? -1
}

/// One refused sign-up; described by its expected message so huge inputs stay out of the log.
struct SignUpCase: Sendable, CustomTestStringConvertible {
    let email: String, password: String, name: String, message: String
    var testDescription: String { "\(message) (\(email.count)/\(password.count)/\(name.count) characters)" }

    static func all(_ cases: [(String, String, String, String)]) -> [SignUpCase] {
        cases.map { SignUpCase(email: $0.0, password: $0.1, name: $0.2, message: $0.3) }
    }
}
