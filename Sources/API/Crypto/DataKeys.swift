import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Every user's data keys: random 256-bit keys that seal their blobs, stored only wrapped
/// (AES-256-GCM) by a master key, unwrapped on first use and then kept in memory.
///
/// Rotating the master key re-wraps these keys and touches no blob. Deleting a user deletes
/// their keys (the rows cascade), which leaves their blobs unreadable: crypto-shredding.
public final class DataKeys: Sendable {
    let database: Database
    public let master: MasterKeys
    private let cache = Mutex<[CacheKey: SymmetricKey]>([:])

    private struct CacheKey: Hashable {
        var owner: UUID
        var version: UInt32
    }

    public init(database: Database, master: MasterKeys) {
        self.database = database
        self.master = master
    }

    /// The key new blobs of `owner` are sealed with, created on first use.
    public func current(owner: UUID) async throws -> (version: UInt32, key: SymmetricKey) {
        if let cached = cache.withLock({ $0.filter { $0.key.owner == owner }.max { $0.key.version < $1.key.version } }) {
            return (cached.key.version, cached.value)
        }
        let master = self.master.current
        let fresh = SymmetricKey(size: .bits256)
        let wrapped = try Self.wrap(fresh, owner: owner, version: 1, master: master.key)
        // Two replicas may race to create it: the first insert wins and both read it back.
        try await database.execute("""
            INSERT INTO data_keys (owner_id, version, wrapped_key, master_version)
            VALUES (\(owner), 1, \(Data(wrapped)), \(master.version))
            ON CONFLICT DO NOTHING
            """)
        let row = try await database.row(
            "SELECT version, wrapped_key, master_version FROM data_keys WHERE owner_id = \(owner) ORDER BY version DESC LIMIT 1"
        ) { try $0.decode((Int32, Data, Int32).self) }
        guard let row else { throw BlobCipherError.missingKey(1) }
        let key = try unwrap(Array(row.1), owner: owner, version: UInt32(row.0), masterVersion: Int(row.2))
        cache.withLock { $0[CacheKey(owner: owner, version: UInt32(row.0))] = key }
        return (UInt32(row.0), key)
    }

    /// The key of `version` for `owner`, to open a blob sealed with it.
    public func key(owner: UUID, version: UInt32) async throws -> SymmetricKey {
        if let key = cache.withLock({ $0[CacheKey(owner: owner, version: version)] }) { return key }
        let row = try await database.row(
            "SELECT wrapped_key, master_version FROM data_keys WHERE owner_id = \(owner) AND version = \(Int32(version))"
        ) { try $0.decode((Data, Int32).self) }
        guard let row else { throw BlobCipherError.missingKey(version) }
        let key = try unwrap(Array(row.0), owner: owner, version: version, masterVersion: Int(row.1))
        cache.withLock { $0[CacheKey(owner: owner, version: version)] = key }
        return key
    }

    /// Re-wraps every data key still wrapped by an older master key under the current one,
    /// in batches, each batch in its own transaction. Returns how many were re-wrapped.
    public func rewrapAll(logger: Logger) async throws -> Int64 {
        let target = master.current
        var total: Int64 = 0
        while true {
            let batch = try await database.transaction { transaction -> Int in
                let rows = try await transaction.rows("""
                    SELECT owner_id, version, wrapped_key, master_version FROM data_keys
                    WHERE master_version <> \(target.version)
                    ORDER BY owner_id, version LIMIT 500 FOR UPDATE SKIP LOCKED
                    """) { try $0.decode((UUID, Int32, Data, Int32).self) }
                for (owner, version, wrapped, masterVersion) in rows {
                    let key = try self.unwrap(Array(wrapped), owner: owner, version: UInt32(version), masterVersion: Int(masterVersion))
                    let rewrapped = try Self.wrap(key, owner: owner, version: UInt32(version), master: target.key)
                    try await transaction.execute("""
                        UPDATE data_keys SET wrapped_key = \(Data(rewrapped)), master_version = \(target.version), rewrapped_at = now()
                        WHERE owner_id = \(owner) AND version = \(version)
                        """)
                }
                return rows.count
            }
            total += Int64(batch)
            if batch == 0 { break }
            logger.info("re-wrapped data keys", metadata: ["count": "\(total)", "master_version": "\(target.version)"])
        }
        return total
    }

    /// What binds a wrapped key to its owner and version, so a row copied onto another user fails.
    private static func aad(owner: UUID, version: UInt32) -> [UInt8] {
        Array("photovault-data-key|\(owner.uuidString.lowercased())|\(version)".utf8)
    }

    static func wrap(_ key: SymmetricKey, owner: UUID, version: UInt32, master: SymmetricKey) throws -> [UInt8] {
        let box = try key.withUnsafeBytes { bytes in
            try AES.GCM.seal(Array(bytes), using: master, authenticating: aad(owner: owner, version: version))
        }
        guard let combined = box.combined else { throw BlobCipherError.corrupt("a data key could not be wrapped") }
        return Array(combined)
    }

    func unwrap(_ wrapped: [UInt8], owner: UUID, version: UInt32, masterVersion: Int) throws -> SymmetricKey {
        let masterKey = try master.key(version: masterVersion)
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return SymmetricKey(data: try AES.GCM.open(box, using: masterKey, authenticating: Self.aad(owner: owner, version: version)))
        } catch {
            throw MasterKeyError.malformed(
                "master key version \(masterVersion)", "it does not open the data key of user \(owner); is this the right key file?")
        }
    }
}
