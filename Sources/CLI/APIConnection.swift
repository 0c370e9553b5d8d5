import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PhotoVaultProto

typealias Transport = HTTP2ClientTransport.Posix

/// A signed-in connection to photovault-api: one gRPC client shared by every call of a command,
/// and the saved sign-in, whose access token is refreshed (once, however many calls wait) when
/// it expires or the server refuses it.
struct APIConnection: Sendable {
    let client: GRPCClient<Transport>
    let server: String
    let tokens: TokenKeeper

    var auth: Photovault_V1_AuthService.Client<Transport> { .init(wrapping: client) }
    var images: Photovault_V1_ImageService.Client<Transport> { .init(wrapping: client) }
    var search: Photovault_V1_SearchService.Client<Transport> { .init(wrapping: client) }
    var albums: Photovault_V1_AlbumService.Client<Transport> { .init(wrapping: client) }
    var people: Photovault_V1_PeopleService.Client<Transport> { .init(wrapping: client) }
    var events: Photovault_V1_EventService.Client<Transport> { .init(wrapping: client) }
    var dashboard: Photovault_V1_DashboardService.Client<Transport> { .init(wrapping: client) }
    var admin: Photovault_V1_AdminService.Client<Transport> { .init(wrapping: client) }

    /// Runs `body` with the `authorization` metadata; on UNAUTHENTICATED refreshes and tries once more.
    func call<T: Sendable>(_ body: (Metadata) async throws -> T) async throws -> T {
        let token = try await tokens.current(auth)
        do {
            return try await body(["authorization": "Bearer \(token)"])
        } catch let error as RPCError where error.code == .unauthenticated {
            let fresh = try await tokens.refresh(replacing: token, auth)
            return try await body(["authorization": "Bearer \(fresh)"])
        }
    }
}

/// The saved sign-in, shared by concurrent calls. Refresh tokens are single use (a second use
/// ends the whole sign-in), so concurrent refreshes must become one.
actor TokenKeeper {
    private var credentials: Credentials
    private var refreshing: Task<String, any Error>?

    init(_ credentials: Credentials) { self.credentials = credentials }

    /// The signed-in e-mail address.
    var account: String { credentials.email }

    func current(_ auth: Photovault_V1_AuthService.Client<Transport>) async throws -> String {
        if let refreshing { return try await refreshing.value }
        if credentials.accessTokenExpiresAt.timeIntervalSinceNow < 30 {
            return try await refresh(replacing: credentials.accessToken, auth)
        }
        return credentials.accessToken
    }

    /// A new access token unless `stale` has already been replaced.
    func refresh(replacing stale: String, _ auth: Photovault_V1_AuthService.Client<Transport>) async throws -> String {
        if let refreshing { return try await refreshing.value }
        if credentials.accessToken != stale { return credentials.accessToken }
        let refreshToken = credentials.refreshToken
        let task = Task<String, any Error> {
            let reply: Photovault_V1_AuthResponse
            do {
                reply = try await auth.refresh(.with { $0.refreshToken = refreshToken })
            } catch let error as RPCError where error.code == .unauthenticated {
                Credentials.delete()
                throw CLIError.signInEnded(error.message)
            }
            self.store(reply)
            return reply.accessToken
        }
        refreshing = task
        defer { refreshing = nil }
        return try await task.value
    }

    private func store(_ reply: Photovault_V1_AuthResponse) {
        credentials.accessToken = reply.accessToken
        credentials.accessTokenExpiresAt = reply.accessTokenExpiresAt.date
        credentials.refreshToken = reply.refreshToken
        try? credentials.save()
    }
}

/// Parses `host:port` into a transport target; an IPv4 address is not sent as a TLS server name.
func transport(for server: String, security: Transport.TransportSecurity) throws -> Transport {
    let parts = server.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
        throw CLIError.usage("--server must be host:port, not '\(server)'.")
    }
    let host = String(parts[0])
    let isAddress = host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    return try Transport(target: isAddress ? .ipv4(address: host, port: port) : .dns(host: host, port: port), transportSecurity: security)
}

/// Runs `body` signed in, turning every failure into one sentence and an exit status.
func withAPI<T: Sendable>(_ options: GlobalOptions, _ body: (APIConnection) async throws -> T) async throws -> T {
    do {
        let credentials = try Credentials.load()
        let server = options.resolvedServer(signedIn: credentials.server)
        let keeper = TokenKeeper(credentials)
        return try await withGRPCClient(transport: try transport(for: server, security: options.security)) { client in
            try await body(APIConnection(client: client, server: server, tokens: keeper))
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        throw fail(CLIError(error))
    }
}
