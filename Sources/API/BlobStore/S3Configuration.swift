import Foundation

/// Where an ``S3BlobStore`` keeps its objects and how it signs in.
///
/// Its description never shows the secret access key or the session token, so the
/// configuration can be logged as a whole.
public struct S3Configuration: Sendable, CustomStringConvertible {
    /// The service's base URL: `https://s3.eu-west-1.amazonaws.com`, or `http://127.0.0.1:9000`
    /// for MinIO or moto. A path on it (a reverse proxy's prefix) is kept.
    public var endpoint: URL
    /// The region the signature is scoped to ("us-east-1"; MinIO accepts any).
    public var region: String
    /// The bucket that holds every object of this store.
    public var bucket: String
    /// The access key id of the credentials.
    public var accessKeyID: String
    /// The secret of the credentials; never logged.
    public var secretAccessKey: String
    /// A temporary credential's session token (STS); never logged.
    public var sessionToken: String?
    /// Prepended to every key inside the bucket ("photovault/"), so one bucket can hold other data too.
    public var keyPrefix: String
    /// `endpoint/bucket/key` when true (MinIO and moto need it), `bucket.endpoint/key` when false.
    public var usePathStyle: Bool
    /// Files larger than this are sent as a multipart upload, in parts of ``partSize``.
    public var multipartThreshold: Int64
    /// The size of each part but the last; S3 refuses parts under 5 MiB, so smaller values are raised
    /// to 5 MiB, and parts grow when a file would need more than S3's 10,000.
    public var partSize: Int
    /// How many times an idempotent request is tried in all when the store answers 5xx or the
    /// connection fails.
    public var maxAttempts: Int
    /// How long to wait for a connection (used by the client the store creates itself).
    public var connectTimeout: Duration
    /// The most one request (one part, one download) may take.
    public var requestTimeout: Duration

    /// S3's smallest part but the last.
    public static let minimumPartSize = 5 * 1024 * 1024

    /// Creates a configuration; the defaults suit AWS S3 and MinIO.
    public init(
        endpoint: URL, region: String, bucket: String, accessKeyID: String, secretAccessKey: String,
        sessionToken: String? = nil, keyPrefix: String = "", usePathStyle: Bool = true,
        multipartThreshold: Int64 = 16 * 1024 * 1024, partSize: Int = 8 * 1024 * 1024, maxAttempts: Int = 3,
        connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(300)
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.keyPrefix = keyPrefix
        self.usePathStyle = usePathStyle
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.maxAttempts = maxAttempts
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// Endpoint, region, bucket, prefix and key id; never the secret or the token.
    public var description: String {
        "S3Configuration(endpoint: \(endpoint.absoluteString), region: \(region), bucket: \(bucket), "
            + "keyPrefix: '\(keyPrefix)', accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? "" : ", sessionToken: <redacted>") + ", pathStyle: \(usePathStyle))"
    }
}
