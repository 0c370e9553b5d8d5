import Crypto
import Foundation

/// The HMAC keys that sign and check access tokens, each with a key id (`kid`).
///
/// The first key signs; all of them verify. To rotate: put a new key first, keep the old
/// one until the tokens it signed have expired (one access-token lifetime), then drop it.
public struct SigningKeys: Sendable {
    /// One HMAC secret and the `kid` that names it in token headers.
    public struct Key: Sendable {
        public let id: String
        public let secret: [UInt8]
    }

    public let keys: [Key]

    /// jwt-kit traps on shorter HMAC keys; 32 bytes is also SHA-256's block strength.
    static let minimumSecretBytes = 32

    public var signing: Key { keys[0] }

    /// Parses `kid:base64secret,kid:base64secret` (also one pair per line, `kid base64secret`).
    public static func parse(pairs text: String) throws -> SigningKeys {
        var keys: [Key] = []
        let entries = text.split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        for entry in entries {
            let parts = entry.split(maxSplits: 1, whereSeparator: { $0 == ":" || $0 == " " }).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
                parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            else {
                throw APIConfig.Problem(description: "JWT keys must be 'kid:base64secret' pairs with a short alphanumeric kid.")
            }
            guard let secret = Data(base64Encoded: parts[1]), secret.count >= minimumSecretBytes else {
                throw APIConfig.Problem(description: "JWT key '\(parts[0])' must be base64 of at least \(minimumSecretBytes) random bytes.")
            }
            guard !keys.contains(where: { $0.id == parts[0] }) else {
                throw APIConfig.Problem(description: "JWT key id '\(parts[0])' appears twice.")
            }
            keys.append(Key(id: parts[0], secret: Array(secret)))
        }
        guard !keys.isEmpty else { throw APIConfig.Problem(description: "No JWT key was given.") }
        return SigningKeys(keys: keys)
    }

    /// Reads the key file, creating it (mode 0600, one fresh random key) when it does not exist.
    public static func loadOrCreate(file: URL) throws -> (keys: SigningKeys, created: Bool) {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: file.path) {
            let text = try String(contentsOf: file, encoding: .utf8)
            return (try parse(pairs: text), false)
        }
        try fileManager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let kid = "k" + String(Int(Date().timeIntervalSince1970))
        let text = "# PhotoVault access-token signing keys: 'kid base64secret', the first one signs.\n\(kid) \(secret.base64EncodedString())\n"
        guard fileManager.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw APIConfig.Problem(description: "Cannot create the JWT key file \(file.path).")
        }
        return (try parse(pairs: text), true)
    }
}
