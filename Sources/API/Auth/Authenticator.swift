import Foundation
import GRPCServices
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Turns the bearer token of a call into a ``Caller``, or refuses the call.
///
/// A token must verify (signature, key id, expiry) and its session must be live and its
/// account enabled. Session states are cached for a moment so that authenticated calls do
/// not each cost a database round trip; every revocation on this replica evicts at once,
/// and ``AuthEventListener`` evicts for revocations made by other replicas.
public final class Authenticator: Sendable {
    private let issuer: TokenIssuer
    private let sessions: SessionRepository
    private let database: Database
    private let cacheLifetime: Duration
    /// A session's state and when it was read. (A struct, not a tuple: tuple metadata is
    /// looked up at run time on every access, which showed in profiles of this hot path.)
    private struct CachedStatus {
        let status: SessionRepository.Status
        let fetched: ContinuousClock.Instant
    }

    private let cache = Mutex<[UUID: CachedStatus]>([:])
    /// Tokens already verified, so a client's repeated calls skip the HMAC and JSON work.
    /// Expiry is still checked on every call; the signature cannot change.
    private let verifiedTokens = Mutex<[String: VerifiedToken]>([:])
    static let cacheLimit = 100_000

    /// The NOTIFY channel on which replicas tell each other about revocations.
    static let channel = "photovault_auth"

    init(issuer: TokenIssuer, database: Database, cacheLifetime: Duration) {
        self.issuer = issuer
        self.database = database
        self.sessions = SessionRepository(database: database)
        self.cacheLifetime = cacheLifetime
    }

    /// The caller of the current RPC.
    public func authenticate() async throws -> Caller {
        guard let call = CallContext.current else { throw AuthError.missingToken }
        return try await authenticate(call)
    }

    /// The caller of a call whose context the handler holds (server-streaming handlers).
    public func authenticate(_ call: CallContext) async throws -> Caller {
        guard let token = call.bearerToken, !token.isEmpty else { throw AuthError.missingToken }
        return try await authenticate(token: token).caller
    }

    /// The owner of a token and when the token expires.
    func authenticate(token: String) async throws -> (caller: Caller, expires: Date) {
        let verified = try await verifiedToken(token)
        let status = try await status(of: verified.sessionID)
        guard let status, status.user.id == verified.userID else { throw AuthError.badToken("belongs to no known sign-in") }
        guard !status.user.disabled else { throw AuthError.accountDisabled }
        guard !status.revoked else { throw AuthError.badToken("was revoked (signed out or password changed); sign in again") }
        guard !status.expired else { throw AuthError.badToken("belongs to an expired sign-in; sign in again") }
        return (Caller(user: status.user, sessionID: verified.sessionID), verified.expires)
    }

    private func verifiedToken(_ token: String) async throws -> VerifiedToken {
        if let known = verifiedTokens.withLock({ $0[token] }) {
            guard known.expires > Date() else { throw AuthError.badToken("has expired; refresh it or sign in again") }
            return known
        }
        let verified = try await issuer.verify(token)
        verifiedTokens.withLock { tokens in
            if tokens.count >= Self.cacheLimit { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = verified
        }
        return verified
    }

    private func status(of sessionID: UUID) async throws -> SessionRepository.Status? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[sessionID] }), now - cached.fetched < cacheLifetime {
            return cached.status
        }
        let status = try await sessions.status(sessionID: sessionID)
        if let status {
            cache.withLock { cache in
                if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
                cache[sessionID] = CachedStatus(status: status, fetched: now)
            }
        }
        return status
    }

    /// A session was revoked: evict it here and on every other replica.
    public func forget(sessionID: UUID) async {
        forgetLocally("session:\(sessionID.uuidString.lowercased())")
        await announce("session:\(sessionID.uuidString.lowercased())")
    }

    /// A user was disabled, changed role or password: evict all their sessions everywhere.
    public func forget(userID: UUID) async {
        forgetLocally("user:\(userID.uuidString.lowercased())")
        await announce("user:\(userID.uuidString.lowercased())")
    }

    /// Evicts what an announcement (`session:<id>` or `user:<id>`) names from this replica's cache.
    func forgetLocally(_ announcement: String) {
        let parts = announcement.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else { return }
        cache.withLock { cache in
            switch parts[0] {
            case "session": cache.removeValue(forKey: id)
            case "user": for (key, value) in cache where value.status.user.id == id { cache.removeValue(forKey: key) }
            default: break
            }
        }
    }

    /// Tells other replicas; if that fails they catch up when their cache entry ages out.
    private func announce(_ announcement: String) async {
        try? await database.execute("SELECT pg_notify(\(Self.channel), \(announcement))")
    }
}
