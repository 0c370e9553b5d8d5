import Foundation

/// Image file formats PhotoVault accepts.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp, heic, tiff, gif, avif

    /// The name people know the format by, for messages.
    public var displayName: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .webp: "WebP"
        case .heic: "HEIC"
        case .tiff: "TIFF"
        case .gif: "GIF"
        case .avif: "AVIF"
        }
    }

    /// The MIME type of files in this format.
    public var contentType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .heic: "image/heic"
        case .tiff: "image/tiff"
        case .gif: "image/gif"
        case .avif: "image/avif"
        }
    }

    /// libvips source loaders that may read this format; any other loader means the magic
    /// bytes lied, and the file is refused.
    var loaders: [String] {
        switch self {
        case .jpeg: ["jpegload_source"]
        case .png: ["pngload_source"]
        case .webp: ["webpload_source"]
        // libheif reads both; the ftyp brand tells them apart.
        case .heic, .avif: ["heifload_source"]
        case .tiff: ["tiffload_source"]
        case .gif: ["gifload_source"]
        }
    }
}

/// Camera metadata read from EXIF; nil fields were missing or malformed.
public struct ExifMetadata: Sendable, Equatable {
    /// DateTimeOriginal, else DateTimeDigitized, else DateTime, converted to UTC with the
    /// matching offset tag when there is one. Without an offset this is the camera's local
    /// wall-clock time read as if it were UTC (the true instant is unknown).
    public var takenAt: Date?
    /// Minutes east of UTC, from the offset tag matching the date used (OffsetTimeOriginal for
    /// DateTimeOriginal, …), else OffsetTime; nil when absent or malformed.
    public var takenAtOffsetMinutes: Int?
    /// Camera maker, trimmed, NULs removed; nil when empty.
    public var make: String?
    /// Camera model, trimmed, NULs removed; nil when empty.
    public var model: String?
    /// LensModel (0xA434), trimmed, NULs removed; nil when empty.
    public var lens: String?
    /// Aperture as an f-number (2.8 for f/2.8).
    public var fNumber: Double?
    /// Exposure time in seconds (0.004 for 1/250 s).
    public var exposureTimeSeconds: Double?
    /// ISOSpeedRatings / PhotographicSensitivity (first value).
    public var iso: Int?
    /// Focal length in millimetres, as the lens reports it (not 35 mm equivalent).
    public var focalLengthMM: Double?
    /// The EXIF Orientation tag, 1–8, as written (for HEIF files the container's own transforms,
    /// not this tag, decide how the image is shown; see `ImageProbe.orientation`).
    public var orientation: Int?
    /// Degrees, negative south; nil unless within ±90.
    public var latitude: Double?
    /// Degrees, negative west; nil unless within ±180.
    public var longitude: Double?
    /// Metres, negative below sea level.
    public var altitudeM: Double?

    /// All fields absent.
    public init(
        takenAt: Date? = nil, takenAtOffsetMinutes: Int? = nil, make: String? = nil,
        model: String? = nil, lens: String? = nil, fNumber: Double? = nil,
        exposureTimeSeconds: Double? = nil, iso: Int? = nil, focalLengthMM: Double? = nil,
        orientation: Int? = nil, latitude: Double? = nil, longitude: Double? = nil,
        altitudeM: Double? = nil
    ) {
        self.takenAt = takenAt
        self.takenAtOffsetMinutes = takenAtOffsetMinutes
        self.make = make
        self.model = model
        self.lens = lens
        self.fNumber = fNumber
        self.exposureTimeSeconds = exposureTimeSeconds
        self.iso = iso
        self.focalLengthMM = focalLengthMM
        self.orientation = orientation
        self.latitude = latitude
        self.longitude = longitude
        self.altitudeM = altitudeM
    }
}

/// What a header decode tells about a file.
public struct ImageProbe: Sendable, Equatable {
    /// The format, from magic bytes confirmed by libvips' loader.
    public var format: ImageFormat
    /// Width as displayed, after EXIF orientation (5–8 swap width and height).
    public var width: Int
    /// Height as displayed, after EXIF orientation.
    public var height: Int
    /// How the stored pixels must be turned to display upright, 1–8 (1 when absent). HEIF
    /// loaders apply the container's rotation themselves, so HEIC/AVIF report 1.
    public var orientation: Int
    /// nil when the file has no EXIF block; all fields nil when the block is unreadable.
    public var exif: ExifMetadata?

    /// Memberwise.
    public init(format: ImageFormat, width: Int, height: Int, orientation: Int, exif: ExifMetadata?) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
        self.exif = exif
    }
}

/// Why an image was refused or could not be processed.
public enum MediaError: Error, Equatable, CustomStringConvertible {
    /// Not one of the accepted formats; the sentence says what the file looks like when known.
    case unsupportedFormat(String)
    /// The format is right but the data is corrupt or truncated; names the format and libvips' reason.
    case undecodable(String)
    /// width × height is over the limit (checked from the header, before decoding).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// libvips failed on a valid image (out of memory, …), or the source could not be read.
    case failed(String)

    /// A sentence fit for logs and, for the first three cases, for the uploader.
    public var description: String {
        switch self {
        case .unsupportedFormat(let sentence), .undecodable(let sentence), .failed(let sentence):
            return sentence
        case .tooManyPixels(let width, let height, let limit):
            return "The image is \(width) × \(height) pixels, more than the limit of \(limit) pixels."
        }
    }
}
