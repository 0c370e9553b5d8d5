import Foundation
import PostgresNIO

/// The dashboard's SQL. Every method takes the scope; `everyone` only reaches here for admins.
struct DashboardRepository: Sendable {
    let database: Database

    func stats(_ scope: DashboardScope) async throws -> LibraryStats {
        let owner = scope.owner
        return try await database.row("""
            WITH i AS (
                SELECT count(*) FILTER (WHERE deleted_at IS NULL) AS live,
                    count(*) FILTER (WHERE deleted_at IS NOT NULL) AS trashed,
                    coalesce(sum(byte_size), 0)::bigint AS original,
                    coalesce(sum(coalesce(preview_size, 0) + coalesce(thumbnail_size, 0)), 0)::bigint AS derived,
                    count(DISTINCT (place_country_code, place_region, place_city))
                        FILTER (WHERE deleted_at IS NULL AND place_country_code <> '') AS places
                FROM images WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)))
            SELECT i.live, i.trashed, i.original, i.derived, i.places,
                (SELECT count(*) FROM albums WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL),
                (SELECT count(*) FROM faces f JOIN images fi ON fi.id = f.image_id
                 WHERE (\(owner)::uuid IS NULL OR f.owner_id = \(owner)) AND fi.deleted_at IS NULL),
                (SELECT count(*) FROM jobs WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND state IN ('queued', 'running')),
                (SELECT count(*) FROM jobs WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND state IN ('failed', 'dead')),
                (SELECT count(*) FROM people p WHERE (\(owner)::uuid IS NULL OR p.owner_id = \(owner)) AND NOT p.hidden
                   AND EXISTS (SELECT 1 FROM faces pf JOIN images pi ON pi.id = pf.image_id AND pi.deleted_at IS NULL
                               WHERE pf.person_id = p.id))
            FROM i
            """) { row in
            let (live, trashed, original, derived, places, albums, faces, pending, failed, people) =
                try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            return LibraryStats(
                imageCount: live, trashedImageCount: trashed, originalBytes: original, derivativeBytes: derived, personCount: people,
                albumCount: albums, placeCount: places, faceCount: faces, jobsPending: pending, jobsFailed: failed)
        } ?? LibraryStats()
    }

    /// Activity rows newest first, before the row id `before`.
    func activity(_ scope: DashboardScope, before: Int64?, limit: Int) async throws -> [ActivityEntry] {
        let owner = scope.owner
        return try await database.rows("""
            SELECT id, owner_id, kind, image_id, detail::text, created_at FROM activity
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(Int32(limit))
            """) { row in
            let (id, owner, kind, image, detail, at) = try row.decode((Int64, UUID, String, UUID?, String, Date).self)
            return ActivityFeed.entry(id: id, owner: owner, kind: kind, image: image, detail: detail, at: at)
        }
    }

    func storage(_ scope: DashboardScope, largestLimit: Int) async throws -> StorageAnalysis {
        let owner = scope.owner
        var analysis = StorageAnalysis()
        analysis.byMonth = try await database.rows("""
            SELECT extract(year FROM coalesce(taken_at, uploaded_at) AT TIME ZONE 'UTC')::int AS y,
                extract(month FROM coalesce(taken_at, uploaded_at) AT TIME ZONE 'UTC')::int AS m, count(*), sum(byte_size)::bigint
            FROM images WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
            GROUP BY y, m ORDER BY y, m
            """) { row in
            let (year, month, count, bytes) = try row.decode((Int32, Int32, Int64, Int64).self)
            return .init(label: [String(year), String(month)], imageCount: count, bytes: bytes)
        }
        analysis.byFormat = try await database.rows("""
            SELECT format, count(*), sum(byte_size)::bigint FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
            GROUP BY format ORDER BY 3 DESC, format
            """) { row in
            let (format, count, bytes) = try row.decode((String, Int64, Int64).self)
            return .init(label: [format], imageCount: count, bytes: bytes)
        }
        analysis.byCamera = try await database.rows("""
            SELECT camera_make, camera_model, count(*), sum(byte_size)::bigint FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
            GROUP BY camera_make, camera_model ORDER BY 4 DESC, camera_make, camera_model LIMIT 200
            """) { row in
            let (make, model, count, bytes) = try row.decode((String, String, Int64, Int64).self)
            return .init(label: [make, model], imageCount: count, bytes: bytes)
        }
        analysis.largest = try await database.rows("""
            SELECT id, owner_id, file_name, byte_size FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
            ORDER BY byte_size DESC, id LIMIT \(Int32(largestLimit))
            """) { row in
            let (id, owner, name, size) = try row.decode((UUID, UUID, String, Int64).self)
            return .init(imageID: id, ownerID: owner, fileName: name, byteSize: size)
        }
        // Sets found by duplicate detection, and (across users) identical bytes.
        var duplicates = try await database.rows("""
            SELECT CASE WHEN count(DISTINCT sha256) = 1 THEN encode((array_agg(sha256))[1], 'hex') ELSE '' END,
                array_agg(id ORDER BY byte_size DESC, id), (sum(byte_size) - max(byte_size))::bigint
            FROM images WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL AND duplicate_set_id IS NOT NULL
            GROUP BY duplicate_set_id HAVING count(*) > 1
            """) { row in
            let (hash, ids, bytes) = try row.decode((String, [UUID], Int64).self)
            return StorageAnalysis.DuplicateSet(sha256: hash, imageIDs: ids, reclaimableBytes: bytes)
        }
        if owner == nil {
            duplicates += try await database.rows("""
                SELECT encode(sha256, 'hex'), array_agg(id ORDER BY uploaded_at, id), (sum(byte_size) - max(byte_size))::bigint
                FROM images WHERE deleted_at IS NULL
                GROUP BY sha256 HAVING count(*) > 1
                """) { row in
                let (hash, ids, bytes) = try row.decode((String, [UUID], Int64).self)
                return StorageAnalysis.DuplicateSet(sha256: hash, imageIDs: ids, reclaimableBytes: bytes)
            }
        }
        analysis.duplicates = Array(duplicates.sorted { ($0.reclaimableBytes, $0.sha256) > ($1.reclaimableBytes, $1.sha256) }.prefix(100))
        // Every stored blob (trash included) carries a header and a tag per chunk; each data key is stored wrapped.
        let header = BlobCipher.headerSize, tag = BlobCipher.tagSize, chunk = 1 << Int(BlobCipher.defaultChunkShift)
        let sealed = { (size: String) in "(\(header) + greatest(1, (\(size) + \(chunk - 1)) / \(chunk)) * \(tag))" }
        analysis.encryptionOverheadBytes = try await database.row("""
            SELECT coalesce((SELECT sum(\(unescaped: sealed("byte_size"))
                    + CASE WHEN preview_key IS NULL THEN 0 ELSE \(unescaped: sealed("preview_size")) END
                    + CASE WHEN thumbnail_key IS NULL THEN 0 ELSE \(unescaped: sealed("thumbnail_size")) END)
                FROM images WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner))), 0)::bigint
                + coalesce((SELECT sum(greatest(length(wrapped_key) - 32, 0)) FROM data_keys
                    WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner))), 0)::bigint
            """, { try $0.decode(Int64.self) }) ?? 0
        if owner == nil {
            analysis.perUser = try await database.rows("""
                SELECT u.id, u.email, u.name, count(i.id) FILTER (WHERE i.deleted_at IS NULL),
                    coalesce(sum(i.byte_size), 0)::bigint,
                    coalesce(sum(coalesce(i.preview_size, 0) + coalesce(i.thumbnail_size, 0)), 0)::bigint
                FROM users u LEFT JOIN images i ON i.owner_id = u.id
                GROUP BY u.id ORDER BY 5 DESC, u.email
                """) { row in
                let (id, email, name, count, original, derived) = try row.decode((UUID, String, String, Int64, Int64, Int64).self)
                return .init(userID: id, email: email, name: name, imageCount: count, originalBytes: original, derivativeBytes: derived)
            }
        }
        return analysis
    }

    /// The share of photos with GPS and the photos per grid cell (mean position), most first.
    func mapPoints(_ scope: DashboardScope, cellDegrees: Double) async throws -> (Double, [LocationAnalysis.MapPoint]) {
        let owner = scope.owner
        let counts = try await database.row("""
            SELECT count(*) FILTER (WHERE latitude IS NOT NULL), count(*) FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
            """, { row -> [Int64] in
            let (withGPS, all) = try row.decode((Int64, Int64).self)
            return [withGPS, all]
        }) ?? [0, 0]
        let (withGPS, all) = (counts[0], counts[1])
        let points = try await database.rows("""
            SELECT avg(latitude), avg(longitude), count(*) FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL AND latitude IS NOT NULL AND longitude IS NOT NULL
            GROUP BY floor(latitude / \(cellDegrees)), floor(longitude / \(cellDegrees))
            ORDER BY 3 DESC, 1, 2 LIMIT 10000
            """) { row in
            let (latitude, longitude, count) = try row.decode((Double, Double, Int64).self)
            return LocationAnalysis.MapPoint(latitude: latitude, longitude: longitude, imageCount: count)
        }
        return (all == 0 ? 0 : Double(withGPS) / Double(all), points)
    }

    /// Visible people by photo count, the pairs seen together most, and unnamed clusters.
    func people(_ scope: DashboardScope, limit: Int) async throws -> PersonAnalysis {
        let owner = scope.owner
        var analysis = PersonAnalysis()
        // Which visible person is in which live image, once per pair.
        let shown = """
            SELECT DISTINCT f.person_id, f.image_id FROM faces f
            JOIN images i ON i.id = f.image_id AND i.deleted_at IS NULL
            JOIN people p ON p.id = f.person_id AND NOT p.hidden
            """
        analysis.people = try await database.rows("""
            SELECT p.id, p.name, s.photos, c.id AS cover
            FROM (SELECT person_id, count(*) AS photos FROM (\(unescaped: shown)
                  WHERE \(owner)::uuid IS NULL OR f.owner_id = \(owner)) AS shown GROUP BY person_id) s
            JOIN people p ON p.id = s.person_id
            LEFT JOIN LATERAL (\(unescaped: Person.coverFace)) c ON true
            ORDER BY s.photos DESC, p.name = '', p.name, p.id
            LIMIT \(Int32(limit))
            """) { row in
            let (id, name, photos, cover) = try row.decode((UUID, String, Int64, UUID?).self)
            return .init(personID: id, name: name, photoCount: photos, coverFaceID: cover)
        }
        analysis.pairs = try await database.rows("""
            WITH shown AS (\(unescaped: shown) WHERE \(owner)::uuid IS NULL OR f.owner_id = \(owner))
            SELECT a.person_id, b.person_id, count(*) AS together
            FROM shown a JOIN shown b ON a.image_id = b.image_id AND a.person_id < b.person_id
            GROUP BY a.person_id, b.person_id
            ORDER BY together DESC, a.person_id, b.person_id
            LIMIT \(Int32(limit))
            """) { row in
            let (a, b, together) = try row.decode((UUID, UUID, Int64).self)
            return .init(personA: a, personB: b, sharedPhotoCount: together)
        }
        analysis.unnamedClusterCount = try await database.row("""
            SELECT count(*) FROM people p WHERE (\(owner)::uuid IS NULL OR p.owner_id = \(owner)) AND p.name = '' AND NOT p.hidden
              AND EXISTS (SELECT 1 FROM faces f JOIN images i ON i.id = f.image_id AND i.deleted_at IS NULL WHERE f.person_id = p.id)
            """) { try $0.decode(Int64.self) } ?? 0
        return analysis
    }
}
