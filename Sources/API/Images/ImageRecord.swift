import Foundation
import Media
import PostgresNIO

/// One row of `images` with its tags and stages: what the image RPCs return.
public struct ImageRecord: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UUID
    public var fileName: String
    public var format: ImageFormat
    public var byteSize: Int64
    public var sha256: [UInt8]
    public var width: Int
    public var height: Int
    public var orientation: Int
    public var takenAt: Date?
    public var takenAtOffsetMinutes: Int?
    public var takenAtOverridden: Bool
    public var uploadedAt: Date
    public var updatedAt: Date
    public var hasEXIF: Bool
    public var cameraMake: String
    public var cameraModel: String
    public var lens: String
    public var fNumber: Double
    public var exposureTime: Double
    public var iso: Int
    public var focalLength: Double
    public var latitude: Double?
    public var longitude: Double?
    public var altitude: Double?
    public var caption: String
    public var description: String
    public var eventID: Int64?
    public var faceCount: Int
    public var deletedAt: Date?
    public var dataKeyVersion: Int
    public var originalKey: String
    public var preview: Derivative?
    public var thumbnail: Derivative?
    /// Reverse-geocoded from the GPS position; unknown without one, or at sea.
    public var place = Place()
    public var tags: [Tag] = []
    public var stages: [Stage] = []

    /// A stored rendition.
    public struct Derivative: Sendable, Equatable {
        public var key: String
        public var size: Int64
        public var width: Int
        public var height: Int
    }

    /// A keyword on the image.
    public struct Tag: Sendable, Equatable {
        public var name: String
        public var source: String
        public var score: Float
    }

    /// One processing stage.
    public struct Stage: Sendable, Equatable {
        public var stage: String
        public var state: String
        public var error: String
        public var updatedAt: Date
    }

    /// The overall processing state from the stages.
    public var overallState: String { ImageStages.overall(stages.map(\.state)) }

    /// The columns ``init(row:)`` reads, for SELECT lists.
    static let columns = """
        id, owner_id, file_name, format, byte_size, sha256, width, height, orientation, taken_at,
        taken_at_offset_minutes, taken_at_overridden, uploaded_at, updated_at, has_exif, camera_make,
        camera_model, lens, f_number, exposure_time, iso, focal_length, latitude, longitude, altitude,
        caption, description, event_id, face_count, deleted_at, data_key_version, original_key,
        preview_key, preview_size, preview_width, preview_height,
        thumbnail_key, thumbnail_size, thumbnail_width, thumbnail_height,
        place_city, place_region, place_country_code, place_country
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(UUID.self)
        ownerID = try r["owner_id"].decode(UUID.self)
        fileName = try r["file_name"].decode(String.self)
        format = ImageFormat(rawValue: try r["format"].decode(String.self)) ?? .jpeg
        byteSize = try r["byte_size"].decode(Int64.self)
        sha256 = Array(try r["sha256"].decode(Data.self))
        width = Int(try r["width"].decode(Int32.self))
        height = Int(try r["height"].decode(Int32.self))
        orientation = Int(try r["orientation"].decode(Int32.self))
        takenAt = try r["taken_at"].decode(Date?.self)
        takenAtOffsetMinutes = try r["taken_at_offset_minutes"].decode(Int32?.self).map(Int.init)
        takenAtOverridden = try r["taken_at_overridden"].decode(Bool.self)
        uploadedAt = try r["uploaded_at"].decode(Date.self)
        updatedAt = try r["updated_at"].decode(Date.self)
        hasEXIF = try r["has_exif"].decode(Bool.self)
        cameraMake = try r["camera_make"].decode(String.self)
        cameraModel = try r["camera_model"].decode(String.self)
        lens = try r["lens"].decode(String.self)
        fNumber = try r["f_number"].decode(Double.self)
        exposureTime = try r["exposure_time"].decode(Double.self)
        iso = Int(try r["iso"].decode(Int32.self))
        focalLength = try r["focal_length"].decode(Double.self)
        latitude = try r["latitude"].decode(Double?.self)
        longitude = try r["longitude"].decode(Double?.self)
        altitude = try r["altitude"].decode(Double?.self)
        caption = try r["caption"].decode(String.self)
        description = try r["description"].decode(String.self)
        eventID = try r["event_id"].decode(Int64?.self)
        faceCount = Int(try r["face_count"].decode(Int32.self))
        deletedAt = try r["deleted_at"].decode(Date?.self)
        dataKeyVersion = Int(try r["data_key_version"].decode(Int32.self))
        originalKey = try r["original_key"].decode(String.self)
        if let key = try r["preview_key"].decode(String?.self) {
            preview = Derivative(
                key: key, size: try r["preview_size"].decode(Int64?.self) ?? 0,
                width: Int(try r["preview_width"].decode(Int32?.self) ?? 0), height: Int(try r["preview_height"].decode(Int32?.self) ?? 0))
        }
        place = Place(
            city: try r["place_city"].decode(String.self), region: try r["place_region"].decode(String.self),
            countryCode: try r["place_country_code"].decode(String.self), country: try r["place_country"].decode(String.self))
        if let key = try r["thumbnail_key"].decode(String?.self) {
            thumbnail = Derivative(
                key: key, size: try r["thumbnail_size"].decode(Int64?.self) ?? 0,
                width: Int(try r["thumbnail_width"].decode(Int32?.self) ?? 0), height: Int(try r["thumbnail_height"].decode(Int32?.self) ?? 0))
        }
    }
}
