import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4 (header-based authorization), as S3 and
/// every S3-compatible store (MinIO, moto, Ceph RGW) expect.
///
/// The signer never logs and never exposes the secret or the signing key; only the final
/// `Authorization` header value leaves it.
public struct AWSSignatureV4: Sendable {
    /// The access key id that names the credentials.
    public var accessKeyID: String
    /// The secret that signs; kept out of every description.
    var secretAccessKey: String
    /// A temporary session token (STS), sent as `x-amz-security-token` and signed.
    public var sessionToken: String?
    /// The region of the credential scope ("us-east-1").
    public var region: String
    /// The service of the credential scope ("s3").
    public var service: String

    /// Creates a signer for `service` in `region`.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// The hex SHA-256 of an empty body, which every GET, HEAD and DELETE signs.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The lowercase hex SHA-256 of `bytes`, the form `x-amz-content-sha256` carries.
    public static func payloadHash<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        // Parts are megabytes: hash them in place rather than copying them into an array.
        if let digest = bytes.withContiguousStorageIfAvailable({ SHA256.hash(data: UnsafeRawBufferPointer($0)) }) {
            return hex(digest)
        }
        return hex(SHA256.hash(data: Array(bytes)))
    }

    /// Returns `headers` with `x-amz-date`, `x-amz-content-sha256`, the session token where
    /// there is one, and `Authorization` added.
    ///
    /// - Parameters:
    ///   - method: The HTTP method ("GET").
    ///   - canonicalURI: The path, each segment already URI-encoded once (S3 does not encode twice).
    ///   - query: The query parameters, unencoded; they are encoded and sorted here.
    ///   - headers: The headers to sign, `host` included; names in any case.
    ///   - payloadHash: The hex SHA-256 of the body.
    ///   - date: The signing time.
    public func sign(
        method: String, canonicalURI: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, date: Date
    ) -> [(String, String)] {
        let amzDate = Self.timestamps(date).amzDate
        var all = headers
        all.append(("x-amz-date", amzDate))
        all.append(("x-amz-content-sha256", payloadHash))
        if let sessionToken { all.append(("x-amz-security-token", sessionToken)) }

        all.append((
            "Authorization",
            authorization(method: method, canonicalURI: canonicalURI, query: query, headers: all, payloadHash: payloadHash, amzDate: amzDate)
        ))
        return all
    }

    /// The `Authorization` value for a request whose headers (`x-amz-date` among them) are all
    /// given and all signed; `amzDate` is that header's value.
    func authorization(
        method: String, canonicalURI: String, query: [(String, String)], headers: [(String, String)], payloadHash: String,
        amzDate: String
    ) -> String {
        let shortDate = String(amzDate.prefix(8))
        let parts = canonicalRequest(method: method, canonicalURI: canonicalURI, query: query, headers: headers, payloadHash: payloadHash)
        let scope = "\(shortDate)/\(region)/\(service)/aws4_request"
        let stringToSign = Self.stringToSign(canonicalRequest: parts.request, amzDate: amzDate, scope: scope)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(shortDate: shortDate)))
        return "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(parts.signedHeaders), Signature=\(signature)"
    }

    static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// The canonical request and the signed-header list, exposed for tests against AWS's vectors.
    func canonicalRequest(
        method: String, canonicalURI: String, query: [(String, String)], headers: [(String, String)], payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let encodedQuery: [(name: String, value: String)] = query.map { (Self.uriEncode($0.0), Self.uriEncode($0.1)) }
        let sortedQuery = encodedQuery.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        let canonicalQuery = sortedQuery.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        // Several headers of one name are joined with commas, as the spec says.
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(Self.trimmedHeaderValue(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let request = [
            method, canonicalURI.isEmpty ? "/" : canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    /// The key derived from the secret for one day, region and service.
    func signingKey(shortDate: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        for component in [shortDate, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(component.utf8), using: key)))
        }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC, computed without a shared formatter so
    /// concurrent signers never contend.
    static func timestamps(_ date: Date) -> (amzDate: String, shortDate: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.tm_year + 1900)
        let short = year + two(parts.tm_mon + 1) + two(parts.tm_mday)
        return (short + "T" + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "Z", short)
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, in uppercase hex,
    /// which is the only encoding SigV4 accepts (space is %20, never '+').
    public static func uriEncode(_ text: String, keepingSlash: Bool = false) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlash:
                encoded.append("/")
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0x0F)]))
            }
        }
        return encoded
    }

    /// Header values are signed trimmed, with runs of spaces collapsed to one.
    static func trimmedHeaderValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}

extension AWSSignatureV4: CustomStringConvertible {
    /// Names the credentials without revealing the secret or the session token.
    public var description: String {
        "AWSSignatureV4(accessKeyID: \(accessKeyID), region: \(region), service: \(service), secret: <redacted>)"
    }
}
