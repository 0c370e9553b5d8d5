import Foundation
import PostgresNIO

/// A person as the PeopleService shows them: the row plus counts and the cover face.
struct Person: Sendable, Equatable {
    var id: UUID
    var name: String
    var hidden: Bool
    var birthDate: BirthDate?
    var coverFace: CoverFace?
    var faceCount: Int
    var photoCount: Int
    var createdAt: Date
    var updatedAt: Date

    /// Year 0 when only the day is known.
    struct BirthDate: Sendable, Equatable {
        var year: Int
        var month: Int
        var day: Int
    }

    struct CoverFace: Sendable, Equatable {
        var faceID: UUID
        var imageID: UUID
        var box: FaceBox
    }

    /// SELECT list and FROM clause that ``init(row:)`` reads (alias `p`). Faces in trashed
    /// images are not counted. The cover is the chosen face, else the clearest large face.
    static let select = """
        SELECT p.id, p.name, p.hidden, p.birth_year, p.birth_month, p.birth_day, p.created_at, p.updated_at,
            s.face_count, s.photo_count, c.id AS cover_id, c.image_id AS cover_image_id,
            c.box_x, c.box_y, c.box_width, c.box_height
        FROM people p
        JOIN LATERAL (
            SELECT count(*)::bigint AS face_count, count(DISTINCT f.image_id)::bigint AS photo_count
            FROM faces f JOIN images i ON i.id = f.image_id AND i.deleted_at IS NULL
            WHERE f.person_id = p.id
        ) s ON true
        LEFT JOIN LATERAL (\(coverFace)) c ON true
        """

    /// The cover face of person `p` (a lateral subquery): the chosen face, else the clearest
    /// large face, in an image outside the trash.
    static let coverFace = """
        SELECT f.id, f.image_id, f.box_x, f.box_y, f.box_width, f.box_height
        FROM faces f JOIN images i ON i.id = f.image_id AND i.deleted_at IS NULL
        WHERE f.person_id = p.id
        ORDER BY coalesce(f.id = p.cover_face_id, false) DESC, (f.too_small OR f.too_blurry),
            f.detection_score * f.box_width * f.box_height DESC, f.id
        LIMIT 1
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(UUID.self)
        name = try r["name"].decode(String.self)
        hidden = try r["hidden"].decode(Bool.self)
        if let year = try r["birth_year"].decode(Int32?.self), let month = try r["birth_month"].decode(Int32?.self),
            let day = try r["birth_day"].decode(Int32?.self)
        {
            birthDate = BirthDate(year: Int(year), month: Int(month), day: Int(day))
        }
        if let face = try r["cover_id"].decode(UUID?.self), let image = try r["cover_image_id"].decode(UUID?.self) {
            coverFace = CoverFace(faceID: face, imageID: image, box: try FaceBox(r))
        }
        faceCount = Int(try r["face_count"].decode(Int64.self))
        photoCount = Int(try r["photo_count"].decode(Int64.self))
        createdAt = try r["created_at"].decode(Date.self)
        updatedAt = try r["updated_at"].decode(Date.self)
    }
}

/// A face box in pixels of the orientation-corrected original.
struct FaceBox: Sendable, Equatable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    /// From the columns box_x, box_y, box_width and box_height.
    init(_ r: PostgresRandomAccessRow) throws {
        x = Int(try r["box_x"].decode(Int32.self))
        y = Int(try r["box_y"].decode(Int32.self))
        width = Int(try r["box_width"].decode(Int32.self))
        height = Int(try r["box_height"].decode(Int32.self))
    }
}

/// One stored face as the PeopleService shows it.
struct FaceRecord: Sendable, Equatable {
    var id: UUID
    var imageID: UUID
    var personID: UUID?
    var box: FaceBox
    var landmarks: [Float]
    var detectionScore: Float
    var tooSmall: Bool
    var tooBlurry: Bool
    var blurVariance: Float
    var assignedByUser: Bool
    var createdAt: Date

    /// The columns ``init(row:)`` reads (alias `f`).
    static let columns = """
        f.id, f.image_id, f.person_id, f.box_x, f.box_y, f.box_width, f.box_height, f.landmarks, f.detection_score,
        f.too_small, f.too_blurry, f.blur_variance, f.assigned_by_user, f.created_at
        """

    init(row: PostgresRow) throws {
        let r = row.makeRandomAccess()
        id = try r["id"].decode(UUID.self)
        imageID = try r["image_id"].decode(UUID.self)
        personID = try r["person_id"].decode(UUID?.self)
        box = try FaceBox(r)
        landmarks = try r["landmarks"].decode([Float].self)
        detectionScore = try r["detection_score"].decode(Float.self)
        tooSmall = try r["too_small"].decode(Bool.self)
        tooBlurry = try r["too_blurry"].decode(Bool.self)
        blurVariance = try r["blur_variance"].decode(Float.self)
        assignedByUser = try r["assigned_by_user"].decode(Bool.self)
        createdAt = try r["created_at"].decode(Date.self)
    }
}
