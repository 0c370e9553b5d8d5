import Foundation
import GRPCCore
import PhotoVaultProto
import PostgresNIO
import Testing
import TestImages
@testable import API

@Suite("Dashboard")
struct DashboardTests {
    @Test func dashboardFiguresAgreeWithDirectCountsAfterAMixedWorkload() async throws {
        let fixtures = try Fixtures()
        let photos = try [
            placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 48.8530, longitude: 2.3499),
            placedJPEG(fixtures, taken: "2024:06:04 09:00:00", latitude: 35.6586, longitude: 139.7454),
            placedJPEG(fixtures, taken: "2023:01:02 09:00:00"),
            placedJPEG(fixtures, taken: nil),
            placedJPEG(fixtures, taken: "2022:12:31 23:00:00"),
        ]
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com").accessToken
            let token = try await api.register("owner@example.com").accessToken
            let owner = try await api.userID(token)
            var ids: [String] = []
            for photo in photos { ids.append(try await api.upload(photo, token: token).image.id) }
            _ = try await api.watchUntilProcessed(ids, token: token)
            // Uploads, a duplicate upload, a trashed and a deleted photo, an album, and the admin's own photo.
            #expect(try await api.upload(photos[0], token: token).duplicate)
            _ = try await api.images.deleteImage(.with { $0.imageID = ids[2] }, metadata: TestAPI.bearer(token))
            _ = try await api.images.deleteImage(.with { $0.imageID = ids[3]; $0.permanent = true }, metadata: TestAPI.bearer(token))
            _ = try await api.albums.createAlbum(.with { $0.title = "Best"; $0.imageIds = [ids[0], ids[1]] }, metadata: TestAPI.bearer(token))
            _ = try await api.upload(photos[4], token: admin)
            // Duplicate detection (the analysis pipeline's) put two photos in one set.
            try await api.database.execute(
                "UPDATE images SET duplicate_set_id = \(UUID()) WHERE id = ANY(\([ids[0], ids[1]].map { UUID(uuidString: $0)! }))")

            func sql(_ query: PostgresQuery) async throws -> Int64 { try await api.database.row(query, { try $0.decode(Int64.self) }) ?? -1 }
            let stats = try await api.dashboard.getStats(.init(), metadata: TestAPI.bearer(token))
            #expect(stats.imageCount == (try await sql("SELECT count(*) FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL")))
            #expect(stats.imageCount == 3 && stats.trashedImageCount == 1)
            #expect(stats.originalBytes == (try await sql("SELECT sum(byte_size)::bigint FROM images WHERE owner_id = \(owner)")))
            #expect(stats.derivativeBytes == (try await sql(
                "SELECT sum(preview_size + thumbnail_size)::bigint FROM images WHERE owner_id = \(owner)")))
            #expect(stats.derivativeBytes > 0)
            #expect(stats.albumCount == 1 && stats.placeCount == 2 && stats.personCount == 0 && stats.faceCount == 0)
            #expect(stats.jobsPending == (try await sql(
                "SELECT count(*) FROM jobs WHERE owner_id = \(owner) AND state IN ('queued', 'running')")))

            let everyone = try await api.dashboard.getStats(.with { $0.allUsers = true }, metadata: TestAPI.bearer(admin))
            #expect(everyone.imageCount == (try await sql("SELECT count(*) FROM images WHERE deleted_at IS NULL")) && everyone.imageCount == 4)
            let denied = await rpcError { try await api.dashboard.getStats(.with { $0.allUsers = true }, metadata: TestAPI.bearer(token)) }
            #expect(denied?.code == .permissionDenied)

            let storage = try await api.dashboard.getStorageAnalysis(.with { $0.largestLimit = 2 }, metadata: TestAPI.bearer(token))
            #expect(storage.byFormat.map(\.format) == [.jpeg] && storage.byFormat[0].imageCount == 3)
            #expect(storage.byMonth.map(\.bytes).reduce(0, +) == (try await sql(
                "SELECT sum(byte_size)::bigint FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL")))
            #expect(storage.byCamera.map(\.make) == ["SeedCam"] && storage.largestImages.count == 2)
            #expect(storage.largestImages[0].byteSize >= storage.largestImages[1].byteSize)
            #expect(storage.duplicateSets.count == 1 && Set(storage.duplicateSets[0].imageIds) == Set([ids[0], ids[1]]))
            #expect(storage.duplicateSets[0].reclaimableBytes == (try await sql(
                "SELECT min(byte_size)::bigint FROM images WHERE id = ANY(\([ids[0], ids[1]].map { UUID(uuidString: $0)! }))")))
            // Overhead = sealed sizes of every stored blob minus their plaintext, plus wrapped data keys.
            let sizes = try await api.database.rows(
                "SELECT byte_size, coalesce(preview_size, -1), coalesce(thumbnail_size, -1) FROM images WHERE owner_id = \(owner)",
                { try $0.decode((Int64, Int64, Int64).self) })
            var overhead: Int64 = 0
            for (original, preview, thumbnail) in sizes {
                for size in [original, preview, thumbnail] where size >= 0 { overhead += BlobCipher.sealedSize(plaintextSize: size) - size }
            }
            overhead += try await sql("SELECT sum(length(wrapped_key) - 32)::bigint FROM data_keys WHERE owner_id = \(owner)")
            #expect(storage.encryptionOverheadBytes == overhead && storage.perUser.isEmpty)
            let all = try await api.dashboard.getStorageAnalysis(.with { $0.allUsers = true }, metadata: TestAPI.bearer(admin))
            #expect(all.perUser.map(\.email) == ["owner@example.com", "admin@example.com"])
            // The admin's copy of photos[4] has the owner's bytes: a cross-user set.
            #expect(all.duplicateSets.contains { $0.imageIds.count == 2 && !$0.sha256.isEmpty })

            let places = try await api.dashboard.getLocationAnalysis(.init(), metadata: TestAPI.bearer(token))
            #expect(Set(places.countries.map(\.countryCode)) == ["FR", "JP"] && places.countries.allSatisfy { $0.coverImageID.isEmpty })
            #expect(abs(places.gpsShare - 2.0 / 3.0) < 1e-9 && places.points.count == 2)
            let badCell = await rpcError { try await api.dashboard.getLocationAnalysis(.with { $0.cellDegrees = 50 }, metadata: TestAPI.bearer(token)) }
            #expect(badCell?.code == .invalidArgument)

            // No faces in these photos: nobody to analyse (PeopleTests covers people).
            let people = try await api.dashboard.getPersonAnalysis(.init(), metadata: TestAPI.bearer(token))
            #expect(people.people.isEmpty && people.pairs.isEmpty && people.unnamedClusterCount == 0)
            let badLimit = await rpcError { try await api.dashboard.getPersonAnalysis(.with { $0.limit = 501 }, metadata: TestAPI.bearer(token)) }
            #expect(badLimit?.code == .invalidArgument)
        }
    }

    @Test func recentActivityPagesNewestFirstAndShowsOnlyTheCallersOwnUnlessAnAdminAsks() async throws {
        let fixtures = try Fixtures()
        let photo = try placedJPEG(fixtures, taken: "2024:06:03 09:00:00")
        let theirs = try placedJPEG(fixtures, taken: "2024:06:04 09:00:00")
        try await withTestAPI { api in
            let admin = try await api.register("admin@example.com").accessToken
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(photo, token: token).image
            let album = try await api.albums.createAlbum(.with { $0.title = "Trip" }, metadata: TestAPI.bearer(token)).album
            _ = try await api.albums.addImages(.with { $0.albumID = album.id; $0.imageIds = [image.id] }, metadata: TestAPI.bearer(token))
            _ = try await api.images.deleteImage(.with { $0.imageID = image.id }, metadata: TestAPI.bearer(token))
            _ = try await api.upload(theirs, token: admin)

            var kinds: [String] = []
            var pageToken = ""
            repeat {
                let page = try await api.dashboard.getRecentActivity(.with {
                    $0.pageSize = 2
                    $0.pageToken = pageToken
                }, metadata: TestAPI.bearer(token))
                #expect(page.activities.count <= 2)
                kinds += page.activities.map(\.kind)
                if kinds.count == 2 { #expect(page.activities.last?.albumID == album.id) }
                pageToken = page.nextPageToken
            } while !pageToken.isEmpty
            #expect(kinds == ["image_trashed", "album_images_added", "album_created", "image_uploaded"])
            let first = try await api.dashboard.getRecentActivity(.init(), metadata: TestAPI.bearer(token)).activities
            #expect(first.last?.summary.hasPrefix("Uploaded ") == true && first.last?.imageID == image.id)
            #expect(first.allSatisfy { $0.actorID == image.ownerID })
            let everyone = try await api.dashboard.getRecentActivity(.with { $0.allUsers = true }, metadata: TestAPI.bearer(admin))
            #expect(everyone.activities.count == 5)
            let denied = await rpcError { try await api.dashboard.getRecentActivity(.with { $0.allUsers = true }, metadata: TestAPI.bearer(token)) }
            #expect(denied?.code == .permissionDenied)
            let badToken = await rpcError { try await api.dashboard.getRecentActivity(.with { $0.pageToken = "xyz" }, metadata: TestAPI.bearer(token)) }
            #expect(badToken?.code == .invalidArgument)
        }
    }
}
