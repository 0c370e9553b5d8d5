/// The limits on what users may upload and how long unfinished or deleted things are kept.
public struct ImageLimits: Sendable {
    /// Largest accepted file (default 200 MiB).
    public var maxBytes: Int64 = 200 * 1024 * 1024
    /// Largest accepted image in pixels, checked from the header before any decoding (default 100 MP).
    public var maxPixels = 100_000_000
    /// How long a resumable upload session stays open (default 24 h).
    public var sessionLifetime: Duration = .seconds(24 * 3600)
    /// How long trashed images are kept before they are purged (default 30 days).
    public var trashRetention: Duration = .seconds(30 * 24 * 3600)
    /// Bytes of an upload session stored as one part (a durable resume point).
    public var sessionPartSize = 8 * 1024 * 1024
    public init() {}
}
