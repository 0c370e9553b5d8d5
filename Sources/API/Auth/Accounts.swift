import Foundation
import Logging

/// A fresh access token and refresh token for an account.
public struct TokenPair: Sendable {
    public let accessToken: String
    public let accessExpires: Date
    public let refreshToken: String
    public let refreshExpires: Date
    public let user: User
}

/// What VerifyToken answers: the token's owner, or why it cannot be used.
public enum TokenVerdict: Sendable {
    case valid(Caller, expires: Date)
    case invalid(reason: String)
}

/// Sign-up, sign-in, tokens and passwords: the domain behind AuthService.
public struct Accounts: Sendable {
    let users: UserRepository
    let sessions: SessionRepository
    let resetCodes: ResetCodeRepository
    let hasher: PasswordHasher
    let issuer: TokenIssuer
    let limiter: RateLimiter
    let mailer: any Mailer
    let limits: RateLimits
    let refreshLifetime: Duration
    let authenticator: Authenticator
    let logger: Logger

    static let resetCodeLifetime: Duration = .seconds(15 * 60)
    static let resetCodeAttempts = 5

    init(database: Database, hasher: PasswordHasher, issuer: TokenIssuer, mailer: any Mailer, config: APIConfig, authenticator: Authenticator, logger: Logger) {
        self.users = UserRepository(database: database)
        self.sessions = SessionRepository(database: database)
        self.resetCodes = ResetCodeRepository(database: database)
        self.hasher = hasher
        self.issuer = issuer
        self.limiter = RateLimiter(database: database)
        self.mailer = mailer
        self.limits = config.limits
        self.refreshLifetime = config.refreshTokenLifetime
        self.authenticator = authenticator
        self.logger = logger
    }

    /// Creates an account (the first one is admin) and signs it in.
    public func register(email rawEmail: String, password: String, name rawName: String, peer: String) async throws -> TokenPair {
        let email = try AccountInput.email(rawEmail)
        let name = try AccountInput.name(rawName)
        try AccountInput.newPassword(password, email: email)
        try await limiter.hit("register:peer:\(peer)", limit: limits.registerPerPeer, what: "sign-ups from this address")
        try await limiter.hit("register:account:\(email)", limit: limits.registerPerAccount, what: "sign-up attempts for this e-mail address")
        let hash = try await hasher.hash(password)
        // The account and its first sign-in are written together: no account without a session.
        let (user, session) = try await users.database.transaction { transaction in
            let user = try await users.insert(in: transaction, email: email, name: name, passwordHash: hash)
            let session = try await sessions.create(userID: user.id, peer: peer, lifetime: refreshLifetime, in: transaction)
            return (user, session)
        }
        logger.info("account created", metadata: ["user_id": "\(user.id)", "role": "\(user.role.rawValue)"])
        return try await tokens(for: user, session: session)
    }

    /// Signs in. Unknown e-mail and wrong password answer alike, after the same Argon2id work.
    public func login(email rawEmail: String, password: String, peer: String) async throws -> TokenPair {
        let email = try AccountInput.email(rawEmail)
        try AccountInput.presentedPassword(password)
        try await limiter.hit("login:peer:\(peer)", limit: limits.loginPerPeer, what: "sign-in attempts from this address")
        try await limiter.hit("login:account:\(email)", limit: limits.loginPerAccount, what: "sign-in attempts for this account")
        guard let (user, hash) = try await users.findWithPassword(email: email) else {
            await hasher.verifyDecoy(password)
            throw AuthError.wrongCredentials
        }
        guard await hasher.verify(password, against: hash) else { throw AuthError.wrongCredentials }
        guard !user.disabled else { throw AuthError.accountDisabled }
        try await users.recordLogin(id: user.id)
        return try await openSession(for: user, peer: peer)
    }

    /// Rotates a refresh token; a rotated token presented again ends its whole session.
    public func refresh(token: String) async throws -> TokenPair {
        guard !token.isEmpty else { throw APIError.invalid("refresh_token", "is empty") }
        guard token.utf8.count <= 128 else { throw AuthError.badRefreshToken }
        switch try await sessions.rotate(token: token, lifetime: refreshLifetime) {
        case .invalid:
            throw AuthError.badRefreshToken
        case .reused(let sessionID):
            await authenticator.forget(sessionID: sessionID)
            logger.warning("refresh token reused; session revoked", metadata: ["session_id": "\(sessionID)"])
            throw AuthError.refreshTokenReused
        case .rotated(let sessionID, let userID, let newToken, let expires):
            guard let user = try await users.find(id: userID), !user.disabled else {
                try await sessions.revoke(sessionID: sessionID, reason: "account disabled")
                throw AuthError.accountDisabled
            }
            let access = try await issuer.issue(userID: user.id, sessionID: sessionID, role: user.role)
            return TokenPair(accessToken: access.token, accessExpires: access.expires, refreshToken: newToken, refreshExpires: expires, user: user)
        }
    }

    /// Ends the caller's session, or the session of `refreshToken` when it belongs to the caller.
    public func logout(caller: Caller, refreshToken: String) async throws {
        var sessionID = caller.sessionID
        if !refreshToken.isEmpty {
            guard let owned = try await sessions.session(ofToken: refreshToken), owned.userID == caller.userID else {
                throw AuthError.badRefreshToken
            }
            sessionID = owned.sessionID
        }
        try await sessions.revoke(sessionID: sessionID, reason: "logout")
        await authenticator.forget(sessionID: sessionID)
    }

    /// The caller's account, as authentication just read it (or its cache, kept current by revocations).
    public func me(caller: Caller) -> User {
        caller.user
    }

    /// Checks a token on behalf of another service.
    public func verify(token: String) async throws -> TokenVerdict {
        guard !token.isEmpty else { throw APIError.invalid("access_token", "is empty") }
        do {
            let (caller, expires) = try await authenticator.authenticate(token: token)
            return .valid(caller, expires: expires)
        } catch let error as AuthError {
            return .invalid(reason: error.rpcErrorMessage)
        }
    }

    /// E-mails a reset code when the account exists; answers the same either way.
    ///
    /// The mail goes out in the background, so the reply time does not reveal whether an
    /// account exists; a failed delivery is logged.
    public func sendResetCode(email rawEmail: String, peer: String) async throws {
        let email = try AccountInput.email(rawEmail)
        try await limiter.hit("reset:peer:\(peer)", limit: limits.resetPerPeer, what: "reset requests from this address")
        try await limiter.hit("reset:account:\(email)", limit: limits.resetPerAccount, what: "reset requests for this account")
        let code = String(format: "%08d", UInt32.random(in: 0..<100_000_000))
        let hash = try await hasher.hash(code)
        guard let (user, _) = try await users.findWithPassword(email: email), !user.disabled else { return }
        try await resetCodes.store(userID: user.id, hash: hash, lifetime: Self.resetCodeLifetime)
        let message = MailMessage(
            to: user.email, subject: "Your PhotoVault reset code",
            body: """
                Hello \(user.name),

                Your PhotoVault password reset code is \(code).

                It works once, for 15 minutes. If you did not ask to reset your password, ignore
                this message: your password stays as it is.
                """)
        let mailer = self.mailer, logger = self.logger
        Task.detached {
            do {
                try await mailer.send(message)
                logger.info("reset code sent", metadata: ["user_id": "\(user.id)"])
            } catch {
                logger.error("reset code e-mail failed", metadata: ["user_id": "\(user.id)", "error": "\(error)"])
            }
        }
    }

    /// Sets a new password with a reset code and ends every session of the account.
    public func resetPassword(email rawEmail: String, code: String, newPassword: String) async throws {
        let email = try AccountInput.email(rawEmail)
        guard code.count == 8, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw APIError.invalid("code", "must be the 8 digits from the e-mail")
        }
        try AccountInput.newPassword(newPassword, field: "new_password", email: email)
        guard let (user, _) = try await users.findWithPassword(email: email),
            let entry = try await resetCodes.claimAttempt(userID: user.id)
        else {
            await hasher.verifyDecoy(code)
            throw AuthError.wrongResetCode
        }
        guard !entry.expired, entry.attempts < Self.resetCodeAttempts, await hasher.verify(code, against: entry.hash) else {
            throw AuthError.wrongResetCode
        }
        let hash = try await hasher.hash(newPassword)
        try await users.database.transaction { transaction in
            try await users.setPassword(in: transaction, id: user.id, hash: hash)
            try await resetCodes.delete(userID: user.id, in: transaction)
            try await sessions.revokeAll(userID: user.id, reason: "password reset", in: transaction)
        }
        await authenticator.forget(userID: user.id)
        logger.info("password reset", metadata: ["user_id": "\(user.id)"])
    }

    /// Changes the caller's password, ends every session, and signs the caller in afresh.
    public func changePassword(caller: Caller, current: String, new: String, peer: String) async throws -> TokenPair {
        try AccountInput.presentedPassword(current, field: "current_password")
        guard let user = try await users.find(id: caller.userID), let hash = try await users.passwordHash(id: caller.userID) else {
            throw AuthError.badToken("belongs to a deleted account")
        }
        try AccountInput.newPassword(new, field: "new_password", email: user.email)
        try await limiter.hit("login:account:\(user.email)", limit: limits.loginPerAccount, what: "password attempts for this account")
        guard await hasher.verify(current, against: hash) else {
            throw APIError.invalid("current_password", "is wrong")
        }
        let newHash = try await hasher.hash(new)
        try await users.database.transaction { transaction in
            try await users.setPassword(in: transaction, id: user.id, hash: newHash)
            try await sessions.revokeAll(userID: user.id, reason: "password changed", in: transaction)
        }
        await authenticator.forget(userID: user.id)
        return try await openSession(for: user, peer: peer)
    }

    private func openSession(for user: User, peer: String) async throws -> TokenPair {
        try await tokens(for: user, session: try await sessions.create(userID: user.id, peer: peer, lifetime: refreshLifetime))
    }

    private func tokens(for user: User, session: (sessionID: UUID, token: String, expires: Date)) async throws -> TokenPair {
        let access = try await issuer.issue(userID: user.id, sessionID: session.sessionID, role: user.role)
        return TokenPair(
            accessToken: access.token, accessExpires: access.expires, refreshToken: session.token,
            refreshExpires: session.expires, user: user)
    }
}
