// TEMPORARY: replaced by the helper's implementation.
import Foundation
public struct LocalBlobStore: BlobStore {
    public let name = "local"
    let root: URL
    public init(root: URL) throws { self.root = root; try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }
    func path(_ key: String) throws -> URL { try BlobStoreError.validate(key); return root.appendingPathComponent(key.replacingOccurrences(of: "/", with: "~")) }
    public func put(_ key: String, movingFile file: URL) async throws { let p = try path(key); _ = try? FileManager.default.removeItem(at: p); try FileManager.default.moveItem(at: file, to: p) }
    public func put(_ key: String, bytes: [UInt8]) async throws { try Data(bytes).write(to: try path(key), options: .atomic) }
    public func read(_ key: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard let h = try? FileHandle(forReadingFrom: try path(key)) else { throw BlobStoreError.notFound(key) }
        defer { try? h.close() }; try h.seek(toOffset: UInt64(offset)); return Array(try h.read(upToCount: length) ?? Data())
    }
    public func size(of key: String) async throws -> Int64? { (try? FileManager.default.attributesOfItem(atPath: try path(key).path)[.size] as? Int64) ?? nil }
    public func download(_ key: String, to file: URL) async throws { _ = try? FileManager.default.removeItem(at: file); try FileManager.default.copyItem(at: try path(key), to: file) }
    public func delete(_ key: String) async throws { try? FileManager.default.removeItem(at: try path(key)) }
    public func list(prefix: String) async throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: root.path).map { $0.replacingOccurrences(of: "~", with: "/") }.filter { $0.hasPrefix(prefix) } }
}
