import Foundation
import GRPCCore
import Testing
@testable import API

@Suite("Rate limits")
struct RateLimitTests {
    @Test func loginIsLimitedPerAccountWithTheDelayToWait() async throws {
        try await withTestAPI(configure: { $0.limits.loginPerAccount = RateLimit(3, per: .seconds(600)) }) { api in
            try await api.register("target@example.com")
            for _ in 0..<3 {
                #expect(await rpcError { try await api.login("target@example.com", password: "guess guess guess") }?.code == .unauthenticated)
            }
            let limited = await rpcError { try await api.login("target@example.com") }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.message.hasPrefix("Too many sign-in attempts for this account; try again in ") == true)
            let wait = limited?.metadata[stringValues: "retry-after-seconds"].first(where: { _ in true }).flatMap { Int($0) }
            #expect(wait.map { (500...600).contains($0) } == true, "retry-after-seconds: \(String(describing: wait))")
            // Another account is unaffected.
            try await api.register("bystander@example.com")
            _ = try await api.login("bystander@example.com")
        }
    }

    @Test func loginIsLimitedPerPeerAddress() async throws {
        try await withTestAPI(configure: { $0.limits.loginPerPeer = RateLimit(4, per: .seconds(60)) }) { api in
            for index in 0..<4 {
                _ = await rpcError { try await api.login("nobody\(index)@example.com") }
            }
            let limited = await rpcError { try await api.login("someone-else@example.com") }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.message.hasPrefix("Too many sign-in attempts from this address") == true)
        }
    }

    @Test func signUpsAndResetRequestsAreLimited() async throws {
        try await withTestAPI(configure: {
            $0.limits.registerPerPeer = RateLimit(2, per: .seconds(3600))
            $0.limits.resetPerAccount = RateLimit(2, per: .seconds(900))
        }) { api in
            try await api.register("one@example.com")
            try await api.register("two@example.com")
            #expect(await rpcError { try await api.register("three@example.com") }?.code == .resourceExhausted)
            let count = try await userCount(api)
            #expect(count == 2)
            for _ in 0..<2 { _ = try await api.auth.sendResetCode(.with { $0.email = "one@example.com" }) }
            let limited = await rpcError { try await api.auth.sendResetCode(.with { $0.email = "one@example.com" }) }
            #expect(limited?.code == .resourceExhausted)
        }
    }

    @Test func signUpAttemptsForOneAddressAreLimited() async throws {
        try await withTestAPI(configure: { $0.limits.registerPerAccount = RateLimit(2, per: .seconds(3600)) }) { api in
            try await api.register("taken@example.com")
            #expect(await rpcError { try await api.register("taken@example.com") }?.code == .alreadyExists)
            let limited = await rpcError { try await api.register("Taken@Example.com") }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.message.hasPrefix("Too many sign-up attempts for this e-mail address") == true)
            try await api.register("other@example.com")
        }
    }

    /// Two API replicas share one database; attempts on either count against the same limit.
    @Test func replicasShareTheirCounters() async throws {
        try await withTestAPI { api in
            let replicaA = RateLimiter(database: api.database)
            try await TestPostgres.withDatabase(api.databaseConfiguration) { other in
                let replicaB = RateLimiter(database: other)
                let limit = RateLimit(3, per: .seconds(60))
                try await replicaA.hit("login:account:x", limit: limit, what: "attempts")
                try await replicaB.hit("login:account:x", limit: limit, what: "attempts")
                try await replicaA.hit("login:account:x", limit: limit, what: "attempts")
                await #expect(throws: AuthError.self) { try await replicaB.hit("login:account:x", limit: limit, what: "attempts") }
            }
        }
    }

    @Test func windowsStartAfresh() async throws {
        try await withTestAPI { api in
            let limiter = RateLimiter(database: api.database)
            let limit = RateLimit(1, per: .seconds(1))
            try await limiter.hit("k", limit: limit, what: "attempts")
            await #expect(throws: AuthError.self) { try await limiter.hit("k", limit: limit, what: "attempts") }
            try await Task.sleep(for: .milliseconds(1200))
            try await limiter.hit("k", limit: limit, what: "attempts")
        }
    }
}
