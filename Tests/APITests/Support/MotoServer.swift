import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
@testable import API

#if canImport(FoundationXML)
import FoundationXML
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one real S3 endpoint of a test run: `moto_server` from the project's `.venv`, started
/// on first use on a free loopback port and killed when the test process exits.
///
/// Moto checks no signatures by default, which would let a broken signer pass. So after start
/// an IAM user with an S3 policy and an access key is created, and then moto's IAM
/// authentication is switched on: from there every request must carry a valid SigV4 signature.
actor MotoServer {
    static let shared = MotoServer()

    /// The running server: its base URL and the credentials it accepts.
    struct Endpoint: Sendable {
        let url: URL
        let accessKeyID: String
        let secretAccessKey: String
    }

    private var startup: Task<Endpoint, any Error>?
    private var bucketCounter = 0
    /// The server's pid, for the exit handler (which cannot capture context).
    fileprivate static let runningPID = Mutex<pid_t?>(nil)

    /// Starts the server once and returns how to reach it.
    func endpoint() async throws -> Endpoint {
        if let startup { return try await startup.value }
        let task = Task { try await Self.start() }
        startup = task
        return try await task.value
    }

    /// A configuration for a new, empty bucket of its own, created already.
    func freshBucket(multipartThreshold: Int64, partSize: Int, keyPrefix: String = "") async throws -> S3Configuration {
        let endpoint = try await endpoint()
        bucketCounter += 1
        let bucket = "photovault-test-\(getpid())-\(bucketCounter)-\(UUID().uuidString.prefix(8).lowercased())"
        let configuration = S3Configuration(
            endpoint: endpoint.url, region: "us-east-1", bucket: bucket, accessKeyID: endpoint.accessKeyID,
            secretAccessKey: endpoint.secretAccessKey, keyPrefix: keyPrefix, multipartThreshold: multipartThreshold,
            partSize: partSize, connectTimeout: .seconds(2), requestTimeout: .seconds(120))
        let store = S3BlobStore(configuration: configuration)
        do {
            try await store.createBucketIfMissing()
        } catch {
            try? await store.shutdown()
            throw error
        }
        try await store.shutdown()
        return configuration
    }

    // MARK: Start-up

    private static func binary() throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["PHOTOVAULT_MOTO_SERVER"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        return TestPostgres.projectRoot.appendingPathComponent(".venv/bin/moto_server")
    }

    private static func start() async throws -> Endpoint {
        let binary = try binary()
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw MotoFailure("moto_server is not at \(binary.path); run scripts/setup.sh to install it into .venv (or point PHOTOVAULT_MOTO_SERVER at one).")
        }
        let port = try freePort()
        let logURL = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-moto-\(getpid()).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)

        // A watchdog beside the server kills it when this process dies without running its exit
        // handlers (a crash, a timeout's SIGKILL); `exec` keeps the server's pid the one we know.
        let launcher = #"( while kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 $$ ) >/dev/null 2>&1 & exec "$0" -H 127.0.0.1 -p "$1""#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", launcher, binary.path, String(port), String(getpid())]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw MotoFailure("moto_server at \(binary.path) did not start (\(error)); run scripts/setup.sh. Its log: \(logURL.path)")
        }
        runningPID.withLock { $0 = process.processIdentifier }
        atexit {
            // moto's development server ignores SIGTERM, and it holds nothing worth saving.
            if let pid = MotoServer.runningPID.withLock({ $0 }) { kill(pid, SIGKILL) }
        }

        let url = URL(string: "http://127.0.0.1:\(port)")!
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { _ = client.shutdown() }
        try await waitUntilAnswering(url, client: client, process: process, logURL: logURL)
        return try await enableAuthentication(url, client: client, logURL: logURL)
    }

    /// A port the kernel just handed out and released; moto binds it a moment later.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw MotoFailure("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw MotoFailure("could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitUntilAnswering(_ url: URL, client: HTTPClient, process: Process, logURL: URL) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw MotoFailure("moto_server exited at start (status \(process.terminationStatus)); run scripts/setup.sh. Its log: \(logURL.path)")
            }
            if let response = try? await client.execute(HTTPClientRequest(url: url.absoluteString + "/moto-api/"), timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw MotoFailure("moto_server did not answer within 30 s; run scripts/setup.sh. Its log: \(logURL.path)")
    }

    /// Creates the test user and its key while moto still accepts anything, then makes moto
    /// verify every signature from now on.
    private static func enableAuthentication(_ url: URL, client: HTTPClient, logURL: URL) async throws -> Endpoint {
        let user = "photovault-tests"
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await iam(url, client: client, ["Action": "CreateUser", "UserName": user])
        _ = try await iam(url, client: client, ["Action": "PutUserPolicy", "UserName": user, "PolicyName": "s3", "PolicyDocument": policy])
        let created = try await iam(url, client: client, ["Action": "CreateAccessKey", "UserName": user])
        guard let key = created.child("CreateAccessKeyResult")?.child("AccessKey"),
            let id = key.child("AccessKeyId")?.text, let secret = key.child("SecretAccessKey")?.text
        else { throw MotoFailure("moto's CreateAccessKey answered without a key; its log: \(logURL.path)") }

        var reset = HTTPClientRequest(url: url.absoluteString + "/moto-api/reset-auth")
        reset.method = .POST
        reset.body = .bytes(ByteBuffer(string: "0"))
        let response = try await client.execute(reset, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw MotoFailure("moto refused to switch on authentication: HTTP \(response.status.code)") }
        return Endpoint(url: url, accessKeyID: id, secretAccessKey: secret)
    }

    /// One IAM query-API call, signed (moto routes requests by the signature's service).
    private static func iam(_ url: URL, client: HTTPClient, _ parameters: [String: String]) async throws -> S3XML {
        var form = parameters
        form["Version"] = "2010-05-08"
        let body = form.sorted { $0.key < $1.key }
            .map { AWSSignatureV4.uriEncode($0.key) + "=" + AWSSignatureV4.uriEncode($0.value) }
            .joined(separator: "&")
        let signer = AWSSignatureV4(accessKeyID: "AKIAPHOTOVAULTSETUP", secretAccessKey: "setup", region: "us-east-1", service: "iam")
        let host = "127.0.0.1:\(url.port ?? 80)"
        let headers = signer.sign(
            method: "POST", canonicalURI: "/", query: [],
            headers: [("host", host), ("content-type", "application/x-www-form-urlencoded")],
            payloadHash: AWSSignatureV4.payloadHash(Array(body.utf8)), date: Date())
        var request = HTTPClientRequest(url: url.absoluteString + "/")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let answer = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard response.status == .ok else {
            throw MotoFailure("moto's IAM \(parameters["Action"] ?? "") failed: HTTP \(response.status.code) \(String(decoding: answer, as: UTF8.self))")
        }
        return try S3XML.parse(answer)
    }
}

/// Why the test S3 endpoint is not there.
struct MotoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
