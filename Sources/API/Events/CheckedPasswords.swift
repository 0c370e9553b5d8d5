import Crypto
import Foundation
import Synchronization

/// Share-link passwords this replica checked recently, so that a guest opening a gallery of
/// thumbnails costs one Argon2id verification rather than one per image.
///
/// An entry is a SHA-256 over the link, its stored password hash and the password: another
/// link, a wrong password or a link whose password changed never matches. Entries last
/// ``lifetime``; wrong passwords are never remembered, so guessing stays as slow as before.
final class CheckedPasswords: Sendable {
    let lifetime: Duration
    static let capacity = 10_000
    private let entries = Mutex<[Data: ContinuousClock.Instant]>([:])

    init(lifetime: Duration = .seconds(600)) {
        self.lifetime = lifetime
    }

    static func key(link: UUID, passwordHash: String, password: String) -> Data {
        Data(SHA256.hash(data: Data("\(link.uuidString)\u{0}\(passwordHash)\u{0}\(password)".utf8)))
    }

    func contains(_ key: Data) -> Bool {
        entries.withLock { entries in
            guard let until = entries[key] else { return false }
            if until > .now { return true }
            entries[key] = nil
            return false
        }
    }

    func insert(_ key: Data) {
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                let now = ContinuousClock.now
                entries = entries.filter { $0.value > now }
                // Still full of live entries (a flood of links): start over rather than grow.
                if entries.count >= Self.capacity { entries.removeAll() }
            }
            entries[key] = .now + lifetime
        }
    }
}
