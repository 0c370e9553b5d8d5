import Foundation
import GRPCCore
import PhotoVaultProto
import SwiftProtobuf
import Testing
import TestImages
@testable import API

@Suite("Albums")
struct AlbumTests {
    @Test func aManualAlbumHoldsOnlyItsOwnersImagesAndAddingTwiceAddsNothing() async throws {
        let fixtures = try Fixtures()
        let photos = try (0..<3).map { try placedJPEG(fixtures, taken: "2024:05:0\($0 + 1) 12:00:00") }
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            var ids: [String] = []
            for photo in photos { ids.append(try await api.upload(photo, token: token).image.id) }
            let theirs = try await api.upload(try placedJPEG(fixtures, taken: nil), token: other).image.id

            let created = try await api.albums.createAlbum(.with {
                $0.title = "  Spring  "
                $0.description_p = "Walks"
                $0.imageIds = [ids[0], ids[1]]
                $0.coverImageID = ids[1]
            }, metadata: TestAPI.bearer(token)).album
            #expect(created.title == "Spring" && created.kind == .manual && created.imageCount == 2 && !created.editedByUser)
            #expect(created.coverImageID == ids[1])
            #expect(created.startTime.date == ISO8601DateFormatter().date(from: "2024-05-01T12:00:00Z"))

            let again = try await api.albums.addImages(.with {
                $0.albumID = created.id
                $0.imageIds = [ids[0], ids[1], ids[2], ids[2]]
            }, metadata: TestAPI.bearer(token))
            #expect(again.addedCount == 1 && again.album.imageCount == 3)

            // Another user's image: NOT_FOUND naming it, and nothing added, not even the owner's own.
            let refused = await rpcError {
                try await api.albums.addImages(.with {
                    $0.albumID = created.id
                    $0.imageIds = [theirs]
                }, metadata: TestAPI.bearer(token))
            }
            #expect(refused?.code == .notFound && refused?.message.contains(theirs) == true)
            #expect(try await api.count("album_images") == 3)
            let mixed = await rpcError {
                try await api.albums.createAlbum(.with {
                    $0.title = "Mixed"
                    $0.imageIds = [ids[0], theirs]
                }, metadata: TestAPI.bearer(token))
            }
            #expect(mixed?.code == .notFound)
            #expect(try await api.count("albums") == 1)

            // The other user sees none of it.
            let hidden = await rpcError { try await api.albums.getAlbum(.with { $0.albumID = created.id }, metadata: TestAPI.bearer(other)) }
            #expect(hidden?.code == .notFound)
            let theirList = try await api.albums.listAlbums(.init(), metadata: TestAPI.bearer(other))
            #expect(theirList.albums.isEmpty)
            let theirAdd = await rpcError {
                try await api.albums.addImages(.with {
                    $0.albumID = created.id
                    $0.imageIds = [theirs]
                }, metadata: TestAPI.bearer(other))
            }
            #expect(theirAdd?.code == .notFound)

            let removed = try await api.albums.removeImages(.with {
                $0.albumID = created.id
                $0.imageIds = [ids[1], theirs]
            }, metadata: TestAPI.bearer(token))
            #expect(removed.removedCount == 1 && removed.notFoundImageIds == [theirs])
            // The chosen cover left the album: the first image in order stands in.
            #expect(removed.album.coverImageID == ids[0] && removed.album.imageCount == 2)

            let updated = try await api.albums.updateAlbum(.with {
                $0.albumID = created.id
                $0.title = "Spring walks"
                $0.sortOrder = .takenDesc
            }, metadata: TestAPI.bearer(token)).album
            #expect(updated.title == "Spring walks" && updated.description_p == "Walks" && updated.sortOrder == .takenDesc)
            #expect(updated.coverImageID == ids[2] && !updated.editedByUser)
            let badCover = await rpcError {
                try await api.albums.updateAlbum(.with {
                    $0.albumID = created.id
                    $0.coverImageID = ids[1]
                }, metadata: TestAPI.bearer(token))
            }
            #expect(badCover?.code == .invalidArgument && badCover?.message.contains("cover_image_id") == true)

            let listed = try await api.albums.listAlbumImages(.with { $0.albumID = created.id }, metadata: TestAPI.bearer(token))
            #expect(listed.images.map(\.id) == [ids[2], ids[0]])

            // Trashed photos leave the album's figures; deleting the album keeps the photos.
            _ = try await api.images.deleteImage(.with { $0.imageID = ids[2] }, metadata: TestAPI.bearer(token))
            #expect(try await api.albums.getAlbum(.with { $0.albumID = created.id }, metadata: TestAPI.bearer(token)).album.imageCount == 1)
            _ = try await api.albums.deleteAlbum(.with { $0.albumID = created.id }, metadata: TestAPI.bearer(token))
            let gone = await rpcError { try await api.albums.getAlbum(.with { $0.albumID = created.id }, metadata: TestAPI.bearer(token)) }
            #expect(gone?.code == .notFound)
            #expect(try await api.count("images") == 4)
            #expect(try await api.count("albums") == 0)
        }
    }

    @Test func titlesDescriptionsAndIdsOutsideTheLimitsAreRefusedWithTheField() async throws {
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let cases: [(Photovault_V1_CreateAlbumRequest, String)] = [
                (.with { $0.title = String(repeating: "a", count: 201) }, "title"),
                (.with { $0.title = "   " }, "title"),
                (.with { $0.title = "tab\tbed" }, "title"),
                (.with { $0.title = "ok"; $0.description_p = String(repeating: "d", count: 10_001) }, "description"),
                (.with { $0.title = "ok"; $0.imageIds = ["not-an-id"] }, "image_ids"),
                (.with { $0.title = "ok"; $0.imageIds = [UUID().uuidString]; $0.coverImageID = UUID().uuidString }, "cover_image_id"),
            ]
            for (request, field) in cases {
                let error = await rpcError { try await api.albums.createAlbum(request, metadata: TestAPI.bearer(token)) }
                #expect(error?.code == .invalidArgument && error?.message.hasPrefix(field) == true, "\(field): \(String(describing: error))")
            }
            let longest = try await api.albums.createAlbum(.with { $0.title = String(repeating: "é", count: 200) }, metadata: TestAPI.bearer(token))
            #expect(longest.album.title.count == 200)
            #expect(try await api.count("albums") == 1)
            let badID = await rpcError { try await api.albums.getAlbum(.with { $0.albumID = "nope" }, metadata: TestAPI.bearer(token)) }
            #expect(badID?.code == .invalidArgument)
            let unknown = await rpcError { try await api.albums.getAlbum(.with { $0.albumID = UUID().uuidString }, metadata: TestAPI.bearer(token)) }
            #expect(unknown?.code == .notFound)
            let anonymous = await rpcError { try await api.albums.listAlbums(.init()) }
            #expect(anonymous?.code == .unauthenticated)
        }
    }

    @Test func tenThousandImagesGoIntoAnAlbumInOneCallAndPageInOrder() async throws {
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let owner = try await api.userID(token)
            let ids = try await api.seedImages(owner: owner, count: 10_001)
            let album = try await api.albums.createAlbum(.with { $0.title = "Everything" }, metadata: TestAPI.bearer(token)).album
            let added = try await api.albums.addImages(.with {
                $0.albumID = album.id
                $0.imageIds = ids.prefix(10_000).map(\.lowercased)
            }, metadata: TestAPI.bearer(token))
            #expect(added.addedCount == 10_000 && added.album.imageCount == 10_000)
            let tooMany = await rpcError {
                try await api.albums.addImages(.with {
                    $0.albumID = album.id
                    $0.imageIds = ids.map(\.lowercased)
                }, metadata: TestAPI.bearer(token))
            }
            #expect(tooMany?.code == .invalidArgument && tooMany?.message.contains("10000") == true)

            var seen: [String] = []
            var token2 = ""
            repeat {
                let page = try await api.albums.listAlbumImages(.with {
                    $0.albumID = album.id
                    $0.pageSize = 500
                    $0.pageToken = token2
                }, metadata: TestAPI.bearer(token))
                seen += page.images.map(\.id)
                token2 = page.nextPageToken
            } while !token2.isEmpty
            // Seeded an hour apart: oldest capture first, no repeats, none missing.
            #expect(seen == ids.prefix(10_000).map(\.lowercased))
        }
    }

    @Test func uploadingIntoAnAlbumAddsThePhotoButAnotherUsersAlbumIsNotFoundBeforeAnyByteIsStored() async throws {
        let fixtures = try Fixtures()
        let photo = try placedJPEG(fixtures, taken: "2024:01:01 10:00:00")
        let second = try placedJPEG(fixtures, taken: "2024:01:02 10:00:00")
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            let album = try await api.albums.createAlbum(.with { $0.title = "Inbox" }, metadata: TestAPI.bearer(token)).album
            let theirs = try await api.albums.createAlbum(.with { $0.title = "Theirs" }, metadata: TestAPI.bearer(other)).album

            let stored = try await api.send([
                .with { $0.header = .with { $0.fileName = "a.jpg"; $0.albumID = album.id } },
                .with { $0.chunk = Data(photo) },
            ], token: token)
            // Its derivatives job holds a staging file while it decodes: let it finish first, so
            // that the staging check below sees only what the refused uploads left.
            _ = try await api.watchUntilProcessed([stored.image.id], token: token)
            let listed = try await api.albums.listAlbumImages(.with { $0.albumID = album.id }, metadata: TestAPI.bearer(token))
            #expect(listed.images.map(\.id) == [stored.image.id])

            for albumID in [theirs.id, UUID().uuidString, "garbage"] {
                let refused = await rpcError {
                    try await api.send([
                        .with { $0.header = .with { $0.fileName = "b.jpg"; $0.albumID = albumID } },
                        .with { $0.chunk = Data(second) },
                    ], token: token)
                }
                #expect(refused?.code == .notFound)
                let session = await rpcError {
                    try await api.images.createUploadSession(.with {
                        $0.fileName = "b.jpg"
                        $0.totalSize = Int64(second.count)
                        $0.albumID = albumID
                    }, metadata: TestAPI.bearer(token))
                }
                #expect(session?.code == .notFound)
            }
            #expect(try await api.count("images") == 1)
            #expect(try await api.count("upload_sessions") == 0)
            #expect(api.stagingFiles.isEmpty)

            // A resumable upload into the album, and the same bytes again: the album is still applied.
            let opened = try await api.images.createUploadSession(.with {
                $0.fileName = "b.jpg"
                $0.totalSize = Int64(second.count)
                $0.albumID = album.id
            }, metadata: TestAPI.bearer(token))
            _ = try await api.sendChunks([.with { $0.sessionID = opened.sessionID; $0.offset = 0; $0.data = Data(second) }], token: token)
            let finished = try await api.images.finishUpload(.with { $0.sessionID = opened.sessionID }, metadata: TestAPI.bearer(token))
            let other2 = try await api.albums.createAlbum(.with { $0.title = "Second" }, metadata: TestAPI.bearer(token)).album
            let duplicate = try await api.send([
                .with { $0.header = .with { $0.fileName = "again.jpg"; $0.albumID = other2.id } },
                .with { $0.chunk = Data(photo) },
            ], token: token)
            #expect(duplicate.duplicate)
            #expect(try await api.albums.getAlbum(.with { $0.albumID = album.id }, metadata: TestAPI.bearer(token)).album.imageCount == 2)
            let secondList = try await api.albums.listAlbumImages(.with { $0.albumID = other2.id }, metadata: TestAPI.bearer(token))
            #expect(secondList.images.map(\.id) == [stored.image.id])
            #expect(!finished.image.id.isEmpty)
        }
    }

    @Test func generatingTripsAndPlacesTwiceChangesNothingAndLeavesEditedAndDeletedAlbumsAlone() async throws {
        let fixtures = try Fixtures()
        // Notre-Dame (Paris) on 3–4 June, Tokyo Tower on 10 August, and one photo without date or GPS.
        let paris = try [
            placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 48.8530, longitude: 2.3499),
            placedJPEG(fixtures, taken: "2024:06:03 20:00:00", latitude: 48.8530, longitude: 2.3499),
            placedJPEG(fixtures, taken: "2024:06:04 11:00:00", latitude: 48.8530, longitude: 2.3499),
        ]
        let tokyo = try [
            placedJPEG(fixtures, taken: "2024:08:10 08:00:00", latitude: 35.6586, longitude: 139.7454),
            placedJPEG(fixtures, taken: "2024:08:10 12:00:00", latitude: 35.6586, longitude: 139.7454),
        ]
        let loose = try placedJPEG(fixtures, taken: nil)
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            var parisIDs: [String] = [], tokyoIDs: [String] = []
            for photo in paris { parisIDs.append(try await api.upload(photo, token: token).image.id) }
            for photo in tokyo { tokyoIDs.append(try await api.upload(photo, token: token).image.id) }
            let looseID = try await api.upload(loose, token: token).image.id

            let first = try await api.albums.generateAlbums(.init(), metadata: TestAPI.bearer(token))
            #expect(first.createdCount == 4 && first.updatedCount == 0)
            let trips = try await api.albums.listAlbums(.with { $0.kind = .trip }, metadata: TestAPI.bearer(token)).albums
            #expect(trips.map(\.title) == ["Tokyo, 10 Aug 2024", "Paris, 3–4 Jun 2024"])
            #expect(trips.map(\.imageCount) == [2, 3])
            #expect(trips[1].place.city == "Paris" && trips[1].place.countryCode == "FR")
            let places = try await api.albums.listAlbums(.with { $0.kind = .location }, metadata: TestAPI.bearer(token)).albums
            #expect(Set(places.map(\.title)) == ["Paris, France", "Tokyo, Japan"])
            let everything = try await api.albums.listAlbums(.init(), metadata: TestAPI.bearer(token)).albums
            #expect(everything.count == 4)
            #expect(try await api.albums.listAlbums(.init(), metadata: TestAPI.bearer(other)).albums.isEmpty)

            let second = try await api.albums.generateAlbums(.init(), metadata: TestAPI.bearer(token))
            #expect(second.createdCount == 0 && second.updatedCount == 0)
            #expect(try await api.count("albums") == 4)

            // The owner renames the Paris trip and deletes the Tokyo place album.
            let renamed = try await api.albums.updateAlbum(.with {
                $0.albumID = trips[1].id
                $0.title = "Honeymoon"
            }, metadata: TestAPI.bearer(token)).album
            #expect(renamed.editedByUser)
            let tokyoPlace = try #require(places.first { $0.title == "Tokyo, Japan" })
            _ = try await api.albums.deleteAlbum(.with { $0.albumID = tokyoPlace.id }, metadata: TestAPI.bearer(token))
            // A new Paris photo joins the place album but not the edited trip.
            let later = try placedJPEG(fixtures, taken: "2024:06:04 18:00:00", latitude: 48.8530, longitude: 2.3499)
            _ = try await api.upload(later, token: token)

            let third = try await api.albums.generateAlbums(.init(), metadata: TestAPI.bearer(token))
            #expect(third.createdCount == 0 && third.updatedCount == 1)
            let after = try await api.albums.listAlbums(.init(), metadata: TestAPI.bearer(token)).albums
            #expect(Set(after.map(\.title)) == ["Honeymoon", "Tokyo, 10 Aug 2024", "Paris, France"])
            #expect(after.first { $0.title == "Honeymoon" }?.imageCount == 3)
            #expect(after.first { $0.title == "Paris, France" }?.imageCount == 4)
            _ = looseID

            // A shorter gap splits the Tokyo morning from its noon.
            let split = try await api.albums.generateAlbums(.with {
                $0.kinds = [.trip]
                $0.tripGapHours = 2
            }, metadata: TestAPI.bearer(token))
            #expect(split.createdCount == 0)
            let tripsNow = try await api.albums.listAlbums(.with { $0.kind = .trip }, metadata: TestAPI.bearer(token)).albums
            #expect(tripsNow.map(\.title) == ["Honeymoon"])

            for (request, code) in [
                (Photovault_V1_GenerateAlbumsRequest.with { $0.kinds = [.manual] }, RPCError.Code.invalidArgument),
                (.with { $0.tripGapHours = -1 }, .invalidArgument),
            ] {
                let error = await rpcError { try await api.albums.generateAlbums(request, metadata: TestAPI.bearer(token)) }
                #expect(error?.code == code)
            }
        }
    }

    @Test func photosAreGroupedByPlaceAndByCaptureDateWithCountsAndCovers() async throws {
        let fixtures = try Fixtures()
        let photos = try [
            placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 48.8530, longitude: 2.3499),
            placedJPEG(fixtures, taken: "2024:06:04 11:00:00", latitude: 48.8530, longitude: 2.3499),
            placedJPEG(fixtures, taken: "2023:08:10 08:00:00", latitude: 35.6586, longitude: 139.7454),
            placedJPEG(fixtures, taken: nil),
        ]
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            var ids: [String] = []
            for photo in photos { ids.append(try await api.upload(photo, token: token).image.id) }

            let byPlace = try await api.albums.listByLocation(.init(), metadata: TestAPI.bearer(token))
            #expect(byPlace.countries.map(\.countryCode) == ["FR", "JP"])
            #expect(byPlace.countries[0].countryName == "France" && byPlace.countries[0].imageCount == 2)
            #expect(byPlace.countries[0].cities.map(\.city) == ["Paris"] && byPlace.countries[0].cities[0].coverImageID == ids[1])
            #expect(byPlace.countries[0].coverImageID == ids[1] && byPlace.countries[1].cities[0].city == "Tokyo")
            #expect(byPlace.unknownLocationCount == 1)
            let firstPage = try await api.albums.listByLocation(.with { $0.pageSize = 1 }, metadata: TestAPI.bearer(token))
            let secondPage = try await api.albums.listByLocation(.with {
                $0.pageSize = 1
                $0.pageToken = firstPage.nextPageToken
            }, metadata: TestAPI.bearer(token))
            #expect(firstPage.countries.map(\.countryCode) == ["FR"] && secondPage.countries.map(\.countryCode) == ["JP"])
            #expect(secondPage.nextPageToken.isEmpty)
            let japan = try await api.albums.listByLocation(.with { $0.countryCode = "jp" }, metadata: TestAPI.bearer(token))
            #expect(japan.countries.map(\.countryCode) == ["JP"])
            let badCode = await rpcError { try await api.albums.listByLocation(.with { $0.countryCode = "France" }, metadata: TestAPI.bearer(token)) }
            #expect(badCode?.code == .invalidArgument)
            #expect(try await api.albums.listByLocation(.init(), metadata: TestAPI.bearer(other)).countries.isEmpty)

            let months = try await api.albums.listByDate(.init(), metadata: TestAPI.bearer(token))
            #expect(months.groups.map { [$0.date.year, $0.date.month, $0.date.day] } == [[2024, 6, 0], [2023, 8, 0]])
            #expect(months.groups.map(\.imageCount) == [2, 1] && months.groups[0].coverImageID == ids[1] && months.undatedCount == 1)
            let days = try await api.albums.listByDate(.with {
                $0.granularity = .day
                $0.year = 2024
                $0.month = 6
            }, metadata: TestAPI.bearer(token))
            #expect(days.groups.map(\.date.day) == [4, 3])
            let years = try await api.albums.listByDate(.with { $0.granularity = .year }, metadata: TestAPI.bearer(token))
            #expect(years.groups.map(\.date.year) == [2024, 2023])
            let badMonth = await rpcError { try await api.albums.listByDate(.with { $0.month = 13; $0.year = 2024 }, metadata: TestAPI.bearer(token)) }
            #expect(badMonth?.code == .invalidArgument)
            #expect(try await api.albums.listByDate(.init(), metadata: TestAPI.bearer(other)).groups.isEmpty)
        }
    }
}
