import Foundation
import PhotoVaultProto
import PostgresNIO
import TestImages
@testable import API

/// A JPEG taken at `taken` (UTC, "2024:06:03 10:00:00") and, when given, at a GPS position;
/// `note` makes otherwise equal files differ.
func placedJPEG(_ fixtures: Fixtures, taken: String?, latitude: Double? = nil, longitude: Double? = nil, note: String = UUID().uuidString) throws -> [UInt8] {
    let path = try fixtures.image("\(UUID().uuidString).jpg", width: 64, height: 48)
    var tags = ["-ImageDescription=\(note)", "-Make=SeedCam", "-Model=S1"]
    if let taken { tags += ["-DateTimeOriginal=\(taken)", "-OffsetTimeOriginal=+00:00"] }
    if let latitude, let longitude {
        tags += ["-GPSLatitude=\(abs(latitude))", "-GPSLatitudeRef=\(latitude < 0 ? "S" : "N")",
                 "-GPSLongitude=\(abs(longitude))", "-GPSLongitudeRef=\(longitude < 0 ? "W" : "E")"]
    }
    try fixtures.tag(path, tags)
    return try fixtures.bytes(path)
}

extension TestAPI {
    /// The user id behind a token.
    func userID(_ token: String) async throws -> UUID {
        UUID(uuidString: try await me(token).id)!
    }

    /// Inserts `count` image rows for `owner` straight into the database (no blobs: for tests of
    /// scale that never download them), taken an hour apart from `start`; returns their ids.
    @discardableResult
    func seedImages(owner: UUID, count: Int, start: Date = Date(timeIntervalSince1970: 1_700_000_000), bytes: Int64 = 1000) async throws -> [UUID] {
        try await database.rows("""
            INSERT INTO images (id, owner_id, file_name, format, byte_size, sha256, width, height, taken_at,
                data_key_version, original_key)
            SELECT gen_random_uuid(), \(owner), 'seed-' || n || '.jpg', 'jpeg', \(bytes), sha256(convert_to(\(owner.uuidString + UUID().uuidString) || n, 'UTF8')),
                640, 480, \(start) + n * interval '1 hour', 1, 'seed/' || n
            FROM generate_series(1, \(Int32(count))) AS n
            RETURNING id
            """) { try $0.decode(UUID.self) }
    }
}

extension TestAPI {
    var albums: Photovault_V1_AlbumService.Client<Transport> { .init(wrapping: client) }
    var dashboard: Photovault_V1_DashboardService.Client<Transport> { .init(wrapping: client) }
}
