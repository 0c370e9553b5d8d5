import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(FoundationXML)
import FoundationXML
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blob store in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, moto), spoken to over
/// HTTP with AWS Signature V4.
///
/// Lifecycle: the store is a value around an `HTTPClient`.
/// - ``init(configuration:httpClient:logger:)`` borrows a client the caller owns and shuts down
///   (in a swift-service-lifecycle app: create the client before the `ServiceGroup`, run the group,
///   then `try await client.shutdown()` after `run()` returns). ``shutdown()`` does nothing then.
/// - ``init(configuration:logger:)`` creates its own client; call ``shutdown()`` once, after the
///   last request (for example after the `ServiceGroup` finished). A client that is never shut
///   down leaks its connections and asserts in debug builds when released.
///
/// Every payload is signed with its real SHA-256 (parts are read into memory one at a time, so
/// the hash is known before sending). Idempotent requests are retried on 5xx answers and
/// connection failures with exponential backoff; creating and completing multipart uploads are not.
public struct S3BlobStore: BlobStore {
    /// Where and how this store reaches its bucket.
    public let configuration: S3Configuration
    private let client: HTTPClient
    private let ownsClient: Bool
    private let logger: Logger
    private let signer: AWSSignatureV4
    private let threadPool: NIOThreadPool

    /// "s3".
    public var name: String { "s3" }

    /// A store that uses `httpClient`, which the caller keeps and shuts down.
    public init(
        configuration: S3Configuration, httpClient: HTTPClient, logger: Logger = Logger(label: "photovault.blobstore.s3"),
        threadPool: NIOThreadPool = .singleton
    ) {
        self.init(configuration: configuration, client: httpClient, ownsClient: false, logger: logger, threadPool: threadPool)
    }

    private init(configuration: S3Configuration, client: HTTPClient, ownsClient: Bool, logger: Logger, threadPool: NIOThreadPool) {
        self.configuration = configuration
        self.client = client
        self.ownsClient = ownsClient
        self.logger = logger
        self.threadPool = threadPool
        self.signer = AWSSignatureV4(
            accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
            sessionToken: configuration.sessionToken, region: configuration.region, service: "s3")
    }

    /// A store with a client of its own; call ``shutdown()`` when done with it.
    ///
    /// The client does not retry failed connections itself (this store retries with its own
    /// backoff), so an unreachable endpoint fails in well under ``S3Configuration/connectTimeout``.
    public init(configuration: S3Configuration, logger: Logger = Logger(label: "photovault.blobstore.s3"), threadPool: NIOThreadPool = .singleton) {
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout), read: .seconds(60))
        )
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        self.init(configuration: configuration, client: client, ownsClient: true, logger: logger, threadPool: threadPool)
    }

    /// Shuts down the client this store created; a no-op for a borrowed client.
    public func shutdown() async throws {
        if ownsClient { try await client.shutdown() }
    }

    // MARK: BlobStore

    /// PutObject for files up to the multipart threshold, a multipart upload above it; the file
    /// is removed afterwards in every case.
    public func put(_ key: String, movingFile file: URL) async throws {
        defer { unlink(file.path) }
        try BlobStoreError.validate(key)
        let path = file.path
        let fileSize: Int64 = try await localFile("store", key) {
            var status = stat()
            guard stat(path, &status) == 0 else { throw POSIXFailure(call: "stat", code: errno) }
            return Int64(status.st_size)
        }
        if fileSize <= configuration.multipartThreshold {
            let bytes = try await readPart(of: path, offset: 0, length: Int(fileSize), key: key)
            try await putObject(key, body: bytes)
        } else {
            try await multipartUpload(key, path: path, fileSize: fileSize)
        }
    }

    /// PutObject with the bytes as the body.
    public func put(_ key: String, bytes: [UInt8]) async throws {
        try BlobStoreError.validate(key)
        try await putObject(key, body: ByteBuffer(bytes: bytes))
    }

    /// GetObject with a `Range` header.
    public func read(_ key: String, offset: Int64, length: Int) async throws -> [UInt8] {
        try BlobStoreError.validate(key)
        guard offset >= 0, length >= 0 else {
            throw BlobStoreError.unavailable("The S3 blob store cannot read a negative range (offset \(offset), length \(length)) of '\(key)'.")
        }
        guard length > 0 else {
            // A range cannot be empty in HTTP; only whether the object exists matters.
            guard try await size(of: key) != nil else { throw BlobStoreError.notFound(key) }
            return []
        }
        let (sum, overflow) = offset.addingReportingOverflow(Int64(length) - 1)
        let last = overflow ? Int64.max - 1 : sum
        let request = S3Request(method: .GET, objectKey: objectKey(key), headers: [("range", "bytes=\(offset)-\(last)")])
        return try await perform(request, operation: "read", key: key) { response in
            switch response.status.code {
            case 206:
                let body = try await response.body.collect(upTo: length)
                return Array(body.readableBytesView)
            case 200:
                // The server ignored the range (allowed by HTTP); skip to it while streaming.
                return try await Self.slice(response.body, offset: offset, length: length)
            case 416:
                return []
            case 404:
                throw BlobStoreError.notFound(key)
            default:
                throw try await Self.statusFailure(response)
            }
        }
    }

    /// HeadObject's `Content-Length`.
    public func size(of key: String) async throws -> Int64? {
        try BlobStoreError.validate(key)
        let request = S3Request(method: .HEAD, objectKey: objectKey(key))
        return try await perform(request, operation: "measure", key: key) { response in
            switch response.status.code {
            case 200:
                guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
                    throw S3StatusFailure(status: 200, code: "MissingContentLength", message: "HEAD answered without a Content-Length")
                }
                return length
            case 404:
                return nil
            default:
                throw try await Self.statusFailure(response)
            }
        }
    }

    /// GetObject streamed into a temporary file beside `file`, renamed over it once complete.
    public func download(_ key: String, to file: URL) async throws {
        try BlobStoreError.validate(key)
        let destination = file.path
        let request = S3Request(method: .GET, objectKey: objectKey(key))
        try await perform(request, operation: "download", key: key) { response in
            switch response.status.code {
            case 200: break
            case 404: throw BlobStoreError.notFound(key)
            default: throw try await Self.statusFailure(response)
            }
            let expected = response.headers.first(name: "content-length").flatMap { Int64($0) }
            try await self.write(response.body, expectedLength: expected, to: destination, key: key)
        }
    }

    /// DeleteObject; S3 answers 204 for absent keys too, and a 404 is taken as done.
    public func delete(_ key: String) async throws {
        try BlobStoreError.validate(key)
        let request = S3Request(method: .DELETE, objectKey: objectKey(key))
        try await perform(request, operation: "delete", key: key) { response in
            guard (200..<300).contains(response.status.code) || response.status.code == 404 else {
                throw try await Self.statusFailure(response)
            }
        }
    }

    /// ListObjectsV2, following continuation tokens until the listing is complete.
    public func list(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var continuation: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", configuration.keyPrefix + prefix)]
            if let continuation { query.append(("continuation-token", continuation)) }
            let request = S3Request(method: .GET, objectKey: nil, query: query)
            let page = try await perform(request, operation: "list", key: prefix) { response in
                guard response.status.code == 200 else { throw try await Self.statusFailure(response) }
                let page = try await S3XML.parse(Self.collect(response.body))
                guard page.name == "ListBucketResult" else {
                    throw S3StatusFailure(status: 200, code: "UnexpectedResponse", message: "the listing answered <\(page.name)>")
                }
                return page
            }
            for contents in page.children(named: "Contents") {
                guard let fullKey = contents.child("Key")?.text, fullKey.hasPrefix(configuration.keyPrefix) else { continue }
                keys.append(String(fullKey.dropFirst(configuration.keyPrefix.count)))
            }
            let truncated = page.child("IsTruncated")?.text == "true"
            continuation = truncated ? page.child("NextContinuationToken")?.text : nil
            if truncated && continuation == nil {
                throw BlobStoreError.unavailable(
                    "The S3 blob store could not list '\(prefix)' in bucket '\(configuration.bucket)': the listing was truncated without a continuation token.")
            }
        } while continuation != nil
        return keys
    }

    /// Creates the bucket unless it exists already (for tests and the first start of a server).
    public func createBucketIfMissing() async throws {
        let exists = try await perform(S3Request(method: .HEAD, objectKey: nil), operation: "check the bucket", key: "") { response in
            switch response.status.code {
            case 200: return true
            case 404: return false
            default: throw try await Self.statusFailure(response)
            }
        }
        if exists { return }
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                    + S3XML.escape(configuration.region) + "</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        let request = S3Request(method: .PUT, objectKey: nil, body: ByteBuffer(bytes: body))
        try await perform(request, operation: "create the bucket", key: "") { response in
            if response.status.code == 200 { return }
            let failure = try await Self.statusFailure(response)
            // A concurrent creation by ourselves is success.
            guard failure.code == "BucketAlreadyOwnedByYou" else { throw failure }
        }
    }

    // MARK: Object operations

    private func putObject(_ key: String, body: ByteBuffer) async throws {
        let request = S3Request(method: .PUT, objectKey: objectKey(key), body: body)
        try await perform(request, operation: "store", key: key) { response in
            guard response.status.code == 200 else { throw try await Self.statusFailure(response) }
            _ = try await Self.collect(response.body)
        }
    }

    /// CreateMultipartUpload, one UploadPart per slice of the file (one part in memory at a
    /// time), CompleteMultipartUpload; AbortMultipartUpload on any failure so no parts linger.
    private func multipartUpload(_ key: String, path: String, fileSize: Int64) async throws {
        let fullKey = objectKey(key)
        let created = S3Request(method: .POST, objectKey: fullKey, query: [("uploads", "")], idempotent: false)
        let uploadID = try await perform(created, operation: "start a multipart upload of", key: key) { response in
            guard response.status.code == 200 else { throw try await Self.statusFailure(response) }
            let result = try await S3XML.parse(Self.collect(response.body))
            guard let id = result.child("UploadId")?.text, !id.isEmpty else {
                throw S3StatusFailure(status: 200, code: "UnexpectedResponse", message: "CreateMultipartUpload answered without an UploadId")
            }
            return id
        }
        do {
            // S3 allows 10,000 parts; bigger files get bigger parts.
            let partSize = max(Int64(max(configuration.partSize, S3Configuration.minimumPartSize)), (fileSize + 9_999) / 10_000)
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < fileSize {
                let length = Int(min(partSize, fileSize - offset))
                let part = try await readPart(of: path, offset: offset, length: length, key: key)
                let partNumber = etags.count + 1
                let request = S3Request(
                    method: .PUT, objectKey: fullKey, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)], body: part)
                let etag = try await perform(request, operation: "upload part \(partNumber) of", key: key) { response in
                    guard response.status.code == 200 else { throw try await Self.statusFailure(response) }
                    _ = try await Self.collect(response.body)
                    guard let etag = response.headers.first(name: "etag") else {
                        throw S3StatusFailure(status: 200, code: "UnexpectedResponse", message: "UploadPart answered without an ETag")
                    }
                    return etag
                }
                etags.append(etag)
                offset += Int64(length)
            }
            var manifest = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for (index, etag) in etags.enumerated() {
                manifest += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
            }
            manifest += "</CompleteMultipartUpload>"
            let complete = S3Request(
                method: .POST, objectKey: fullKey, query: [("uploadId", uploadID)], body: ByteBuffer(string: manifest), idempotent: false)
            try await perform(complete, operation: "complete the multipart upload of", key: key) { response in
                guard response.status.code == 200 else { throw try await Self.statusFailure(response) }
                // S3 may answer 200 and still fail, with an <Error> document in the body.
                let result = try await S3XML.parse(Self.collect(response.body))
                if result.name == "Error" {
                    throw S3StatusFailure(status: 200, code: result.child("Code")?.text, message: result.child("Message")?.text)
                }
            }
        } catch {
            let abort = S3Request(method: .DELETE, objectKey: fullKey, query: [("uploadId", uploadID)])
            // Runs outside the caller's task so a cancelled upload is still aborted.
            await Task {
                do {
                    try await perform(abort, operation: "abort the multipart upload of", key: key) { response in
                        guard (200..<300).contains(response.status.code) || response.status.code == 404 else {
                            throw try await Self.statusFailure(response)
                        }
                    }
                } catch {
                    logger.warning("Could not abort a multipart upload; its parts stay until a lifecycle rule removes them.",
                                   metadata: ["key": "\(key)", "bucket": "\(configuration.bucket)", "error": "\(error)"])
                }
            }.value
            throw error
        }
    }

    // MARK: Requests

    /// One S3 call before signing.
    struct S3Request: Sendable {
        var method: HTTPMethod
        /// The full key inside the bucket (prefix included); nil for calls on the bucket itself.
        var objectKey: String?
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: ByteBuffer?
        /// Whether repeating the call is harmless, so failures may be retried.
        var idempotent = true
    }

    func objectKey(_ key: String) -> String { configuration.keyPrefix + key }

    /// The URL, the `host` header and the canonical path of `request`.
    func address(of request: S3Request) -> (url: String, host: String, canonicalURI: String) {
        let endpoint = configuration.endpoint
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host ?? ""
        if host.contains(":") { host = "[\(host)]" }  // IPv6 literal
        if let port = endpoint.port, !((scheme == "http" && port == 80) || (scheme == "https" && port == 443)) {
            host += ":\(port)"
        }
        var basePath = endpoint.path
        while basePath.hasSuffix("/") { basePath.removeLast() }
        var path = basePath
        if configuration.usePathStyle {
            path += "/" + AWSSignatureV4.uriEncode(configuration.bucket)
        } else {
            host = configuration.bucket + "." + host
        }
        if let key = request.objectKey {
            path += "/" + AWSSignatureV4.uriEncode(key, keepingSlash: true)
        } else if !configuration.usePathStyle {
            path += "/"
        }
        let query = request.query
            .map { AWSSignatureV4.uriEncode($0.0) + "=" + AWSSignatureV4.uriEncode($0.1) }
            .sorted()
            .joined(separator: "&")
        return ("\(scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)", host, path)
    }

    /// Signs and sends `request`, hands the answer to `handle` (which reads the body), and
    /// retries idempotent calls on 5xx and transport failures. Errors leave as ``BlobStoreError``.
    @discardableResult
    private func perform<T: Sendable>(
        _ request: S3Request, operation: String, key: String, _ handle: (HTTPClientResponse) async throws -> T
    ) async throws -> T {
        let payloadHash = request.body.map { AWSSignatureV4.payloadHash($0.readableBytesView) } ?? AWSSignatureV4.emptyPayloadHash
        let (url, host, canonicalURI) = address(of: request)
        var attempt = 1
        while true {
            do {
                var http = HTTPClientRequest(url: url)
                http.method = request.method
                let signed = signer.sign(
                    method: request.method.rawValue, canonicalURI: canonicalURI, query: request.query,
                    headers: [("host", host)] + request.headers, payloadHash: payloadHash, date: Date())
                for (name, value) in signed { http.headers.add(name: name, value: value) }
                if let body = request.body { http.body = .bytes(body) }
                let response = try await client.execute(http, timeout: Self.timeAmount(configuration.requestTimeout), logger: logger)
                if response.status.code >= 500 { throw try await Self.statusFailure(response) }
                return try await handle(response)
            } catch {
                if request.idempotent, attempt < configuration.maxAttempts, Self.isTransient(error) {
                    // 100 ms, 400 ms, ... with jitter, so retries of many clients spread out.
                    let delay = Double(100 << (2 * (attempt - 1))) * Double.random(in: 0.75...1.25)
                    logger.debug("S3 call failed; retrying.", metadata: [
                        "operation": "\(operation)", "key": "\(key)", "attempt": "\(attempt)", "error": "\(error)",
                    ])
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(delay))
                    continue
                }
                throw describe(error, operation: operation, key: key)
            }
        }
    }

    /// 5xx answers and failures to connect or to finish an exchange are worth another try;
    /// a 4xx answer, a missing object or a local file problem are not.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let failure as S3StatusFailure: return failure.status >= 500
        case is BlobStoreError, is POSIXFailure, is CancellationError: return false
        case let error as HTTPClientError:
            return error != .cancelled && error != .deadlineExceeded && error != .bodyLengthMismatch
        default: return true
        }
    }

    /// A sentence naming the store, the operation, the bucket and what went wrong.
    func describe(_ error: any Error, operation: String, key: String) -> any Error {
        if let error = error as? BlobStoreError { return error }
        if error is CancellationError { return error }
        let subject = key.isEmpty ? "" : " '\(key)'"
        let place = "in bucket '\(configuration.bucket)' at \(endpointDescription)"
        let reason: String
        switch error {
        case let failure as S3StatusFailure:
            reason = "it answered HTTP \(failure.status)" + (failure.code.map { " \($0)" } ?? "") + (failure.message.map { ": \($0)" } ?? "")
        case let failure as POSIXFailure:
            reason = "the local file call \(failure.call) failed with \(failure.message)"
        default:
            reason = "the request failed (\(error))"
        }
        return BlobStoreError.unavailable("The S3 blob store could not \(operation)\(subject) \(place): \(reason).")
    }

    /// The endpoint without any user or password someone may have put in the URL.
    var endpointDescription: String {
        let endpoint = configuration.endpoint
        return "\(endpoint.scheme ?? "https")://\(endpoint.host ?? "")" + (endpoint.port.map { ":\($0)" } ?? "") + endpoint.path
    }

    /// Reads S3's `<Error>` document (absent for HEAD) into a failure.
    static func statusFailure(_ response: HTTPClientResponse) async throws -> S3StatusFailure {
        let status = Int(response.status.code)
        let body = (try? await response.body.collect(upTo: 64 * 1024)).map { Array($0.readableBytesView) } ?? []
        guard !body.isEmpty, let document = try? S3XML.parse(body), document.name == "Error" else {
            return S3StatusFailure(status: status, code: nil, message: response.status.reasonPhrase)
        }
        return S3StatusFailure(status: status, code: document.child("Code")?.text, message: document.child("Message")?.text)
    }

    /// Whole small bodies (XML documents, empty answers); S3 never sends big ones here.
    static func collect(_ body: HTTPClientResponse.Body) async throws -> [UInt8] {
        Array(try await body.collect(upTo: 16 * 1024 * 1024).readableBytesView)
    }

    static func slice(_ body: HTTPClientResponse.Body, offset: Int64, length: Int) async throws -> [UInt8] {
        var skipped: Int64 = 0
        var result: [UInt8] = []
        for try await chunk in body {
            guard result.count < length else { continue }  // Drain so the connection can be reused.
            var view = chunk.readableBytesView[...]
            let skip = Int(min(Int64(view.count), offset - skipped))
            skipped += Int64(skip)
            view = view.dropFirst(skip)
            result.append(contentsOf: view.prefix(length - result.count))
        }
        return result
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    // MARK: Local files

    private func localFile<T: Sendable>(_ operation: String, _ key: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch {
            throw describe(error, operation: operation, key: key)
        }
    }

    /// `length` bytes of the file at `offset`, read with pread on the thread pool.
    private func readPart(of path: String, offset: Int64, length: Int, key: String) async throws -> ByteBuffer {
        try await localFile("store", key) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw POSIXFailure(call: "open", code: errno) }
            defer { close(descriptor) }
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            let filled = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                var filled = 0
                while filled < length {
                    let got = pread(descriptor, raw.baseAddress.map { $0 + filled }, length - filled, off_t(offset) + off_t(filled))
                    if got < 0 {
                        if errno == EINTR { continue }
                        throw POSIXFailure(call: "pread", code: errno)
                    }
                    if got == 0 { break }
                    filled += got
                }
                return filled
            }
            // A file that changes size while it is being stored would be stored torn.
            guard filled == length else { throw POSIXFailure(call: "pread (the file shrank while being stored)", code: EIO) }
            return buffer
        }
    }

    /// Streams `body` into a temporary file beside `destination` in 1 MiB writes, then renames it.
    private func write(_ body: HTTPClientResponse.Body, expectedLength: Int64?, to destination: String, key: String) async throws {
        let folder = (destination as NSString).deletingLastPathComponent
        let temporary = LocalBlobStore.temporaryPath(in: folder.isEmpty ? "." : folder)
        let descriptor = try await threadPool.runIfActive {
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw POSIXFailure(call: "open", code: errno) }
            return descriptor
        }
        var finished = false
        defer {
            close(descriptor)
            if !finished { unlink(temporary) }
        }
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 20)
        var written: Int64 = 0
        let flush: @Sendable ([UInt8]) async throws -> Void = { bytes in
            try await threadPool.runIfActive { try LocalBlobStore.writeAll(bytes[...], to: descriptor) }
        }
        for try await chunk in body {
            pending.append(contentsOf: chunk.readableBytesView)
            if pending.count >= 1 << 20 {
                try await flush(pending)
                written += Int64(pending.count)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try await flush(pending)
        written += Int64(pending.count)
        if let expectedLength, expectedLength != written {
            throw S3StatusFailure(status: 200, code: "IncompleteBody", message: "received \(written) of \(expectedLength) bytes")
        }
        try await threadPool.runIfActive {
            guard fsync(descriptor) == 0 else { throw POSIXFailure(call: "fsync", code: errno) }
            guard rename(temporary, destination) == 0 else { throw POSIXFailure(call: "rename", code: errno) }
        }
        finished = true
    }
}

/// An answer from S3 that is not what the call needed.
struct S3StatusFailure: Error {
    let status: Int
    let code: String?
    let message: String?
}

/// The few parts of S3's XML this store reads, parsed into a small tree with FoundationXML
/// (which decodes entities, so keys with `&` come back intact).
struct S3XML: Sendable {
    let name: String
    var text: String
    var elements: [S3XML]

    func child(_ name: String) -> S3XML? { elements.first { $0.name == name } }
    func children(named name: String) -> [S3XML] { elements.filter { $0.name == name } }

    static func parse(_ bytes: [UInt8]) throws -> S3XML {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw S3StatusFailure(status: 200, code: "MalformedXML", message: "the answer was not readable XML")
        }
        return root
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [S3XML] = []
        var root: S3XML?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            stack.append(S3XML(name: elementName, text: "", elements: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty { root = element } else { stack[stack.count - 1].elements.append(element) }
        }
    }
}
