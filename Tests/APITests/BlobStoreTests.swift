import Crypto
import Foundation
import Testing
@testable import API

/// The two blob stores every shared test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case local, s3
    var testDescription: String { rawValue }
}

/// Builds a fresh, empty store of `kind` for one test and removes it afterwards.
///
/// The S3 store gets its own bucket on the shared moto server, with a small multipart
/// threshold (6 MiB, parts of 5 MiB) so the large-object test exercises multipart uploads.
func withStore<T: Sendable>(_ kind: StoreKind, keyPrefix: String = "", _ body: (any BlobStore, URL) async throws -> T) async throws -> T {
    let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-blobstore-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    switch kind {
    case .local:
        let store = try LocalBlobStore(root: scratch.appendingPathComponent("store"))
        return try await body(store, scratch)
    case .s3:
        let configuration = try await MotoServer.shared.freshBucket(multipartThreshold: 6 << 20, partSize: 5 << 20, keyPrefix: keyPrefix)
        let store = S3BlobStore(configuration: configuration)
        do {
            let result = try await body(store, scratch)
            try await store.shutdown()
            return result
        } catch {
            try? await store.shutdown()
            throw error
        }
    }
}

/// Deterministic bytes that differ per seed, so a misplaced range or a mixed-up key shows.
func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { raw in
        var index = 0
        while index < raw.count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<8 where index < raw.count {
                raw[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
    return bytes
}

/// Writes `bytes` to a new file under `folder`.
func makeFile(_ bytes: [UInt8], in folder: URL, name: String = UUID().uuidString) throws -> URL {
    let file = folder.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    return file
}

@Suite("Blob stores (local files and S3)")
struct BlobStoreTests {
    @Test("stored bytes read back whole, with their size", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            let bytes = pattern(10_000, seed: 1)
            try await store.put("originals/owner-1/image-1", bytes: bytes)
            #expect(try await store.read("originals/owner-1/image-1", offset: 0, length: bytes.count) == bytes)
            #expect(try await store.size(of: "originals/owner-1/image-1") == Int64(bytes.count))
        }
    }

    @Test("an empty object exists, with size 0 and no bytes", arguments: StoreKind.allCases)
    func emptyObject(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            try await store.put("empty", bytes: [])
            #expect(try await store.size(of: "empty") == 0)
            #expect(try await store.read("empty", offset: 0, length: 10) == [])
            #expect(try await store.list(prefix: "") == ["empty"])
        }
    }

    @Test("range reads return exactly the asked bytes, fewer at the end, none past it", arguments: StoreKind.allCases)
    func rangeReads(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            let bytes = pattern(1000, seed: 2)
            try await store.put("derivatives/a/thumb", bytes: bytes)
            #expect(try await store.read("derivatives/a/thumb", offset: 0, length: 10) == Array(bytes[0..<10]))
            #expect(try await store.read("derivatives/a/thumb", offset: 500, length: 37) == Array(bytes[500..<537]))
            #expect(try await store.read("derivatives/a/thumb", offset: 990, length: 10) == Array(bytes[990..<1000]))
            #expect(try await store.read("derivatives/a/thumb", offset: 995, length: 10) == Array(bytes[995..<1000]))
            #expect(try await store.read("derivatives/a/thumb", offset: 10, length: 5000) == Array(bytes[10...]))
            #expect(try await store.read("derivatives/a/thumb", offset: 999, length: 1) == [bytes[999]])
            #expect(try await store.read("derivatives/a/thumb", offset: 1000, length: 10) == [])
            #expect(try await store.read("derivatives/a/thumb", offset: 5000, length: 10) == [])
            #expect(try await store.read("derivatives/a/thumb", offset: 3, length: 0) == [])
            #expect(try await store.read("derivatives/a/thumb", offset: 0, length: Int.max) == bytes)
        }
    }

    @Test("an absent object has no size and cannot be read or downloaded", arguments: StoreKind.allCases)
    func absentObject(kind: StoreKind) async throws {
        try await withStore(kind) { (store, scratch) async throws in
            #expect(try await store.size(of: "originals/nobody/nothing") == nil)
            await #expect(throws: BlobStoreError.notFound("originals/nobody/nothing")) {
                try await store.read("originals/nobody/nothing", offset: 0, length: 10)
            }
            await #expect(throws: BlobStoreError.notFound("originals/nobody/nothing")) {
                try await store.read("originals/nobody/nothing", offset: 0, length: 0)
            }
            let destination = scratch.appendingPathComponent("download")
            await #expect(throws: BlobStoreError.notFound("originals/nobody/nothing")) {
                try await store.download("originals/nobody/nothing", to: destination)
            }
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test("storing again replaces the whole object, a shorter one included", arguments: StoreKind.allCases)
    func overwrite(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            try await store.put("uploads/session-1", bytes: pattern(5000, seed: 3))
            let replacement = pattern(100, seed: 4)
            try await store.put("uploads/session-1", bytes: replacement)
            #expect(try await store.size(of: "uploads/session-1") == 100)
            #expect(try await store.read("uploads/session-1", offset: 0, length: 5000) == replacement)
            #expect(try await store.list(prefix: "uploads/") == ["uploads/session-1"])
        }
    }

    @Test("a deleted object is gone; deleting an absent one succeeds", arguments: StoreKind.allCases)
    func delete(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            try await store.put("originals/o/i", bytes: pattern(10, seed: 5))
            try await store.put("originals/o/j", bytes: pattern(10, seed: 6))
            try await store.delete("originals/o/i")
            #expect(try await store.size(of: "originals/o/i") == nil)
            await #expect(throws: BlobStoreError.notFound("originals/o/i")) { try await store.read("originals/o/i", offset: 0, length: 1) }
            #expect(try await store.list(prefix: "originals/") == ["originals/o/j"])
            try await store.delete("originals/o/i")
            try await store.delete("never/stored")
            #expect(try await store.read("originals/o/j", offset: 0, length: 10) == pattern(10, seed: 6))
        }
    }

    @Test("listing returns exactly the keys under a prefix, nested ones included", arguments: StoreKind.allCases)
    func listByPrefix(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            let keys = [
                "originals/u1/a", "originals/u1/b", "originals/u1/albums/c.jpg", "originals/u2/d", "originals-old/e",
                "derivatives/u1/a", "uploads/x",
            ]
            for (index, key) in keys.enumerated() { try await store.put(key, bytes: pattern(16, seed: UInt64(index))) }
            #expect(Set(try await store.list(prefix: "originals/u1/")) == ["originals/u1/a", "originals/u1/b", "originals/u1/albums/c.jpg"])
            #expect(try await store.list(prefix: "originals/u1/").count == 3)
            #expect(Set(try await store.list(prefix: "originals/")) == ["originals/u1/a", "originals/u1/b", "originals/u1/albums/c.jpg", "originals/u2/d"])
            #expect(Set(try await store.list(prefix: "originals")) == Set(keys.filter { $0.hasPrefix("originals") }))
            #expect(Set(try await store.list(prefix: "")) == Set(keys))
            #expect(try await store.list(prefix: "nothing/") == [])
            // A prefix is a string prefix, not a folder: "a" also matches "albums/...".
            #expect(Set(try await store.list(prefix: "originals/u1/a")) == ["originals/u1/a", "originals/u1/albums/c.jpg"])
            #expect(try await store.list(prefix: "originals/u1/b") == ["originals/u1/b"])
        }
    }

    @Test("listing follows S3's pages past 1,000 keys", arguments: [StoreKind.s3])
    func listManyKeys(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            let keys = (0..<1005).map { "derivatives/page/\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: keys.count, by: 126) {
                    group.addTask { for key in keys[chunk..<min(chunk + 126, keys.count)] { try await store.put(key, bytes: [1]) } }
                }
                try await group.waitForAll()
            }
            try await store.put("other/1", bytes: [1])
            let listed = try await store.list(prefix: "derivatives/")
            #expect(listed.count == 1005)
            #expect(Set(listed) == Set(keys))
        }
    }

    @Test("invalid keys are refused by every operation", arguments: StoreKind.allCases)
    func invalidKeys(kind: StoreKind) async throws {
        try await withStore(kind) { (store, scratch) async throws in
            let invalid = ["../x", "/abs", "a//b", "", "with space", String(repeating: "a", count: 600), "a/./b", "a/../b", "trailing/", "ü", "a~b"]
            for key in invalid {
                await #expect(throws: BlobStoreError.invalidKey(key)) { try await store.put(key, bytes: [1]) }
                await #expect(throws: BlobStoreError.invalidKey(key)) { try await store.read(key, offset: 0, length: 1) }
                await #expect(throws: BlobStoreError.invalidKey(key)) { try await store.size(of: key) }
                await #expect(throws: BlobStoreError.invalidKey(key)) { try await store.delete(key) }
                await #expect(throws: BlobStoreError.invalidKey(key)) {
                    try await store.download(key, to: scratch.appendingPathComponent("d"))
                }
                let file = try makeFile([1, 2, 3], in: scratch)
                await #expect(throws: BlobStoreError.invalidKey(key)) { try await store.put(key, movingFile: file) }
                #expect(!FileManager.default.fileExists(atPath: file.path), "the refused file must still be taken away")
            }
            #expect(try await store.list(prefix: "") == [])
        }
    }

    @Test("the longest valid key (512 characters) is stored, read and listed", arguments: StoreKind.allCases)
    func longestKey(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            let key = "originals/" + (0..<51).map { "segment-\($0 % 10)." }.joined().prefix(502)
            #expect(key.utf8.count == 512)
            let bytes = pattern(300, seed: 7)
            try await store.put(key, bytes: bytes)
            #expect(try await store.read(key, offset: 0, length: 300) == bytes)
            #expect(try await store.list(prefix: "originals/") == [key])
            try await store.delete(key)
            #expect(try await store.size(of: key) == nil)
            #expect(try await store.list(prefix: "") == [])
        }
    }

    @Test("storing a file takes the file away", arguments: StoreKind.allCases)
    func putMovingFile(kind: StoreKind) async throws {
        try await withStore(kind) { (store, scratch) async throws in
            let bytes = pattern(70_000, seed: 8)
            let file = try makeFile(bytes, in: scratch)
            try await store.put("originals/o/moved", movingFile: file)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await store.read("originals/o/moved", offset: 0, length: bytes.count) == bytes)

            let missing = scratch.appendingPathComponent("does-not-exist")
            await #expect(throws: BlobStoreError.self) { try await store.put("originals/o/missing", movingFile: missing) }
            #expect(try await store.size(of: "originals/o/missing") == nil)
        }
    }

    @Test("a 40 MiB object round-trips byte for byte, through a multipart upload on S3", arguments: StoreKind.allCases)
    func largeObject(kind: StoreKind) async throws {
        try await withStore(kind) { (store, scratch) async throws in
            let bytes = pattern(40 << 20, seed: 9)
            let file = try makeFile(bytes, in: scratch)
            try await store.put("originals/o/large", movingFile: file)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await store.size(of: "originals/o/large") == Int64(bytes.count))

            // Across the first part boundary (5 MiB) and at the very end.
            let boundary = 5 << 20
            #expect(try await store.read("originals/o/large", offset: Int64(boundary - 10), length: 20) == Array(bytes[(boundary - 10)..<(boundary + 10)]))
            #expect(try await store.read("originals/o/large", offset: Int64(bytes.count - 3), length: 10) == Array(bytes[(bytes.count - 3)...]))

            let destination = scratch.appendingPathComponent("downloaded")
            try Data("stale contents".utf8).write(to: destination)
            try await store.download("originals/o/large", to: destination)
            let downloaded = try Data(contentsOf: destination)
            #expect(downloaded.count == bytes.count)
            #expect(SHA256.hash(data: downloaded) == SHA256.hash(data: bytes))
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".tmp") } == [])
        }
    }

    @Test("eight concurrent writers and readers of different keys each get their own bytes", arguments: StoreKind.allCases)
    func concurrentPutsAndReads(kind: StoreKind) async throws {
        try await withStore(kind) { (store, _) async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let key = "originals/owner-\(index)/image"
                        let bytes = pattern(200_000 + index, seed: UInt64(100 + index))
                        try await store.put(key, bytes: bytes)
                        let back = try await store.read(key, offset: 0, length: bytes.count + 10)
                        #expect(back == bytes, "key \(key)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.list(prefix: "originals/").count == 8)
        }
    }
}

@Suite("Local blob store")
struct LocalBlobStoreTests {
    @Test("no temporary file remains after stores, moves and deletes")
    func noTemporaryFilesRemain() async throws {
        try await withStore(.local) { (store, scratch) async throws in
            let local = try #require(store as? LocalBlobStore)
            try await local.put("a/b", bytes: pattern(100, seed: 1))
            try await local.put("a/b", bytes: pattern(50, seed: 2))
            try await local.put("a/c", movingFile: try makeFile(pattern(10, seed: 3), in: scratch))
            await #expect(throws: BlobStoreError.invalidKey("../bad")) { try await local.put("../bad", bytes: [1]) }
            try await local.download("a/b", to: scratch.appendingPathComponent("copy"))
            try await local.delete("a/c")
            #expect(try FileManager.default.contentsOfDirectory(atPath: local.temporaryFolder.path) == [])
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["copy", "store"])
        }
    }

    @Test("objects lie in folders named by their key's SHA-256, under a decodable name")
    func shardedLayout() async throws {
        try await withStore(.local) { (store, _) async throws in
            let local = try #require(store as? LocalBlobStore)
            let key = "originals/owner-7/image-9"
            try await local.put(key, bytes: [1, 2, 3])
            let hex = SHA256.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined()
            let file = local.root.appendingPathComponent("objects")
                .appendingPathComponent(String(hex.prefix(2)))
                .appendingPathComponent(String(hex.dropFirst(2).prefix(2)))
                .appendingPathComponent("originals~owner-7~image-9")
            #expect(try Data(contentsOf: file) == Data([1, 2, 3]))
        }
    }

    @Test("a file from another filesystem is copied in, and still taken away")
    func moveAcrossFilesystems() async throws {
        let shm = URL(fileURLWithPath: "/dev/shm")
        var shmStatus = stat()
        var tmpStatus = stat()
        guard stat(shm.path, &shmStatus) == 0, stat(NSTemporaryDirectory(), &tmpStatus) == 0, shmStatus.st_dev != tmpStatus.st_dev else {
            return  // No second filesystem here; the same-filesystem path is covered by the shared suite.
        }
        try await withStore(.local) { (store, _) async throws in
            let bytes = pattern(3 << 20, seed: 11)
            let file = try makeFile(bytes, in: shm, name: "photovault-test-\(UUID().uuidString)")
            try await store.put("originals/o/from-shm", movingFile: file)
            #expect(!FileManager.default.fileExists(atPath: file.path))
            #expect(try await store.read("originals/o/from-shm", offset: 0, length: bytes.count) == bytes)
            let local = try #require(store as? LocalBlobStore)
            #expect(try FileManager.default.contentsOfDirectory(atPath: local.temporaryFolder.path) == [])
        }
    }
}

@Suite("S3 blob store")
struct S3BlobStoreTests {
    @Test("a wrong secret key is refused with a sentence naming the status and S3's code")
    func wrongSecret() async throws {
        var configuration = try await MotoServer.shared.freshBucket(multipartThreshold: 6 << 20, partSize: 5 << 20)
        configuration.secretAccessKey = "not-the-secret"
        let store = S3BlobStore(configuration: configuration)
        let error = await #expect(throws: BlobStoreError.self) { try await store.put("originals/o/i", bytes: [1, 2, 3]) }
        await #expect(throws: BlobStoreError.self) { try await store.size(of: "originals/o/i") }
        try await store.shutdown()
        guard case .unavailable(let sentence)? = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains("S3"))
        #expect(sentence.contains("403"))
        #expect(sentence.contains("SignatureDoesNotMatch"))
        #expect(sentence.contains(configuration.bucket))
        #expect(!sentence.contains("not-the-secret"))
    }

    @Test("an unreachable endpoint fails as unavailable, naming the endpoint")
    func unreachableEndpoint() async throws {
        let port = try closedPort()
        let configuration = S3Configuration(
            endpoint: URL(string: "http://127.0.0.1:\(port)")!, region: "us-east-1", bucket: "photovault",
            accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret", connectTimeout: .seconds(2))
        let store = S3BlobStore(configuration: configuration)
        let error = await #expect(throws: BlobStoreError.self) { try await store.read("originals/o/i", offset: 0, length: 10) }
        try await store.shutdown()
        guard case .unavailable(let sentence)? = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(sentence.contains("127.0.0.1:\(port)"))
    }

    @Test("a key prefix keeps the store's objects apart inside a shared bucket")
    func keyPrefix() async throws {
        let configuration = try await MotoServer.shared.freshBucket(multipartThreshold: 6 << 20, partSize: 5 << 20, keyPrefix: "photovault/")
        var unprefixed = configuration
        unprefixed.keyPrefix = ""
        let store = S3BlobStore(configuration: configuration)
        let whole = S3BlobStore(configuration: unprefixed)
        do {
            try await store.put("originals/o/i", bytes: [4, 5, 6])
            try await whole.put("unrelated", bytes: [7])
            #expect(try await store.list(prefix: "") == ["originals/o/i"])
            #expect(Set(try await whole.list(prefix: "")) == ["photovault/originals/o/i", "unrelated"])
            #expect(try await whole.read("photovault/originals/o/i", offset: 0, length: 10) == [4, 5, 6])
        } catch {
            try? await store.shutdown()
            try? await whole.shutdown()
            throw error
        }
        try await store.shutdown()
        try await whole.shutdown()
    }

    @Test("the configuration's description hides the secret and the session token")
    func configurationHidesSecrets() {
        let configuration = S3Configuration(
            endpoint: URL(string: "https://s3.eu-west-1.amazonaws.com")!, region: "eu-west-1", bucket: "b",
            accessKeyID: "AKIAEXAMPLE", secretAccessKey: "very-secret", sessionToken: "token-secret")
        #expect(!"\(configuration)".contains("secret-"))
        #expect(!"\(configuration)".contains("very-secret"))
        #expect(!"\(configuration)".contains("token-secret"))
        #expect("\(configuration)".contains("AKIAEXAMPLE"))
    }

    /// A loopback port nothing listens on: bound, then released.
    func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

@Suite("AWS Signature V4")
struct AWSSignatureV4Tests {
    /// The GetObject example of the S3 documentation ("Examples: Signature Calculations"):
    /// GET /test.txt with `Range: bytes=0-9` on examplebucket, 24 May 2013.
    @Test("matches the S3 documentation's GetObject example")
    func s3GetObjectExample() {
        let signer = AWSSignatureV4(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "s3")
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
        let headers = signer.sign(
            method: "GET", canonicalURI: "/test.txt", query: [],
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
            payloadHash: AWSSignatureV4.emptyPayloadHash, date: date)
        let canonical = signer.canonicalRequest(
            method: "GET", canonicalURI: "/test.txt", query: [],
            headers: headers.filter { $0.0 != "Authorization" }, payloadHash: AWSSignatureV4.emptyPayloadHash)
        #expect(
            AWSSignatureV4.stringToSign(canonicalRequest: canonical.request, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request")
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
        #expect(headers.contains { $0 == ("x-amz-content-sha256", AWSSignatureV4.emptyPayloadHash) })
    }

    /// "get-vanilla-query-order-key-case" of AWS's SigV4 test suite: query parameters are
    /// signed sorted, whatever order the request has.
    @Test("matches the test suite's get-vanilla-query-order-key-case")
    func vanillaQueryOrder() {
        let signer = AWSSignatureV4(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "service")
        let authorization = signer.authorization(
            method: "GET", canonicalURI: "/", query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: AWSSignatureV4.emptyPayloadHash, amzDate: "20150830T123600Z")
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test("query values are percent-encoded the one way SigV4 accepts")
    func uriEncoding() {
        #expect(AWSSignatureV4.uriEncode("a b+c/d~e_f.g-h") == "a%20b%2Bc%2Fd~e_f.g-h")
        #expect(AWSSignatureV4.uriEncode("originals/o/i", keepingSlash: true) == "originals/o/i")
        #expect(AWSSignatureV4.uriEncode("é") == "%C3%A9")
    }
}

@Suite("S3 blob store failures (scripted endpoint)")
struct S3FailureTests {
    /// Runs `body` with a store against a server answering from `script` (small multipart
    /// sizes, three attempts per idempotent call), and stops both even when `body` throws.
    func withScriptedStore(
        _ script: @escaping @Sendable (ScriptedS3.Seen, Int) -> ScriptedS3.Answer,
        _ body: (S3BlobStore, ScriptedS3) async throws -> Void
    ) async throws {
        let server = try await ScriptedS3(script)
        let store = S3BlobStore(configuration: S3Configuration(
            endpoint: URL(string: "http://127.0.0.1:\(server.port)")!, region: "us-east-1", bucket: "photos",
            accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret", multipartThreshold: 6 << 20, partSize: 5 << 20, maxAttempts: 3))
        do {
            try await body(store, server)
        } catch {
            try? await store.shutdown()
            try? await server.stop()
            throw error
        }
        try await store.shutdown()
        try await server.stop()
    }

    @Test("a 503 is retried and the later success counts")
    func transientFailureRetried() async throws {
        try await withScriptedStore({ _, index in
            index < 2 ? .error(.serviceUnavailable, code: "SlowDown", message: "Please reduce your request rate.") : .init(status: .ok)
        }) { store, server in
            try await store.put("originals/o/i", bytes: [1, 2, 3])
            #expect(server.requests.map(\.method) == [.PUT, .PUT, .PUT])
            #expect(server.requests.allSatisfy { $0.bodyLength == 3 && $0.uri == "/photos/originals/o/i" })
        }
    }

    @Test("a lasting 500 becomes unavailable after the last attempt, with status and S3's code")
    func persistentFailure() async throws {
        try await withScriptedStore({ _, _ in
            .error(.internalServerError, code: "InternalError", message: "We encountered an internal error.")
        }) { store, server in
            let error = await #expect(throws: BlobStoreError.self) { try await store.read("originals/o/i", offset: 0, length: 10) }
            guard case .unavailable(let sentence)? = error else {
                Issue.record("expected .unavailable, got \(String(describing: error))")
                return
            }
            #expect(sentence.contains("read 'originals/o/i'"))
            #expect(sentence.contains("HTTP 500 InternalError: We encountered an internal error."))
            #expect(sentence.contains("'photos'"))
            #expect(server.requests.count == 3)
        }
    }

    @Test("starting a multipart upload is not retried, since it is not idempotent")
    func createMultipartNotRetried() async throws {
        let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-scripted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await withScriptedStore({ _, _ in .error(.serviceUnavailable, code: "SlowDown", message: "Slow down.") }) { store, server in
            let file = try makeFile(pattern(7 << 20, seed: 1), in: scratch)
            await #expect(throws: BlobStoreError.self) { try await store.put("originals/o/big", movingFile: file) }
            #expect(server.requests.map(\.method) == [.POST])
            #expect(!FileManager.default.fileExists(atPath: file.path))
        }
    }

    @Test("a failed part, or a completion that reports an error, aborts the multipart upload", arguments: ["part", "complete"])
    func failedMultipartAborted(failing step: String) async throws {
        let script: @Sendable (ScriptedS3.Seen, Int) -> ScriptedS3.Answer = { seen, _ in
            let initiated = "<InitiateMultipartUploadResult><Bucket>photos</Bucket><Key>originals/o/big</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>"
            switch (seen.method, seen.uri) {
            case (.POST, let uri) where uri.hasSuffix("?uploads="):
                return .init(status: .ok, body: initiated)
            case (.PUT, let uri) where uri.contains("partNumber=2") && step == "part":
                return .error(.badRequest, code: "InvalidArgument", message: "Part refused.")
            case (.PUT, let uri) where uri.contains("partNumber="):
                return .init(status: .ok, headers: [("ETag", "\"etag-\(seen.bodyLength)\"")])
            case (.POST, _):
                // S3 may report a failed completion with status 200 and an <Error> body.
                return .init(status: .ok, body: "<Error><Code>InternalError</Code><Message>Completion failed.</Message></Error>")
            case (.DELETE, _):
                return .init(status: .noContent)
            default:
                return .error(.badRequest, code: "Unexpected", message: "\(seen.method) \(seen.uri)")
            }
        }
        let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-scripted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = try makeFile(pattern(12 << 20, seed: 2), in: scratch)
        var requests: [ScriptedS3.Seen] = []
        var error: BlobStoreError?
        try await withScriptedStore(script) { store, server in
            error = await #expect(throws: BlobStoreError.self) { try await store.put("originals/o/big", movingFile: file) }
            requests = server.requests
        }
        #expect(!FileManager.default.fileExists(atPath: file.path))
        guard case .unavailable(let sentence)? = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(requests.last?.method == .DELETE)
        #expect(requests.last?.uri == "/photos/originals/o/big?uploadId=upload-1")
        if step == "part" {
            #expect(sentence.contains("upload part 2 of 'originals/o/big'"))
            #expect(sentence.contains("HTTP 400 InvalidArgument"))
            #expect(requests.map(\.method) == [.POST, .PUT, .PUT, .DELETE])
            #expect(requests[1].bodyLength == 5 << 20)
        } else {
            #expect(sentence.contains("complete the multipart upload of 'originals/o/big'"))
            #expect(sentence.contains("InternalError: Completion failed."))
            #expect(requests.map(\.method) == [.POST, .PUT, .PUT, .PUT, .POST, .DELETE])
            #expect(requests.filter { $0.method == .PUT }.map(\.bodyLength) == [5 << 20, 5 << 20, 2 << 20])
        }
    }
}
