import Foundation
import JWTKit

/// The claims of a PhotoVault access token.
struct AccessTokenClaims: JWTPayload {
    /// The user id.
    var sub: SubjectClaim
    /// The sign-in session the token belongs to; revoking it ends the token at once.
    var sid: String
    /// The role when the token was issued (the database stays authoritative).
    var role: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim

    static let issuer = "photovault"

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer") }
    }
}

/// Signs and checks access tokens (HS256 JWTs with a `kid` header).
public struct TokenIssuer: Sendable {
    private let collection: JWTKeyCollection
    private let signingKeyID: JWKIdentifier
    /// jwt-kit falls back to its default key for an unknown `kid`; we refuse such tokens outright.
    private let knownKeyIDs: Set<String>
    let lifetime: Duration

    public init(keys: SigningKeys, lifetime: Duration) async {
        let collection = JWTKeyCollection()
        for key in keys.keys {
            await collection.add(hmac: HMACKey(from: key.secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.id))
        }
        self.collection = collection
        self.signingKeyID = JWKIdentifier(string: keys.signing.id)
        self.knownKeyIDs = Set(keys.keys.map(\.id))
        self.lifetime = lifetime
    }

    /// A signed token for a session, and when it expires.
    func issue(userID: UUID, sessionID: UUID, role: Role, now: Date = Date()) async throws -> (token: String, expires: Date) {
        let expires = now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: userID.uuidString.lowercased()), sid: sessionID.uuidString.lowercased(),
            role: role.rawValue, iat: IssuedAtClaim(value: now), exp: ExpirationClaim(value: expires),
            iss: IssuerClaim(value: AccessTokenClaims.issuer))
        return (try await collection.sign(claims, kid: signingKeyID), expires)
    }

    /// A token's verified claims, or `AuthError.badToken` saying why it cannot be used.
    func verify(_ token: String) async throws -> VerifiedToken {
        guard token.utf8.count <= 4096 else { throw AuthError.badToken("is too long to be one of ours") }
        guard let kid = Self.keyID(of: token) else { throw AuthError.badToken("is malformed") }
        guard knownKeyIDs.contains(kid) else { throw AuthError.badToken("was signed with an unknown key") }
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError {
            switch error.errorType {
            case .claimVerificationFailure:
                if error.failedClaim is ExpirationClaim { throw AuthError.badToken("has expired; refresh it or sign in again") }
                throw AuthError.badToken("has claims that do not verify")
            case .unknownKID: throw AuthError.badToken("was signed with an unknown key")
            case .signatureVerificationFailed: throw AuthError.badToken("has a signature that does not verify")
            default: throw AuthError.badToken("is malformed")
            }
        } catch {
            throw AuthError.badToken("is malformed")
        }
        guard let userID = UUID(uuidString: claims.sub.value), let sessionID = UUID(uuidString: claims.sid) else {
            throw AuthError.badToken("is malformed")
        }
        return VerifiedToken(userID: userID, sessionID: sessionID, role: Role(rawValue: claims.role), expires: claims.exp.value)
    }
}

extension TokenIssuer {
    /// The `kid` of a compact JWS header, read without trusting anything else in the token.
    static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first, header.count <= 512 else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["kid"] as? String
    }
}

/// What a verified access token says.
struct VerifiedToken: Sendable {
    let userID: UUID
    let sessionID: UUID
    let role: Role?
    let expires: Date
}
