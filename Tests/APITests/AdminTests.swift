import Foundation
import GRPCCore
import PhotoVaultProto
import Testing
@testable import API

@Suite("Administration")
struct AdminTests {
    @Test func onlyAdminsReachAdminService() async throws {
        try await withTestAPI { api in
            try await api.register("admin@example.com")
            let member = try await api.register("member@example.com")
            let error = await rpcError { try await api.admin.listUsers(.init(), metadata: TestAPI.bearer(member.accessToken)) }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message == "Only admin accounts may use AdminService.")
            #expect(await rpcError { try await api.admin.listUsers(.init()) }?.code == .unauthenticated)
        }
    }

    @Test func listUsersPagesInSignUpOrderWithoutRepeats() async throws {
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com")
            for index in 1...7 { try await api.register("user\(index)@example.com", name: "User \(index)") }
            var seen: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await api.admin.listUsers(.with {
                    $0.pageSize = 3
                    $0.pageToken = token
                }, metadata: TestAPI.bearer(admin.accessToken))
                #expect(page.users.count <= 3)
                seen += page.users.map(\.email)
                token = page.nextPageToken
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(pages == 3)
            #expect(seen == ["admin@example.com"] + (1...7).map { "user\($0)@example.com" })

            let filtered = try await api.admin.listUsers(.with { $0.query = "USER 3" }, metadata: TestAPI.bearer(admin.accessToken))
            #expect(filtered.users.map(\.email) == ["user3@example.com"])
            // LIKE wildcards in the query are taken literally.
            let literal = try await api.admin.listUsers(.with { $0.query = "%" }, metadata: TestAPI.bearer(admin.accessToken))
            #expect(literal.users.isEmpty)
        }
    }

    @Test func forgedOrForeignPageTokensAreRefused() async throws {
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com")
            for index in 1...3 { try await api.register("user\(index)@example.com") }
            let first = try await api.admin.listUsers(.with { $0.pageSize = 2 }, metadata: TestAPI.bearer(admin.accessToken))
            #expect(!first.nextPageToken.isEmpty)
            let foreign = await rpcError {
                try await api.admin.listUsers(.with {
                    $0.pageSize = 2
                    $0.pageToken = first.nextPageToken
                    $0.query = "user"
                }, metadata: TestAPI.bearer(admin.accessToken))
            }
            #expect(foreign?.code == .invalidArgument)
            #expect(foreign?.message == "page_token belongs to another query; start again without it.")
            for forged in ["garbage", "eyJ4IjoxfQ", PageToken.encode(scope: "users:", values: ["not a time", UUID().uuidString])] {
                let error = await rpcError {
                    try await api.admin.listUsers(.with { $0.pageToken = forged }, metadata: TestAPI.bearer(admin.accessToken))
                }
                #expect(error?.code == .invalidArgument, "\(forged)")
            }
            let size = await rpcError { try await api.admin.listUsers(.with { $0.pageSize = 501 }, metadata: TestAPI.bearer(admin.accessToken)) }
            #expect(size?.code == .invalidArgument)
        }
    }

    @Test func rolesChangeAndTheLastAdminStays() async throws {
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com")
            let member = try await api.register("member@example.com")
            let token = TestAPI.bearer(admin.accessToken)
            let promoted = try await api.admin.setUserRole(.with {
                $0.userID = member.user.id
                $0.role = .photographer
            }, metadata: token)
            #expect(promoted.role == .photographer)
            #expect(try await api.me(member.accessToken).role == .photographer)

            let lastAdmin = await rpcError {
                try await api.admin.setUserRole(.with {
                    $0.userID = admin.user.id
                    $0.role = .member
                }, metadata: token)
            }
            #expect(lastAdmin?.code == .failedPrecondition)

            let unknown = await rpcError {
                try await api.admin.setUserRole(.with {
                    $0.userID = UUID().uuidString
                    $0.role = .member
                }, metadata: token)
            }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError {
                try await api.admin.setUserRole(.with {
                    $0.userID = "'; DROP TABLE users; --"
                    $0.role = .member
                }, metadata: token)
            }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message == "user_id is not a valid id.")
            let noRole = await rpcError {
                try await api.admin.setUserRole(.with { $0.userID = member.user.id }, metadata: token)
            }
            #expect(noRole?.message == "role must be ROLE_ADMIN, ROLE_PHOTOGRAPHER or ROLE_MEMBER.")
        }
    }

    @Test func disabledUsersTokensStopWorkingAtOnce() async throws {
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com")
            let member = try await api.register("member@example.com")
            _ = try await api.me(member.accessToken)  // now cached as a live session
            let disabled = try await api.admin.disableUser(.with {
                $0.userID = member.user.id
                $0.disabled = true
            }, metadata: TestAPI.bearer(admin.accessToken))
            #expect(disabled.disabled)

            let me = await rpcError { try await api.me(member.accessToken) }
            #expect(me?.code == .unauthenticated)
            #expect(await rpcError { try await api.auth.refresh(.with { $0.refreshToken = member.refreshToken }) }?.code == .unauthenticated)
            let login = await rpcError { try await api.login("member@example.com") }
            #expect(login?.message == "This account is disabled; ask an administrator to enable it.")
            // A wrong password still gets the generic answer: disabled accounts are not revealed to guessers.
            #expect(await rpcError { try await api.login("member@example.com", password: "wrong password!") }?.message
                == "The e-mail address or the password is wrong.")

            _ = try await api.admin.disableUser(.with {
                $0.userID = member.user.id
                $0.disabled = false
            }, metadata: TestAPI.bearer(admin.accessToken))
            let again = try await api.login("member@example.com")
            _ = try await api.me(again.accessToken)

            let own = await rpcError {
                try await api.admin.disableUser(.with {
                    $0.userID = admin.user.id
                    $0.disabled = true
                }, metadata: TestAPI.bearer(admin.accessToken))
            }
            #expect(own?.code == .failedPrecondition)
        }
    }

    /// Replicas cache session state; a revocation on one reaches the others through NOTIFY,
    /// not by waiting for the cache to age (here a cache that would keep entries for 10 minutes).
    @Test func disablingOnOneReplicaStopsTokensOnAnotherAtOnce() async throws {
        try await withTestAPI(configure: { $0.authCacheLifetime = .seconds(600) }) { api in
            let admin = try await api.register("admin@example.com")
            let member = try await api.register("member@example.com")
            try await withReplica(of: api, configure: { $0.authCacheLifetime = .seconds(600) }) { replica in
                _ = try await replica.me(member.accessToken)  // cached on the replica
                try await Task.sleep(for: .milliseconds(200))  // the replica's listener is attached
                _ = try await api.admin.disableUser(.with {
                    $0.userID = member.user.id
                    $0.disabled = true
                }, metadata: TestAPI.bearer(admin.accessToken))
                var refused = false
                for _ in 0..<40 where !refused {
                    refused = await rpcError { try await replica.me(member.accessToken) }?.code == .unauthenticated
                    if !refused { try await Task.sleep(for: .milliseconds(25)) }
                }
                #expect(refused, "the replica kept accepting a disabled account's token")
            }
        }
    }
}
