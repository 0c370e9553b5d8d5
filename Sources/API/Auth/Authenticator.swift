import Foundation
import GRPCServices
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
    private let cacheLifetime: Duration
    private let cache = Mutex<[UUID: (status: SessionRepository.Status, fetched: ContinuousClock.Instant)]>([:])

    init(issuer: TokenIssuer, sessions: SessionRepository, cacheLifetime: Duration = .seconds(2)) {
        self.issuer = issuer
        self.sessions = sessions
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
        let verified = try await issuer.verify(token)
        let status = try await status(of: verified.sessionID)
        guard let status, status.userID == verified.userID else { throw AuthError.badToken("belongs to no known sign-in") }
        guard !status.userDisabled else { throw AuthError.accountDisabled }
        guard !status.revoked else { throw AuthError.badToken("was revoked (signed out or password changed); sign in again") }
        guard !status.expired else { throw AuthError.badToken("belongs to an expired sign-in; sign in again") }
        return (Caller(userID: verified.userID, sessionID: verified.sessionID, role: status.role), verified.expires)
    }

    private func status(of sessionID: UUID) async throws -> SessionRepository.Status? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[sessionID] }), now - cached.fetched < cacheLifetime {
            return cached.status
        }
        let status = try await sessions.status(sessionID: sessionID)
        if let status {
            cache.withLock { cache in
                if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
                cache[sessionID] = (status, now)
            }
        }
        return status
    }

    /// Drops a session from the cache (it was revoked).
    public func forget(sessionID: UUID) {
        _ = cache.withLock { $0.removeValue(forKey: sessionID) }
    }

    /// Drops every session of a user from the cache (disabled, role changed, password changed).
    public func forget(userID: UUID) {
        cache.withLock { cache in
            for (key, value) in cache where value.status.userID == userID { cache.removeValue(forKey: key) }
        }
    }
}
