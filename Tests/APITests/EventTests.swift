import Crypto
import Foundation
import GRPCCore
import PhotoVaultProto
import PostgresNIO
import SwiftProtobuf
import TestImages
import Testing
@testable import API

/// EventService: roles, bad input, isolation between photographers, guests and their share
/// links (which reach one event's previews, and originals only when allowed), uploads into
/// events, and FindMyPhotos end to end with real faces.
@Suite("Events and share links")
struct EventTests {
    @Test func onlyPhotographersAndAdminsManageEvents() async throws {
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let event = try await api.createEvent("Wedding", token: cast.alice)
            let link = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: TestAPI.bearer(cast.alice)).link
            let member = TestAPI.bearer(cast.member)
            let calls: [(String, () async throws -> Void)] = [
                ("CreateEvent", { _ = try await api.events.createEvent(.with { $0.title = "Mine" }, metadata: member) }),
                ("GetEvent", { _ = try await api.events.getEvent(.with { $0.eventID = event.id }, metadata: member) }),
                ("ListEvents", { _ = try await api.events.listEvents(.init(), metadata: member) }),
                ("AddEventImages", {
                    _ = try await api.events.addEventImages(.with {
                        $0.eventID = event.id
                        $0.imageIds = [UUID().uuidString]
                    }, metadata: member)
                }),
                ("CreateShareLink", { _ = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: member) }),
                ("RevokeShareLink", { _ = try await api.events.revokeShareLink(.with { $0.shareLinkID = link.id }, metadata: member) }),
                ("ListShareLinks", { _ = try await api.events.listShareLinks(.with { $0.eventID = event.id }, metadata: member) }),
            ]
            for (name, call) in calls {
                let refused = await rpcError { try await call() }
                #expect(refused?.code == .permissionDenied, "\(name): \(String(describing: refused))")
                #expect(refused?.message == "Only photographer or admin accounts may create and manage events.", "\(name)")
            }
            let anonymous = await rpcError { try await api.events.createEvent(.with { $0.title = "Mine" }) }
            #expect(anonymous?.code == .unauthenticated)
            let everyone = await rpcError { try await api.events.listEvents(.with { $0.allUsers = true }, metadata: TestAPI.bearer(cast.alice)) }
            #expect(everyone?.code == .permissionDenied && everyone?.message.contains("admin") == true)
            #expect(try await api.count("events") == 1)

            // SetUserRole makes the member a photographer, who may then create events.
            _ = try await api.admin.setUserRole(.with {
                $0.userID = cast.memberID
                $0.role = .photographer
            }, metadata: TestAPI.bearer(cast.admin))
            let promoted = try await api.createEvent("Promoted", token: cast.member)
            #expect(promoted.ownerID == cast.memberID && promoted.id > event.id)
        }
    }

    @Test func badEventInputIsRefusedWithTheFieldNamedAndNothingWritten() async throws {
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let event = try await api.createEvent("Conference", token: cast.alice)
            let link = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: auth).link
            let start = Date(timeIntervalSince1970: 1_750_000_000)
            func create(_ edit: (inout Photovault_V1_CreateEventRequest) -> Void) async -> RPCError? {
                var request = Photovault_V1_CreateEventRequest.with { $0.title = "Good title" }
                edit(&request)
                return await rpcError { try await api.events.createEvent(request, metadata: auth) }
            }
            let refusals: [(String, String, RPCError?)] = [
                ("empty title", "title is empty", await create { $0.title = "  " }),
                ("long title", "title is 201 characters", await create { $0.title = String(repeating: "t", count: 201) }),
                ("long description", "description is 10001", await create { $0.description_p = String(repeating: "d", count: 10_001) }),
                ("long location", "location is 501", await create { $0.location = String(repeating: "l", count: 501) }),
                ("backwards", "ends_at is before starts_at", await create {
                    $0.startsAt = Google_Protobuf_Timestamp(date: start)
                    $0.endsAt = Google_Protobuf_Timestamp(date: start.addingTimeInterval(-60))
                }),
                ("year 10000", "starts_at must be a time", await create { $0.startsAt = .with { $0.seconds = 300_000_000_000 } }),
                ("event 0", "event_id must name an event", await rpcError { try await api.events.getEvent(.init(), metadata: auth) }),
                ("page size", "page_size must be between 1 and 500", await rpcError {
                    try await api.events.listEvents(.with { $0.pageSize = 501 }, metadata: auth)
                }),
                ("negative page size", "page_size must be between", await rpcError {
                    try await api.events.listEvents(.with { $0.pageSize = -1 }, metadata: auth)
                }),
                ("forged page token", "page_token", await rpcError {
                    try await api.events.listEvents(.with { $0.pageToken = "bm90LWEtdG9rZW4" }, metadata: auth)
                }),
                ("1,001 images", "image_ids holds 1001 ids; at most 1000", await rpcError {
                    try await api.events.addEventImages(.with {
                        $0.eventID = event.id
                        $0.imageIds = (0...1000).map { _ in UUID().uuidString }
                    }, metadata: auth)
                }),
                ("malformed image id", "image_ids contains 'not-an-id'", await rpcError {
                    try await api.events.addEventImages(.with {
                        $0.eventID = event.id
                        $0.imageIds = ["not-an-id"]
                    }, metadata: auth)
                }),
                ("no images", "image_ids is empty", await rpcError {
                    try await api.events.addEventImages(.with { $0.eventID = event.id }, metadata: auth)
                }),
                ("expired link", "expires_at is in the past", await rpcError {
                    try await api.events.createShareLink(.with {
                        $0.eventID = event.id
                        $0.expiresAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                    }, metadata: auth)
                }),
                ("short password", "password must be 4 to 1024 characters", await rpcError {
                    try await api.events.createShareLink(.with {
                        $0.eventID = event.id
                        $0.password = "abc"
                    }, metadata: auth)
                }),
                ("long password", "password must be 4 to 1024 characters", await rpcError {
                    try await api.events.createShareLink(.with {
                        $0.eventID = event.id
                        $0.password = String(repeating: "p", count: 1025)
                    }, metadata: auth)
                }),
                ("malformed link id", "share_link_id is not a valid id", await rpcError {
                    try await api.events.revokeShareLink(.with { $0.shareLinkID = "'; DROP TABLE share_links; --" }, metadata: auth)
                }),
                ("link page size", "page_size must be between", await rpcError {
                    try await api.events.listShareLinks(.with {
                        $0.eventID = event.id
                        $0.pageSize = 501
                    }, metadata: auth)
                }),
                ("guest page size", "page_size must be between", await rpcError {
                    try await api.events.openSharedEvent(.with {
                        $0.shareToken = link.token
                        $0.pageSize = 501
                    })
                }),
                ("guest page token", "page_token", await rpcError {
                    try await api.events.openSharedEvent(.with {
                        $0.shareToken = link.token
                        $0.pageToken = "bm90LWEtdG9rZW4"
                    })
                }),
                ("empty selfie", "selfie is empty", await rpcError {
                    try await api.events.findMyPhotos(.with { $0.shareToken = link.token })
                }),
            ]
            for (name, expected, error) in refusals {
                #expect(error?.code == .invalidArgument, "\(name): \(String(describing: error))")
                #expect(error?.message.hasPrefix(expected) == true, "\(name): \(error?.message ?? "no error")")
            }
            #expect(try await api.count("events") == 1)
            #expect(try await api.count("share_links") == 1)
        }
    }

    @Test func anotherPhotographersEventsAndLinksAnswerNotFoundExceptToAdmins() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let alice = TestAPI.bearer(cast.alice), bob = TestAPI.bearer(cast.bob), admin = TestAPI.bearer(cast.admin)
            let aliceEvent = try await api.createEvent("Alice's shoot", token: cast.alice)
            let bobEvent = try await api.createEvent("Bob's shoot", token: cast.bob)
            let aliceImage = try await api.upload(try fixtures.bytes(try fixtures.image("a.jpg", width: 300, height: 200)), token: cast.alice).image
            let bobImage = try await api.upload(try fixtures.bytes(try fixtures.image("b.jpg", width: 301, height: 200)), token: cast.bob).image
            let aliceLink = try await api.events.createShareLink(.with { $0.eventID = aliceEvent.id }, metadata: alice).link

            let unknown = await rpcError { try await api.events.getEvent(.with { $0.eventID = 987_654 }, metadata: bob) }
            #expect(unknown?.code == .notFound && unknown?.message == "Event 987654 was not found.")
            let calls: [(String, () async throws -> Void)] = [
                ("GetEvent", { _ = try await api.events.getEvent(.with { $0.eventID = aliceEvent.id }, metadata: bob) }),
                ("AddEventImages", {
                    _ = try await api.events.addEventImages(.with {
                        $0.eventID = aliceEvent.id
                        $0.imageIds = [bobImage.id]
                    }, metadata: bob)
                }),
                ("CreateShareLink", { _ = try await api.events.createShareLink(.with { $0.eventID = aliceEvent.id }, metadata: bob) }),
                ("ListShareLinks", { _ = try await api.events.listShareLinks(.with { $0.eventID = aliceEvent.id }, metadata: bob) }),
            ]
            for (name, call) in calls {
                let refused = await rpcError { try await call() }
                #expect(refused?.code == .notFound && refused?.message == "Event \(aliceEvent.id) was not found.", "\(name): \(String(describing: refused))")
            }
            let revoke = await rpcError { try await api.events.revokeShareLink(.with { $0.shareLinkID = aliceLink.id }, metadata: bob) }
            #expect(revoke?.code == .notFound)
            #expect(try await api.events.listEvents(.init(), metadata: bob).events.map(\.id) == [bobEvent.id])
            // Bob cannot file Alice's image under his own event either.
            let foreign = try await api.events.addEventImages(.with {
                $0.eventID = bobEvent.id
                $0.imageIds = [aliceImage.id]
            }, metadata: bob)
            #expect(foreign.addedCount == 0 && foreign.notFoundImageIds == [aliceImage.id])
            #expect(try await api.image(aliceImage.id, token: cast.alice).hasEventID == false)
            #expect(try await api.count("share_links") == 1)
            #expect(try await api.events.listShareLinks(.with { $0.eventID = aliceEvent.id }, metadata: alice).links.map(\.revoked) == [false])

            // An admin reaches every event: reads, lists all users', files the owner's images and manages links.
            #expect(try await api.events.getEvent(.with { $0.eventID = aliceEvent.id }, metadata: admin).event.title == "Alice's shoot")
            #expect(try await api.events.listEvents(.init(), metadata: admin).events.isEmpty)
            let all = try await api.events.listEvents(.with { $0.allUsers = true }, metadata: admin).events
            #expect(Set(all.map(\.id)) == [aliceEvent.id, bobEvent.id])
            let filed = try await api.events.addEventImages(.with {
                $0.eventID = aliceEvent.id
                $0.imageIds = [aliceImage.id, bobImage.id]
            }, metadata: admin)
            #expect(filed.addedCount == 1 && filed.notFoundImageIds == [bobImage.id])
            let revoked = try await api.events.revokeShareLink(.with { $0.shareLinkID = aliceLink.id }, metadata: admin).link
            #expect(revoked.revoked && revoked.token.isEmpty)
        }
    }

    @Test func addingImagesMovesThemBetweenEventsAndReportsTheOnesNotFound() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let first = try await api.createEvent("Day one", token: cast.alice)
            let second = try await api.createEvent("Day two", token: cast.alice)
            var ids: [String] = []
            for index in 0..<4 {
                ids.append(try await api.upload(try fixtures.bytes(try fixtures.image("i\(index).jpg", width: 300 + index, height: 200)), token: cast.alice).image.id)
            }
            _ = try await api.images.deleteImage(.with { $0.imageID = ids[3] }, metadata: auth)
            func add(_ event: Int64, _ images: [String]) async throws -> Photovault_V1_AddEventImagesResponse {
                try await api.events.addEventImages(.with {
                    $0.eventID = event
                    $0.imageIds = images
                }, metadata: auth)
            }
            let added = try await add(first.id, [ids[0], ids[1], ids[1].uppercased()])
            #expect(added.addedCount == 2 && added.notFoundImageIds.isEmpty)
            #expect(try await add(first.id, [ids[0], ids[1]]).addedCount == 0)
            let missing = UUID().uuidString.lowercased()
            let moved = try await add(second.id, [ids[1], ids[2], ids[3], missing])
            #expect(moved.addedCount == 2 && Set(moved.notFoundImageIds) == [ids[3], missing])
            #expect(try await api.events.getEvent(.with { $0.eventID = first.id }, metadata: auth).event.imageCount == 1)
            #expect(try await api.events.getEvent(.with { $0.eventID = second.id }, metadata: auth).event.imageCount == 2)
            #expect(try await api.image(ids[1], token: cast.alice).eventID == second.id)
            #expect(try await api.image(ids[3], token: cast.alice).hasEventID == false)
            let listed = try await api.images.listImages(.with { $0.eventID = second.id }, metadata: auth).images.map(\.id)
            #expect(Set(listed) == [ids[1], ids[2]])
        }
    }

    @Test func uploadsAndResumableSessionsFileImagesOnlyUnderTheUploadersEvents() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let event = try await api.createEvent("Gala", token: cast.alice)
            let other = try await api.createEvent("After-party", token: cast.alice)
            func upload(_ bytes: [UInt8], event: Int64, token: String) async throws -> Photovault_V1_UploadResponse {
                try await api.send([
                    .with { $0.header = .with {
                        $0.fileName = "gala.jpg"
                        $0.declaredSize = Int64(bytes.count)
                        $0.eventID = event
                    } },
                    .with { $0.chunk = Data(bytes) },
                ], token: token)
            }
            let first = try fixtures.bytes(try fixtures.image("first.jpg", width: 320, height: 200))
            let stored = try await upload(first, event: event.id, token: cast.alice)
            #expect(!stored.duplicate && stored.image.eventID == event.id)

            // Bob cannot upload into Alice's event, by either path; nothing of his is stored.
            let foreign = await rpcError { try await upload(first, event: event.id, token: cast.bob) }
            #expect(foreign?.code == .notFound && foreign?.message == "Event \(event.id) was not found.")
            let foreignSession = await rpcError {
                try await api.images.createUploadSession(.with {
                    $0.fileName = "gala.jpg"
                    $0.totalSize = Int64(first.count)
                    $0.eventID = event.id
                }, metadata: TestAPI.bearer(cast.bob))
            }
            #expect(foreignSession?.code == .notFound)
            let unset = await rpcError { try await upload(first, event: 0, token: cast.alice) }
            #expect(unset?.code == .notFound)
            #expect(try await api.number("SELECT count(*) FROM images WHERE owner_id = '\(cast.bobID)'") == 0)
            #expect(try await api.count("upload_sessions") == 0)

            // A resumable upload into the event.
            let second = try fixtures.bytes(try fixtures.image("second.jpg", width: 321, height: 200))
            let session = try await api.images.createUploadSession(.with {
                $0.fileName = "second.jpg"
                $0.totalSize = Int64(second.count)
                $0.eventID = other.id
            }, metadata: auth)
            _ = try await api.sendChunks([.with {
                $0.sessionID = session.sessionID
                $0.data = Data(second)
            }], token: cast.alice)
            let finished = try await api.images.finishUpload(.with { $0.sessionID = session.sessionID }, metadata: auth)
            #expect(finished.image.eventID == other.id)

            // A duplicate takes the event only when its image is in none yet.
            let loose = try fixtures.bytes(try fixtures.image("loose.jpg", width: 322, height: 200))
            let looseImage = try await api.upload(loose, token: cast.alice).image
            #expect(!looseImage.hasEventID)
            let again = try await upload(loose, event: other.id, token: cast.alice)
            #expect(again.duplicate && again.image.id == looseImage.id && again.image.eventID == other.id)
            let moved = try await upload(loose, event: event.id, token: cast.alice)
            #expect(moved.duplicate && moved.image.eventID == other.id)
        }
    }

    @Test func aGuestLinkReachesOnlyItsEventsPreviewsAndOnlyTheSharedRPCs() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let party = try await api.createEvent("Party", token: cast.alice, location: "Town hall, Leipzig")
            let meeting = try await api.createEvent("Meeting", token: cast.alice)
            var originals: [String: [UInt8]] = [:]
            func upload(_ name: String, width: Int, token: String) async throws -> String {
                let bytes = try fixtures.bytes(try fixtures.image(name, width: width, height: 240))
                let id = try await api.upload(bytes, name: name, token: token).image.id
                originals[id] = bytes
                return id
            }
            let p1 = try await upload("p1.jpg", width: 320, token: cast.alice)
            let p2 = try await upload("p2.jpg", width: 321, token: cast.alice)
            let m1 = try await upload("m1.jpg", width: 322, token: cast.alice)
            let loose = try await upload("loose.jpg", width: 323, token: cast.alice)
            let bobs = try await upload("bob.jpg", width: 324, token: cast.bob)
            _ = try await api.events.addEventImages(.with {
                $0.eventID = party.id
                $0.imageIds = [p1, p2]
            }, metadata: auth)
            _ = try await api.events.addEventImages(.with {
                $0.eventID = meeting.id
                $0.imageIds = [m1]
            }, metadata: auth)
            _ = try await api.watchUntilProcessed([p1, p2, m1, loose], token: cast.alice)
            _ = try await api.watchUntilProcessed([bobs], token: cast.bob)
            func link(_ event: Int64, allowDownload: Bool = false) async throws -> Photovault_V1_ShareLink {
                try await api.events.createShareLink(.with {
                    $0.eventID = event
                    $0.allowDownload = allowDownload
                }, metadata: auth).link
            }
            let previewsOnly = try await link(party.id)
            let originalsToo = try await link(party.id, allowDownload: true)
            #expect(previewsOnly.token.count == 43 && !previewsOnly.hasPassword_p && !previewsOnly.allowDownload)

            // The guest view: the event without its owner, its images oldest first, page by page.
            let view = try await api.events.openSharedEvent(.with { $0.shareToken = previewsOnly.token })
            #expect(view.event.title == "Party" && view.event.location == "Town hall, Leipzig" && view.event.ownerID.isEmpty)
            #expect(view.event.imageCount == 2 && view.images.map(\.id) == [p1, p2] && !view.allowDownload && !view.hasLinkExpiresAt)
            #expect(view.images.first?.width == 320 && view.images.first?.height == 240)
            let page = try await api.events.openSharedEvent(.with {
                $0.shareToken = previewsOnly.token
                $0.pageSize = 1
            })
            #expect(page.images.map(\.id) == [p1] && !page.nextPageToken.isEmpty)
            let rest = try await api.events.openSharedEvent(.with {
                $0.shareToken = previewsOnly.token
                $0.pageSize = 1
                $0.pageToken = page.nextPageToken
            })
            #expect(rest.images.map(\.id) == [p2] && rest.nextPageToken.isEmpty)

            // Previews and thumbnails of the event's images; originals only through the link that allows them.
            let thumbnail = try await api.guestDownload(p1, variant: .thumbnail, shareToken: previewsOnly.token)
            #expect(thumbnail.header.contentType == "image/webp" && !thumbnail.bytes.isEmpty)
            let preview = try await api.guestDownload(p2, variant: .preview, shareToken: previewsOnly.token)
            #expect(preview.header.contentType == "image/jpeg" && Array(preview.bytes.prefix(3)) == [0xFF, 0xD8, 0xFF])
            let refused = await rpcError { try await api.guestDownload(p1, variant: .original, shareToken: previewsOnly.token) }
            #expect(refused?.code == .permissionDenied && refused?.message.contains("does not allow downloading originals") == true)
            let original = try await api.guestDownload(p1, variant: .original, shareToken: originalsToo.token)
            #expect(sameBytes(original.bytes, originals[p1] ?? []))

            // Nothing outside the event: another event's image, a loose one, another user's.
            for (name, id) in [("other event", m1), ("no event", loose), ("another user", bobs)] {
                for variant in [Photovault_V1_ImageVariant.thumbnail, .preview, .original] {
                    let outside = await rpcError { try await api.guestDownload(id, variant: variant, shareToken: originalsToo.token) }
                    #expect(outside?.code == .notFound && outside?.message == "Image \(id) was not found.", "\(name) \(variant)")
                }
            }
            // A token is no sign-in: every other RPC refuses it.
            let bearer = TestAPI.bearer(originalsToo.token)
            let asBearer: [(String, () async throws -> Void)] = [
                ("ListImages", { _ = try await api.images.listImages(.with { $0.eventID = party.id }, metadata: bearer) }),
                ("GetImage", { _ = try await api.images.getImage(.with { $0.imageID = p1 }, metadata: bearer) }),
                ("Download", { _ = try await api.download(p1, token: originalsToo.token) }),
                ("GetEvent", { _ = try await api.events.getEvent(.with { $0.eventID = party.id }, metadata: bearer) }),
                ("ListShareLinks", { _ = try await api.events.listShareLinks(.with { $0.eventID = party.id }, metadata: bearer) }),
                ("Search", { _ = try await api.search.search(.with { $0.query = "party" }, metadata: bearer) }),
                ("ListAlbums", { _ = try await Photovault_V1_AlbumService.Client(wrapping: api.client).listAlbums(.init(), metadata: bearer) }),
            ]
            for (name, call) in asBearer {
                #expect(await rpcError { try await call() }?.code == .unauthenticated, "\(name)")
            }

            // Moving an image out of the event, or trashing it, takes it away from guests at once.
            _ = try await api.events.addEventImages(.with {
                $0.eventID = meeting.id
                $0.imageIds = [p1]
            }, metadata: auth)
            _ = try await api.images.deleteImage(.with { $0.imageID = p2 }, metadata: auth)
            for id in [p1, p2] {
                #expect(await rpcError { try await api.guestDownload(id, variant: .preview, shareToken: originalsToo.token) }?.code == .notFound)
            }
            #expect(try await api.events.openSharedEvent(.with { $0.shareToken = previewsOnly.token }).images.isEmpty)

            // The server keeps only the token's SHA-256.
            let digest = Data(SHA256.hash(data: Data(previewsOnly.token.utf8)))
            #expect(try await api.number("SELECT count(*) FROM share_links WHERE token_hash = decode('\(digest.hex)', 'hex')") == 1)
            #expect(try await api.number(
                "SELECT count(*) FROM share_links WHERE position('\(previewsOnly.token)' IN row(share_links.*)::text) > 0") == 0)
        }
    }

    @Test func revokedExpiredAndForgedTokensAnswerNotFoundAlike() async throws {
        try await withTestAPI { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let event = try await api.createEvent("Recital", token: cast.alice)
            let expiry = Date().addingTimeInterval(3600)
            var links: [Photovault_V1_ShareLink] = []
            for index in 0..<3 {
                links.append(try await api.events.createShareLink(.with {
                    $0.eventID = event.id
                    if index == 1 { $0.expiresAt = Google_Protobuf_Timestamp(date: expiry) }
                }, metadata: auth).link)
            }
            let opened = try await api.events.openSharedEvent(.with { $0.shareToken = links[1].token })
            #expect(abs(opened.linkExpiresAt.date.timeIntervalSince(expiry)) < 0.001)

            let revoked = try await api.events.revokeShareLink(.with { $0.shareLinkID = links[0].id }, metadata: auth).link
            #expect(revoked.revoked)
            #expect(try await api.events.revokeShareLink(.with { $0.shareLinkID = links[0].id }, metadata: auth).link == revoked)
            try await api.database.execute(
                "UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = \(UUID(uuidString: links[1].id)!)")
            let forged = String(links[2].token.reversed())
            for token in [links[0].token, links[1].token, forged, "", String(repeating: "x", count: 5000)] {
                let open = await rpcError { try await api.events.openSharedEvent(.with { $0.shareToken = token }) }
                #expect(open?.code == .notFound && open?.message == "This share link does not work: it is unknown, revoked or expired.")
                let find = await rpcError {
                    try await api.events.findMyPhotos(.with {
                        $0.shareToken = token
                        $0.selfie = Data([0xFF, 0xD8, 0xFF])
                    })
                }
                #expect(find?.code == .notFound)
                if !token.isEmpty {
                    #expect(await rpcError { try await api.guestDownload(UUID().uuidString, variant: .preview, shareToken: token) }?.code == .notFound)
                    let search = await rpcError {
                        try await api.search.searchByFace(.with {
                            $0.image = Data([0xFF, 0xD8, 0xFF])
                            $0.shareToken = token
                        })
                    }
                    #expect(search?.code == .notFound)
                }
            }
            #expect(try await api.events.openSharedEvent(.with { $0.shareToken = links[2].token }).event.title == "Recital")

            // The owner's list: newest first, revoked ones only on request, never a token.
            let live = try await api.events.listShareLinks(.with { $0.eventID = event.id }, metadata: auth)
            #expect(live.links.map(\.id) == [links[2].id, links[1].id])
            #expect(live.links.allSatisfy { $0.token.isEmpty } && live.links.first?.hasLastUsedAt == true)
            let first = try await api.events.listShareLinks(.with {
                $0.eventID = event.id
                $0.includeRevoked = true
                $0.pageSize = 2
            }, metadata: auth)
            let second = try await api.events.listShareLinks(.with {
                $0.eventID = event.id
                $0.includeRevoked = true
                $0.pageSize = 2
                $0.pageToken = first.nextPageToken
            }, metadata: auth)
            #expect((first.links + second.links).map(\.id) == [links[2].id, links[1].id, links[0].id] && second.nextPageToken.isEmpty)
            let wrongQuery = await rpcError {
                try await api.events.listShareLinks(.with {
                    $0.eventID = event.id
                    $0.pageToken = first.nextPageToken
                }, metadata: auth)
            }
            #expect(wrongQuery?.code == .invalidArgument)

            // A disabled owner's links stop working too.
            _ = try await api.admin.disableUser(.with {
                $0.userID = cast.aliceID
                $0.disabled = true
            }, metadata: TestAPI.bearer(cast.admin))
            let disabled = await rpcError { try await api.events.openSharedEvent(.with { $0.shareToken = links[2].token }) }
            #expect(disabled?.code == .notFound)
        }
    }

    @Test func passwordProtectedLinksNeedThePasswordAndStopGuessesAfterTooManyWrongOnes() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI(configure: { $0.limits.sharePasswordPerLink = RateLimit(3, per: .seconds(600)) }) { api in
            let cast = try await EventCast.signUp(api)
            let auth = TestAPI.bearer(cast.alice)
            let event = try await api.createEvent("Private", token: cast.alice)
            let bytes = try fixtures.bytes(try fixtures.image("private.jpg", width: 300, height: 200))
            let image = try await api.send([
                .with { $0.header = .with {
                    $0.fileName = "private.jpg"
                    $0.eventID = event.id
                } },
                .with { $0.chunk = Data(bytes) },
            ], token: cast.alice).image
            _ = try await api.watchUntilProcessed([image.id], token: cast.alice)
            let locked = try await api.events.createShareLink(.with {
                $0.eventID = event.id
                $0.password = "open sesame"
            }, metadata: auth).link
            let open = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: auth).link
            #expect(locked.hasPassword_p)
            #expect(try await api.number("SELECT count(*) FROM share_links WHERE password_hash LIKE '$argon2id$%'") == 1)

            func openLocked(_ password: String) async -> RPCError? {
                await rpcError {
                    try await api.events.openSharedEvent(.with {
                        $0.shareToken = locked.token
                        $0.password = password
                    })
                }
            }
            let missing = await openLocked("")
            #expect(missing?.code == .unauthenticated && missing?.message.contains("protected by a password") == true)
            #expect(await openLocked("open sesame") == nil)
            let preview = try await api.guestDownload(image.id, variant: .preview, shareToken: locked.token, password: "open sesame")
            #expect(!preview.bytes.isEmpty)
            let download = await rpcError { try await api.guestDownload(image.id, variant: .preview, shareToken: locked.token) }
            #expect(download?.code == .unauthenticated)
            let wrong = await openLocked("open sesame!")
            #expect(wrong?.code == .unauthenticated && wrong?.message == "The password of this share link is wrong.")
            let wrongDownload = await rpcError {
                try await api.guestDownload(image.id, variant: .preview, shareToken: locked.token, password: "guess")
            }
            #expect(wrongDownload?.code == .unauthenticated)
            let wrongSearch = await rpcError {
                try await api.search.searchByFace(.with {
                    $0.image = Data([0xFF, 0xD8, 0xFF])
                    $0.shareToken = locked.token
                    $0.sharePassword = "guess again"
                })
            }
            #expect(wrongSearch?.code == .unauthenticated)

            // Three wrong passwords spent the window: now even the right one waits.
            let exhausted = await openLocked("open sesame")
            #expect(exhausted?.code == .resourceExhausted && exhausted?.message.contains("wrong passwords for this share link") == true)
            let wait = exhausted?.metadata[stringValues: "retry-after-seconds"].first(where: { _ in true }).flatMap { Int($0) }
            #expect(wait.map { (1...600).contains($0) } == true)
            // Another link of the same event is not affected.
            #expect(try await api.events.openSharedEvent(.with { $0.shareToken = open.token }).images.map(\.id) == [image.id])
        }
    }

    @Test func aCheckedPasswordIsRememberedOnlyForItsLinkHashAndPasswordAndNotForLong() {
        let checked = CheckedPasswords()
        let link = UUID()
        let key = CheckedPasswords.key(link: link, passwordHash: "$argon2id$one", password: "open sesame")
        #expect(!checked.contains(key))
        checked.insert(key)
        #expect(checked.contains(key))
        #expect(!checked.contains(CheckedPasswords.key(link: link, passwordHash: "$argon2id$one", password: "open sesame!")))
        #expect(!checked.contains(CheckedPasswords.key(link: UUID(), passwordHash: "$argon2id$one", password: "open sesame")))
        #expect(!checked.contains(CheckedPasswords.key(link: link, passwordHash: "$argon2id$two", password: "open sesame")))
        let shortLived = CheckedPasswords(lifetime: .zero)
        shortLived.insert(key)
        #expect(!shortLived.contains(key))
    }

    @Test func selfieSearchesAreRateLimitedPerLinkAndPerAddress() async throws {
        try await withTestAPI(configure: {
            $0.limits.faceSearchPerLink = RateLimit(2, per: .seconds(600))
            $0.limits.faceSearchPerPeer = RateLimit(3, per: .seconds(600))
        }) { api in
            let cast = try await EventCast.signUp(api)
            let event = try await api.createEvent("Marathon", token: cast.alice)
            var tokens: [String] = []
            for _ in 0..<2 {
                tokens.append(try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: TestAPI.bearer(cast.alice)).link.token)
            }
            func find(_ token: String) async -> RPCError? {
                await rpcError {
                    try await api.events.findMyPhotos(.with {
                        $0.shareToken = token
                        $0.selfie = Data([0xFF, 0xD8, 0xFF])
                    })
                }
            }
            // No inference service here: the searches that pass the limits fail for that reason.
            #expect(await find(tokens[0])?.code == .failedPrecondition)
            #expect(await find(tokens[0])?.code == .failedPrecondition)
            let perLink = await find(tokens[0])
            #expect(perLink?.code == .resourceExhausted && perLink?.message.contains("through this share link") == true)
            #expect(perLink?.metadata[stringValues: "retry-after-seconds"].first(where: { _ in true }) != nil)
            #expect(await find(tokens[1])?.code == .failedPrecondition)
            let perPeer = await find(tokens[1])
            #expect(perPeer?.code == .resourceExhausted && perPeer?.message.contains("from this address") == true)
        }
    }

    @Test func findMyPhotosReturnsExactlyTheGuestsPhotosAmongThirtyRealOnes() async throws {
        let photos = try EventPhotos()
        try await InferenceFixture.withServer(.offlineDefaults) { port in
            // At the default 0.5; dlib's usual 0.6 would let scikit-image's cameraman (a grey face)
            // match the astronaut at 0.56; true matches here are all below 0.15.
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let cast = try await EventCast.signUp(api)
                let auth = TestAPI.bearer(cast.alice)
                let event = try await api.createEvent("Space camp", token: cast.alice)
                let elsewhere = try await api.createEvent("Launch day", token: cast.alice)
                func upload(_ photo: EventPhotos.Photo, event: Int64?, token: String) async throws -> String {
                    let bytes = try photos.fixtures.bytes(photo.path)
                    return try await api.send([
                        .with { $0.header = .with {
                            $0.fileName = photo.name
                            if let event { $0.eventID = event }
                        } },
                        .with { $0.chunk = Data(bytes) },
                    ], token: token).image.id
                }
                var guest: Set<String> = [], others: [String] = []
                for photo in photos.event {
                    let id = try await upload(photo, event: event.id, token: cast.alice)
                    if photo.showsGuest { guest.insert(id) } else { others.append(id) }
                }
                #expect(guest.count == 8 && others.count == 22)
                // The same face outside the event: in another event, loose in the library, and another photographer's.
                let outside = [
                    try await upload(photos.outside[0], event: elsewhere.id, token: cast.alice),
                    try await upload(photos.outside[1], event: nil, token: cast.alice),
                ]
                let bobs = try await upload(photos.outside[0], event: nil, token: cast.bob)
                _ = try await api.watchUntilProcessed(Array(guest) + others + outside, token: cast.alice)
                _ = try await api.watchUntilProcessed([bobs], token: cast.bob)
                // The premise: faces were found in every guest photo, in some others, and outside.
                for id in guest { #expect(try await api.image(id, token: cast.alice).faceCount >= 1) }
                var strangers = 0
                for id in others { strangers += try await api.image(id, token: cast.alice).faceCount > 0 ? 1 : 0 }
                #expect(strangers >= 2)
                for id in outside { #expect(try await api.image(id, token: cast.alice).faceCount >= 1) }

                let link = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: auth).link
                let imagesBefore = try await api.count("images"), facesBefore = try await api.count("faces")
                let selfie = Data(try photos.fixtures.bytes(photos.selfie))
                let found = try await api.events.findMyPhotos(.with {
                    $0.shareToken = link.token
                    $0.selfie = selfie
                })
                #expect(Set(found.matches.map(\.image.id)) == guest && found.matches.count == guest.count)
                #expect(found.matches.map(\.distance) == found.matches.map(\.distance).sorted())
                #expect(found.matches.allSatisfy { $0.distance < 0.5 && $0.box.width > 40 && $0.image.width > 0 })
                #expect(found.nextPageToken.isEmpty)

                // Page by page, the same photos in the same order.
                var paged: [String] = [], token = ""
                repeat {
                    let page = try await api.events.findMyPhotos(.with {
                        $0.shareToken = link.token
                        $0.selfie = selfie
                        $0.pageSize = 3
                        $0.pageToken = token
                    })
                    paged += page.matches.map(\.image.id)
                    token = page.nextPageToken
                } while !token.isEmpty
                #expect(paged == found.matches.map(\.image.id))

                // SearchByFace with the token is the same search, with guest-visible fields only.
                let searched = try await api.search.searchByFace(.with {
                    $0.image = selfie
                    $0.shareToken = link.token
                })
                #expect(searched.hits.map(\.image.id) == found.matches.map(\.image.id))
                #expect(searched.hits.allSatisfy { $0.image.ownerID.isEmpty && $0.image.fileName.isEmpty && $0.image.eventID == event.id })

                // A selfie without a face, or with several, is refused.
                let faceless = await rpcError {
                    try await api.events.findMyPhotos(.with {
                        $0.shareToken = link.token
                        $0.selfie = Data(try photos.fixtures.bytes(photos.faceless))
                    })
                }
                #expect(faceless?.code == .invalidArgument && faceless?.message.contains("no face found") == true)
                let group = await rpcError {
                    try await api.events.findMyPhotos(.with {
                        $0.shareToken = link.token
                        $0.selfie = Data(try photos.fixtures.bytes(photos.group))
                    })
                }
                #expect(group?.code == .invalidArgument && group?.message.contains("several faces, send a photo with one") == true)
                // The owner's own face search still takes the largest face of a group photo.
                let owners = try await api.search.searchByFace(.with { $0.image = Data(try photos.fixtures.bytes(photos.group)) }, metadata: auth)
                #expect(Set(owners.hits.map(\.image.id)) == guest.union(outside))

                // Selfies are never stored.
                #expect(try await api.count("images") == imagesBefore)
                #expect(try await api.count("faces") == facesBefore)
                #expect(api.stagingFiles.isEmpty)
            }
        }
    }
}

/// An admin (the first account), two photographers and a member, signed in.
struct EventCast {
    let admin: String, alice: String, bob: String, member: String
    let aliceID: String, bobID: String, memberID: String

    static func signUp(_ api: TestAPI) async throws -> EventCast {
        let admin = try await api.register("admin@example.com").accessToken
        let alice = try await api.register("alice@example.com")
        let bob = try await api.register("bob@example.com")
        let member = try await api.register("member@example.com")
        for user in [alice, bob] {
            _ = try await api.admin.setUserRole(.with {
                $0.userID = user.user.id
                $0.role = .photographer
            }, metadata: TestAPI.bearer(admin))
        }
        return EventCast(
            admin: admin, alice: alice.accessToken, bob: bob.accessToken, member: member.accessToken, aliceID: alice.user.id,
            bobID: bob.user.id, memberID: member.user.id)
    }
}

/// The photos of the FindMyPhotos test, made from scikit-image's sample photos with the vips
/// command line: the astronaut (the guest) pasted at different crops, scales and brightness onto
/// other photos, the cameraman (a stranger), and photos without faces.
struct EventPhotos {
    struct Photo {
        let name: String
        let path: String
        let showsGuest: Bool
    }

    let fixtures: Fixtures
    /// The event's 30 photos; 8 show the guest.
    private(set) var event: [Photo] = []
    /// Two more photos of the guest, for outside the event.
    private(set) var outside: [Photo] = []
    /// Another crop of the astronaut than any pasted one.
    let selfie: String
    let faceless: String
    /// Two astronauts side by side.
    let group: String

    init() throws {
        let fixtures = try Fixtures()
        self.fixtures = fixtures
        let data = TestPaths.skimageData
        // An sRGB background of the given width from a sample photo (grey and RGBA ones included).
        func background(_ file: String, width: Int, as name: String) throws -> String {
            let colour = fixtures.path("\(name)-srgb.v"), bands = fixtures.path("\(name)-bands.v"), target = fixtures.path(name)
            try fixtures.run("vips", ["colourspace", "\(data)/\(file)", colour, "srgb"])
            try fixtures.run("vips", ["extract_band", colour, bands, "0", "--n", "3"])
            let original = Double(try fixtures.run("vipsheader", ["-f", "width", bands]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
            try fixtures.run("vips", ["resize", bands, target, String(Double(width) / original)])
            return target
        }
        // The astronaut cropped to (x, y, w, h), scaled and brightened, pasted at (px, py).
        func guest(_ file: String, width: Int, crop: [Int], scale: Double, brightness: Double, at point: [Int], as name: String) throws -> Photo {
            let base = try background(file, width: width, as: "\(name)-base.v")
            let cropped = fixtures.path("\(name)-crop.v"), scaled = fixtures.path("\(name)-scaled.v"), lit = fixtures.path("\(name)-lit.v")
            try fixtures.run("vips", ["crop", "\(data)/astronaut.png", cropped] + crop.map(String.init))
            try fixtures.run("vips", ["resize", cropped, scaled, String(scale)])
            try fixtures.run("vips", ["linear", scaled, lit, String(brightness), "0", "--uchar"])
            try fixtures.run("vips", ["insert", base, lit, fixtures.path(name)] + point.map(String.init))
            return Photo(name: name, path: fixtures.path(name), showsGuest: true)
        }
        event = [
            try guest("coffee.png", width: 1000, crop: [120, 0, 260, 260], scale: 1.0, brightness: 1.0, at: [500, 200], as: "g1.jpg"),
            try guest("rocket.jpg", width: 900, crop: [100, 0, 300, 300], scale: 0.7, brightness: 1.25, at: [100, 50], as: "g2.jpg"),
            try guest("motorcycle_left.png", width: 1100, crop: [140, 20, 200, 220], scale: 1.5, brightness: 0.75, at: [300, 150], as: "g3.jpg"),
            try guest("hubble_deep_field.jpg", width: 1000, crop: [0, 0, 512, 512], scale: 0.8, brightness: 1.1, at: [400, 300], as: "g4.jpg"),
            try guest("chelsea.png", width: 1000, crop: [150, 30, 180, 200], scale: 1.2, brightness: 0.9, at: [50, 300], as: "g5.jpg"),
            try guest("retina.jpg", width: 1200, crop: [110, 10, 280, 280], scale: 0.8, brightness: 1.3, at: [700, 600], as: "g6.jpg"),
            try guest("ihc.png", width: 900, crop: [130, 0, 250, 300], scale: 1.8, brightness: 1.0, at: [200, 100], as: "g7.jpg"),
            try guest("phantom.png", width: 1000, crop: [90, 0, 330, 330], scale: 1.0, brightness: 0.8, at: [600, 500], as: "g8.jpg"),
        ]
        // A stranger's face at two sizes, mirrored once.
        let camera = try background("camera.png", width: 1000, as: "camera.jpg")
        let cameraLarge = try background("camera.png", width: 1500, as: "camera-large.jpg")
        try fixtures.run("vips", ["flip", cameraLarge, fixtures.path("camera-mirrored.jpg"), "horizontal"])
        event += [camera, cameraLarge, fixtures.path("camera-mirrored.jpg")].map {
            Photo(name: URL(fileURLWithPath: $0).lastPathComponent, path: $0, showsGuest: false)
        }
        let plain = [
            ("coffee.png", 900), ("rocket.jpg", 1000), ("motorcycle_left.png", 900), ("motorcycle_right.png", 1000),
            ("hubble_deep_field.jpg", 800), ("retina.jpg", 1000), ("chelsea.png", 800), ("ihc.png", 1000), ("phantom.png", 800),
            ("coins.png", 900), ("color.png", 800), ("brick.png", 900), ("grass.png", 900), ("gravel.png", 900), ("moon.png", 900),
            ("page.png", 900), ("text.png", 900), ("clock_motion.png", 900), ("cell.png", 900),
        ]
        for (index, (file, width)) in plain.enumerated() {
            let path = try background(file, width: width, as: "plain-\(index).jpg")
            event.append(Photo(name: "plain-\(index).jpg", path: path, showsGuest: false))
        }
        outside = [
            try guest("coffee.png", width: 1100, crop: [100, 0, 300, 300], scale: 1.0, brightness: 1.0, at: [300, 100], as: "out1.jpg"),
            try guest("rocket.jpg", width: 1000, crop: [120, 0, 260, 260], scale: 1.2, brightness: 0.9, at: [500, 200], as: "out2.jpg"),
        ]
        selfie = fixtures.path("selfie.png")
        try fixtures.run("vips", ["crop", "\(data)/astronaut.png", selfie, "130", "10", "220", "240"])
        faceless = event.last!.path
        let pair = try guest("coffee.png", width: 1200, crop: [120, 0, 260, 260], scale: 1.0, brightness: 1.0, at: [50, 50], as: "pair.v")
        let mirrored = fixtures.path("pair-mirrored.v")
        try fixtures.run("vips", ["flip", fixtures.path("pair.v-lit.v"), mirrored, "horizontal"])
        group = fixtures.path("group.jpg")
        try fixtures.run("vips", ["insert", pair.path, mirrored, group, "700", "100"])
    }
}

extension TestPaths {
    /// scikit-image's folder of sample photos in the project's .venv.
    static var skimageData: String {
        let lib = TestPostgres.projectRoot.appendingPathComponent(".venv/lib").path
        let version = (try? FileManager.default.contentsOfDirectory(atPath: lib))?.first { $0.hasPrefix("python3") } ?? "python3"
        return "\(lib)/\(version)/site-packages/skimage/data"
    }
}

extension TestAPI {
    var events: Photovault_V1_EventService.Client<Transport> { .init(wrapping: client) }

    func createEvent(_ title: String, token: String, location: String = "") async throws -> Photovault_V1_Event {
        try await events.createEvent(.with {
            $0.title = title
            $0.location = location
        }, metadata: Self.bearer(token)).event
    }

    /// Downloads a variant as a guest: a share token, no sign-in.
    func guestDownload(
        _ id: String, variant: Photovault_V1_ImageVariant, shareToken: String, password: String = ""
    ) async throws -> (header: Photovault_V1_DownloadHeader, bytes: [UInt8]) {
        let request = Photovault_V1_DownloadRequest.with {
            $0.imageID = id
            $0.variant = variant
            $0.shareToken = shareToken
            $0.sharePassword = password
        }
        return try await download(request)
    }
}

extension Data {
    fileprivate var hex: String { map { String(format: "%02x", $0) }.joined() }
}
