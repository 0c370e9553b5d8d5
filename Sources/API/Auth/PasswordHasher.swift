import CArgon2
import Dispatch
import Foundation

/// Argon2id cost settings.
public struct Argon2Parameters: Sendable, Equatable {
    /// Memory in KiB.
    public var memoryKiB: Int
    public var iterations: Int
    public var parallelism: Int

    /// OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane.
    public static let owasp = Argon2Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)
}

/// Hashes and checks secrets (passwords, reset codes) with Argon2id, as PHC strings.
///
/// The work runs on Dispatch threads, at most `maximumConcurrent` at a time, so a burst of
/// logins neither stalls the async runtime nor takes `memory × burst` of RAM.
public struct PasswordHasher: Sendable {
    public let parameters: Argon2Parameters
    private let gate: DispatchSemaphore
    /// A hash of a random secret, checked against when an account does not exist so that
    /// an unknown e-mail costs the same time as a wrong password.
    private let decoy: String

    public init(parameters: Argon2Parameters, maximumConcurrent: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)) {
        self.parameters = parameters
        self.gate = DispatchSemaphore(value: maximumConcurrent)
        self.decoy = (try? Self.hashNow(UUID().uuidString, parameters: parameters)) ?? ""
    }

    /// The PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of a secret with a fresh salt.
    public func hash(_ secret: String) async throws -> String {
        let parameters = self.parameters
        return try await offload { try Self.hashNow(secret, parameters: parameters) }
    }

    /// Whether `secret` matches the PHC string. A malformed string is a mismatch.
    public func verify(_ secret: String, against phc: String) async -> Bool {
        (try? await offload { Self.verifyNow(secret, phc) }) ?? false
    }

    /// Spends the time of one verification without an account, so timing reveals nothing.
    public func verifyDecoy(_ secret: String) async {
        _ = await verify(secret, against: decoy)
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let gate = self.gate
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                gate.wait()
                defer { gate.signal() }
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Failure of libargon2 itself (out of memory, bad parameters).
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func hashNow(_ secret: String, parameters: Argon2Parameters) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &generator) }
        let hashLength = 32
        let t = UInt32(parameters.iterations), m = UInt32(parameters.memoryKiB), p = UInt32(parameters.parallelism)
        let encodedLength = argon2_encodedlen(t, m, p, UInt32(salt.count), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let password = Array(secret.utf8)
        let status = argon2id_hash_encoded(
            t, m, p, password, password.count, salt, salt.count, hashLength, &encoded, encodedLength)
        guard status == ARGON2_OK.rawValue else {
            throw Failure(description: "Argon2id failed: \(String(cString: argon2_error_message(status)))")
        }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func verifyNow(_ secret: String, _ phc: String) -> Bool {
        guard phc.hasPrefix("$argon2id$") else { return false }
        let password = Array(secret.utf8)
        return argon2id_verify(phc, password, password.count) == ARGON2_OK.rawValue
    }
}
