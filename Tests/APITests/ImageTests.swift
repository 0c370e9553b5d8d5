import Crypto
import Foundation
import GRPCCore
import PhotoVaultProto
import SwiftProtobuf
import Testing
import TestImages
@testable import API

@Suite("Images")
struct ImageTests {
    @Test func uploadedJPEGKeepsItsMetadataAndComesBackByteIdentical() async throws {
        let fixtures = try Fixtures()
        let jpeg = try taggedJPEG(fixtures)
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let response = try await api.upload(jpeg, name: "Paris/eiffel.jpg", token: token, chunk: 1000)
            let image = response.image
            #expect(!response.duplicate)
            #expect(image.fileName == "eiffel.jpg")
            #expect(image.format == .jpeg)
            #expect(image.byteSize == Int64(jpeg.count))
            #expect(image.sha256 == SHA256.hash(data: jpeg).map { String(format: "%02x", $0) }.joined())
            // Orientation 6 turns a 400 × 300 sensor image upright: 300 wide, 400 high.
            #expect(image.width == 300 && image.height == 400)
            #expect(image.takenAt.date == ISO8601DateFormatter().date(from: "2023-07-14T16:30:05Z"))
            #expect(image.hasTakenAtOffsetMinutes && image.takenAtOffsetMinutes == 120)
            #expect(image.exif.make == "PhotoVaultCam" && image.exif.model == "Model Seven" && image.exif.lens == "Lens 35mm F2.8")
            #expect(image.exif.fNumber == 2.8 && image.exif.iso == 200 && image.exif.focalLengthMm == 35)
            #expect(abs(image.exif.exposureTimeSeconds - 0.004) < 1e-9)
            #expect(image.exif.orientation == 6)
            #expect(abs(image.gps.point.latitude - 48.8584) < 1e-6 && abs(image.gps.point.longitude - 2.2945) < 1e-6)
            #expect(image.gps.altitudeM == 35)
            #expect(image.stages.map(\.stage) == [.metadata, .derivatives])
            #expect(image.stages.first?.state == .done)

            let download = try await api.download(image.id, token: token)
            #expect(sameBytes(download.bytes, jpeg))
            #expect(download.header.contentType == "image/jpeg" && download.header.totalSize == Int64(jpeg.count))
            #expect(download.header.fileName == "eiffel.jpg")
            let range = try await api.download(image.id, token: token, offset: 100, length: 70_000)
            #expect(sameBytes(range.bytes, Array(jpeg[100..<min(jpeg.count, 70_100)])))
            #expect(range.header.offset == 100)
            let outside = await rpcError { try await api.download(image.id, token: token, offset: Int64(jpeg.count)) }
            #expect(outside?.code == .outOfRange)
        }
    }

    @Test func sameBytesAgainReturnTheExistingImage() async throws {
        let fixtures = try Fixtures()
        let png = try fixtures.bytes(try fixtures.image("a.png", width: 64, height: 48))
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let first = try await api.upload(png, name: "a.png", token: token)
            let again = try await api.upload(png, name: "copy.png", token: token)
            #expect(again.duplicate)
            #expect(again.image.id == first.image.id)
            #expect(try await api.count("images") == 1)
            // Uploading a trashed photo again brings it back.
            _ = try await api.images.deleteImage(.with { $0.imageID = first.image.id }, metadata: TestAPI.bearer(token))
            let back = try await api.upload(png, name: "a.png", token: token)
            #expect(back.duplicate && back.image.id == first.image.id && !back.image.hasDeletedAt)
            // Another user's identical bytes are their own image.
            let other = try await api.register("other@example.com").accessToken
            let theirs = try await api.upload(png, name: "a.png", token: other)
            #expect(!theirs.duplicate && theirs.image.id != first.image.id)
        }
    }

    @Test func derivativesAreMadeUprightSmallAndWithoutMetadata() async throws {
        let fixtures = try Fixtures()
        let jpeg = try taggedJPEG(fixtures, width: 2000, height: 1500)
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(jpeg, token: token).image
            let events = try await api.watchUntilProcessed([image.id], token: token)
            #expect(events.last?.state == .ready)
            #expect(events.contains { $0.stage == .derivatives && $0.stageState == .done })

            let preview = try await api.download(image.id, variant: .preview, token: token)
            #expect(preview.header.contentType == "image/jpeg")
            #expect(Array(preview.bytes.prefix(3)) == [0xFF, 0xD8, 0xFF])
            #expect(preview.header.width == 1080 && preview.header.height == 1440)
            #expect(!preview.bytes.contains(bytes: Array("PhotoVaultCam".utf8)))
            let thumbnail = try await api.download(image.id, variant: .thumbnail, token: token)
            #expect(thumbnail.header.contentType == "image/webp")
            #expect(Array(thumbnail.bytes[8..<12]) == Array("WEBP".utf8))
            #expect(max(thumbnail.header.width, thumbnail.header.height) == 250)
            #expect(!thumbnail.bytes.contains(bytes: Array("PhotoVaultCam".utf8)))
            let ready = try await api.image(image.id, token: token)
            #expect(ready.processingState == .ready)
        }
    }

    @Test func badFilesAreRefusedAndLeaveNothingBehind() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("whole.jpg", width: 800, height: 600))
        let elf = Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/true")))
        var hugePNG: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr = Array("IHDR".utf8) + bigEndian32(50_000) + bigEndian32(50_000) + [8, 2, 0, 0, 0]
        hugePNG += bigEndian32(13) + ihdr + bigEndian32(crc32(ihdr))
        try await withTestAPI(configure: { $0.imageLimits.maxBytes = 2_000_000 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let cases: [(String, [UInt8], String, RPCError.Code, String)] = [
                ("empty", [], "empty.jpg", .invalidArgument, "The file is empty."),
                ("zip", storedZIP(name: "x.txt", contents: Array("hello".utf8)), "holiday.jpg", .invalidArgument, "ZIP archive"),
                ("executable", elf, "photo.jpg", .invalidArgument, "ELF executable"),
                ("truncated", Array(jpeg.prefix(jpeg.count / 2)), "cut.jpg", .invalidArgument, "JPEG"),
                ("bomb", hugePNG, "bomb.png", .resourceExhausted, "50000 × 50000"),
                ("oversized", jpeg + [UInt8](repeating: 0, count: 2_000_000), "big.jpg", .resourceExhausted, "limit of"),
            ]
            for (label, bytes, name, code, words) in cases {
                let error = await rpcError { try await api.upload(bytes, name: name, token: token) }
                #expect(error?.code == code, "\(label)")
                #expect(error?.message.contains(words) == true, "\(label): \(error?.message ?? "")")
            }
            let names: [(String, String)] = [
                ("../../etc/passwd", "'..'"), (String(repeating: "a", count: 10_000) + ".jpg", "longer than 255"),
                ("bad\u{0}name.jpg", "control characters"), ("new\nline.jpg", "control characters"), ("", "empty"),
            ]
            for (name, words) in names {
                let error = await rpcError { try await api.upload(jpeg, name: name, token: token) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
            }
            let mismatch = await rpcError { try await api.upload(jpeg, token: token, declaredSize: Int64(jpeg.count + 1)) }
            #expect(mismatch?.code == .invalidArgument && mismatch?.message.hasPrefix("declared_size") == true)
            let headerless = await rpcError { try await api.send([.with { $0.chunk = Data(jpeg) }], token: token) }
            #expect(headerless?.code == .invalidArgument)
            let twoHeaders = await rpcError {
                try await api.send([.with { $0.header.fileName = "a.jpg" }, .with { $0.header.fileName = "b.jpg" }], token: token)
            }
            #expect(twoHeaders?.code == .invalidArgument)

            #expect(try await api.count("images") == 0)
            #expect(try await api.count("jobs WHERE kind <> 'purge'") == 0)
            #expect(api.blobFiles.isEmpty)
            #expect(api.stagingFiles.isEmpty)
            #expect(try await api.count("blob_garbage") == 0)
        }
    }

    @Test func noStoredBlobHoldsPlaintext() async throws {
        let fixtures = try Fixtures()
        let jpeg = try taggedJPEG(fixtures)
        let png = try fixtures.bytes(try fixtures.image("p.png", width: 120, height: 90))
        let webpPath = try fixtures.image("w.webp", width: 120, height: 90)
        try fixtures.tag(webpPath, ["-Make=PhotoVaultCam"])
        let webp = try fixtures.bytes(webpPath)
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            var ids: [String] = []
            for (bytes, name) in [(jpeg, "a.jpg"), (png, "b.png"), (webp, "c.webp")] {
                ids.append(try await api.upload(bytes, name: name, token: token).image.id)
            }
            _ = try await api.watchUntilProcessed(ids, token: token)
            let files = api.blobFiles
            #expect(files.count == 9)  // three originals, three previews, three thumbnails
            // Signatures long enough that random ciphertext does not hold them by chance (a
            // 3-byte JPEG marker turns up in a few per cent of megabyte-sized random blobs), and
            // windows of each original's own bytes.
            var needles: [[UInt8]] = [
                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array("WEBPVP8".utf8), Array("Exif".utf8) + [0, 0],
                Array("PhotoVaultCam".utf8), Array("Model Seven".utf8),
            ]
            for original in [jpeg, png, webp] {
                needles.append(Array(original.prefix(16)))
                needles.append(Array(original[(original.count / 2)..<(original.count / 2 + 16)]))
            }
            for file in files {
                let bytes = Array(try Data(contentsOf: file))
                #expect(Array(bytes.prefix(4)) == Array("PVB1".utf8))
                for needle in needles { #expect(!bytes.contains(bytes: needle), "\(file.lastPathComponent) holds \(needle)") }
            }
        }
    }

    @Test func anAlteredBlobAnswersDataLossNeverAlteredBytes() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 600, height: 400))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(jpeg, token: token).image
            let files = api.blobFiles
            #expect(files.count == 1)
            var bytes = Array(try Data(contentsOf: files[0]))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: files[0])
            let error = await rpcError { try await api.download(image.id, token: token) }
            #expect(error?.code == .dataLoss)
            #expect(error?.message.contains("integrity check") == true)
            // Cut at a chunk boundary: the missing final chunk is noticed too.
            try Data(bytes.prefix(BlobCipher.headerSize + 65_536 + 16)).write(to: files[0])
            #expect(await rpcError { try await api.download(image.id, token: token) }?.code == .dataLoss)
        }
    }

    @Test func anotherUserGetsNotFoundFromEveryImageRPC() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 64, height: 64))
        try await withTestAPI { api in
            let owner = try await api.register("owner@example.com").accessToken
            let stranger = try await api.register("stranger@example.com").accessToken
            let id = try await api.upload(jpeg, token: owner).image.id
            let session = try await api.images.createUploadSession(.with {
                $0.fileName = "s.jpg"
                $0.totalSize = 10
            }, metadata: TestAPI.bearer(owner)).sessionID
            let meta = TestAPI.bearer(stranger)
            let calls: [(String, () async throws -> Void)] = [
                ("GetImage", { _ = try await api.images.getImage(.with { $0.imageID = id }, metadata: meta) }),
                ("Download", { _ = try await api.download(id, token: stranger) }),
                ("Download preview", { _ = try await api.download(id, variant: .thumbnail, token: stranger) }),
                ("UpdateMetadata", { _ = try await api.images.updateMetadata(.with { $0.imageID = id; $0.caption = "mine" }, metadata: meta) }),
                ("DeleteImage", { _ = try await api.images.deleteImage(.with { $0.imageID = id }, metadata: meta) }),
                ("DeleteImage permanent", { _ = try await api.images.deleteImage(.with { $0.imageID = id; $0.permanent = true }, metadata: meta) }),
                ("RestoreImage", { _ = try await api.images.restoreImage(.with { $0.imageID = id }, metadata: meta) }),
                ("WatchImages", { _ = try await api.watchUntilProcessed([id], token: stranger) }),
                ("GetUploadSession", { _ = try await api.images.getUploadSession(.with { $0.sessionID = session }, metadata: meta) }),
                ("FinishUpload", { _ = try await api.images.finishUpload(.with { $0.sessionID = session }, metadata: meta) }),
                ("UploadChunks", { _ = try await api.sendChunks([.with { $0.sessionID = session; $0.data = Data([1]) }], token: stranger) }),
            ]
            for (name, call) in calls {
                let error = await rpcError { try await call() }
                #expect(error?.code == .notFound, "\(name): \(String(describing: error))")
            }
            #expect(try await api.images.listImages(.init(), metadata: meta).images.isEmpty)
            // Nothing changed for the owner.
            let image = try await api.image(id, token: owner)
            #expect(image.caption.isEmpty && !image.hasDeletedAt)
        }
    }

    @Test func listingPagesNewestFirstAndStaysStableWhileImagesArrive() async throws {
        let fixtures = try Fixtures()
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            var ids: [String] = []
            for day in 1...5 {
                let path = try fixtures.image("d\(day).jpg", width: 32 + day, height: 32)
                try fixtures.tag(path, ["-DateTimeOriginal=2022:03:0\(day) 12:00:00"] + (day % 2 == 0 ? ["-GPSLatitude=10", "-GPSLatitudeRef=N", "-GPSLongitude=20", "-GPSLongitudeRef=E"] : []))
                ids.append(try await api.upload(try fixtures.bytes(path), name: "d\(day).jpg", token: token).image.id)
            }
            let meta = TestAPI.bearer(token)
            let first = try await api.images.listImages(.with { $0.pageSize = 2 }, metadata: meta)
            #expect(first.images.map(\.id) == [ids[4], ids[3]])
            // A new image taken later arrives between pages: the next page neither repeats nor skips.
            let late = try fixtures.image("late.png", width: 20, height: 20)
            _ = try await api.upload(try fixtures.bytes(late), name: "late.png", token: token)
            let second = try await api.images.listImages(.with { $0.pageSize = 2; $0.pageToken = first.nextPageToken }, metadata: meta)
            #expect(second.images.map(\.id) == [ids[2], ids[1]])
            let third = try await api.images.listImages(.with { $0.pageSize = 2; $0.pageToken = second.nextPageToken }, metadata: meta)
            #expect(third.images.map(\.id) == [ids[0]])
            #expect(third.nextPageToken.isEmpty)

            let withGPS = try await api.images.listImages(.with { $0.hasGps_p = true }, metadata: meta)
            #expect(Set(withGPS.images.map(\.id)) == [ids[1], ids[3]])
            let pngs = try await api.images.listImages(.with { $0.format = .png }, metadata: meta)
            #expect(pngs.images.count == 1)
            let march = try await api.images.listImages(.with {
                $0.taken = .with {
                    $0.start = .init(date: ISO8601DateFormatter().date(from: "2022-03-02T00:00:00Z")!)
                    $0.end = .init(date: ISO8601DateFormatter().date(from: "2022-03-04T00:00:00Z")!)
                }
                $0.order = .takenAsc
            }, metadata: meta)
            #expect(march.images.map(\.id) == [ids[1], ids[2]])
            let foreign = await rpcError {
                try await api.images.listImages(.with { $0.pageToken = first.nextPageToken; $0.format = .png }, metadata: meta)
            }
            #expect(foreign?.code == .invalidArgument)
        }
    }

    @Test func metadataEditsApplyAndAreRecorded() async throws {
        let fixtures = try Fixtures()
        let jpeg = try taggedJPEG(fixtures)
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let id = try await api.upload(jpeg, token: token).image.id
            let override = ISO8601DateFormatter().date(from: "2020-01-02T03:04:05Z")!
            let edited = try await api.images.updateMetadata(.with {
                $0.imageID = id
                $0.caption = "Eiffel tower at dusk"
                $0.description_p = "From the Trocadéro."
                $0.tagsToAdd = ["  Paris ", "Tower"]
                $0.takenAt = .init(date: override)
                $0.takenAtOffsetMinutes = 60
            }, metadata: meta).image
            #expect(edited.caption == "Eiffel tower at dusk" && edited.description_p == "From the Trocadéro.")
            #expect(Set(edited.tags.map(\.name)) == ["paris", "tower"] && edited.tags.allSatisfy { $0.source == .user })
            #expect(edited.takenAt.date == override && edited.takenAtOverridden && edited.takenAtOffsetMinutes == 60)

            let cleared = try await api.images.updateMetadata(.with {
                $0.imageID = id
                $0.tagsToRemove = ["tower"]
                $0.clearTakenAt_p = true
            }, metadata: meta).image
            #expect(cleared.tags.map(\.name) == ["paris"])
            #expect(!cleared.takenAtOverridden && cleared.takenAtOffsetMinutes == 120)
            #expect(cleared.caption == "Eiffel tower at dusk")

            let bad: [(Photovault_V1_UpdateMetadataRequest, String)] = [
                (.with { $0.imageID = id; $0.caption = String(repeating: "x", count: 1001) }, "caption"),
                (.with { $0.imageID = id; $0.description_p = String(repeating: "x", count: 10_001) }, "description"),
                (.with { $0.imageID = id; $0.tagsToAdd = [String(repeating: "t", count: 65)] }, "tags_to_add"),
                (.with { $0.imageID = id; $0.tagsToAdd = [" "] }, "tags_to_add"),
                (.with { $0.imageID = id; $0.tagsToAdd = ["a"]; $0.tagsToRemove = ["A"] }, "tags_to_add"),
                (.with { $0.imageID = id; $0.takenAt = .init(date: override); $0.clearTakenAt_p = true }, "clear_taken_at"),
                (.with { $0.imageID = id; $0.takenAt = .init(date: override); $0.takenAtOffsetMinutes = 900 }, "taken_at_offset_minutes"),
                (.with { $0.imageID = "not-a-uuid" }, "image_id"),
            ]
            for (request, field) in bad {
                let error = await rpcError { try await api.images.updateMetadata(request, metadata: meta) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix(field) == true, "\(error?.message ?? "")")
            }
            #expect(try await api.count("activity WHERE kind = 'update_metadata'") == 2)
            #expect(try await api.count("activity WHERE kind = 'upload'") == 1)
        }
    }

    @Test func trashRestoreAndPermanentDeletion() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 300, height: 200))
        let png = try fixtures.bytes(try fixtures.image("b.png", width: 30, height: 20))
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let id = try await api.upload(jpeg, token: token).image.id
            _ = try await api.watchUntilProcessed([id], token: token)
            let trashed = try await api.images.deleteImage(.with { $0.imageID = id }, metadata: meta)
            #expect(trashed.hasDeletedAt && !trashed.permanentlyDeleted)
            let again = try await api.images.deleteImage(.with { $0.imageID = id }, metadata: meta)
            #expect(again.deletedAt == trashed.deletedAt)
            #expect(try await api.images.listImages(.init(), metadata: meta).images.isEmpty)
            #expect(try await api.images.listImages(.with { $0.onlyTrashed = true }, metadata: meta).images.map(\.id) == [id])
            #expect(sameBytes(try await api.download(id, token: token).bytes, jpeg))  // the trash can still be looked at
            let restored = try await api.images.restoreImage(.with { $0.imageID = id }, metadata: meta).image
            #expect(!restored.hasDeletedAt)
            #expect(try await api.images.listImages(.init(), metadata: meta).images.map(\.id) == [id])

            let other = try await api.upload(png, name: "b.png", token: token).image.id
            _ = try await api.watchUntilProcessed([other], token: token)
            #expect(api.blobFiles.count == 6)
            let gone = try await api.images.deleteImage(.with { $0.imageID = id; $0.permanent = true }, metadata: meta)
            #expect(gone.permanentlyDeleted)
            #expect(await rpcError { try await api.image(id, token: token) }?.code == .notFound)
            #expect(api.blobFiles.count == 3)
            #expect(try await api.count("blob_garbage") == 0)
            #expect(try await api.count("activity WHERE kind IN ('trash', 'restore', 'delete')") == 3)
        }
    }

    @Test func thePurgeJobEmptiesTheTrashAfterTheRetention() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 300, height: 200))
        try await withTestAPI(configure: { $0.imageLimits.trashRetention = .zero }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let id = try await api.upload(jpeg, token: token).image.id
            _ = try await api.watchUntilProcessed([id], token: token)
            _ = try await api.images.deleteImage(.with { $0.imageID = id }, metadata: meta)
            try await api.database.execute("DELETE FROM jobs WHERE kind = 'purge'")
            try await PurgeJob.schedule(database: api.database)
            for _ in 0..<100 where try await api.count("images") > 0 || !api.blobFiles.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await api.count("images") == 0)
            #expect(api.blobFiles.isEmpty)
            #expect(try await api.count("activity WHERE kind = 'purge'") == 1)
        }
    }

    @Test func watchingAllImagesSeesNewUploadsAndTheirStages() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 300, height: 200))
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let watcher = Task {
                try await api.images.watchImages(
                    request: ClientRequest(message: .init(), metadata: TestAPI.bearer(token))
                ) { response in
                    var events: [Photovault_V1_ImageEvent] = []
                    for try await event in response.messages {
                        events.append(event)
                        if event.state == .ready { break }
                    }
                    return events
                }
            }
            for _ in 0..<50 where api.services.hub.count == 0 { try await Task.sleep(for: .milliseconds(20)) }
            let id = try await api.upload(jpeg, token: token).image.id
            let events = try await watcher.value
            #expect(events.first?.imageID == id && events.first?.stage == .unspecified)
            #expect(events.contains { $0.stage == .derivatives && $0.stageState == .running })
            #expect(events.last?.state == .ready)
        }
    }
}

@Suite("Images on S3")
struct S3ImageTests {
    @Test func imagesLiveSealedInS3AndComeBackWhole() async throws {
        let fixtures = try Fixtures()
        let jpeg = try taggedJPEG(fixtures, width: 1600, height: 1200)
        let s3 = try await MotoServer.shared.freshBucket(multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024)
        try await withTestAPI(configure: { $0.s3 = s3 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(jpeg, token: token).image
            let events = try await api.watchUntilProcessed([image.id], token: token)
            #expect(events.last?.state == .ready)
            #expect(sameBytes(try await api.download(image.id, token: token).bytes, jpeg))
            let preview = try await api.download(image.id, variant: .preview, token: token)
            #expect(preview.header.width == 1080 && preview.header.height == 1440)

            let store = api.services.vault.store
            let keys = try await store.list(prefix: "")
            #expect(keys.count == 3)
            for key in keys {
                let size = try await store.size(of: key) ?? 0
                let bytes = try await store.read(key, offset: 0, length: Int(size))
                #expect(Array(bytes.prefix(4)) == Array("PVB1".utf8))
                #expect(!bytes.contains(bytes: Array(jpeg.prefix(16))) && !bytes.contains(bytes: Array("PhotoVaultCam".utf8)))
            }
            _ = try await api.images.deleteImage(.with {
                $0.imageID = image.id
                $0.permanent = true
            }, metadata: TestAPI.bearer(token))
            #expect(try await store.list(prefix: "").isEmpty)
        }
    }
}

@Suite("Images with broken metadata")
struct BrokenMetadataTests {
    @Test func aPhotoWhoseEXIFIsBrokenIsStoredWithoutIt() async throws {
        let fixtures = try Fixtures()
        var jpeg = try taggedJPEG(fixtures)
        // Point IFD0 far past the end of the EXIF block: every field becomes unreadable.
        let marker: [UInt8] = Array("Exif".utf8) + [0, 0, 0x49, 0x49, 0x2A, 0x00]
        let start = try #require((0..<(jpeg.count - marker.count)).first { Array(jpeg[$0..<$0 + marker.count]) == marker })
        for index in 0..<4 { jpeg[start + marker.count + index] = 0xF0 }
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(jpeg, token: token).image
            #expect(image.format == .jpeg && image.width == 400 && image.height == 300)
            #expect(!image.hasTakenAt && !image.hasGps && image.exif.make.isEmpty)
            #expect(sameBytes(try await api.download(image.id, token: token).bytes, jpeg))
        }
    }
}

@Suite("Images: hostile numbers and re-runs")
struct HostileInputTests {
    @Test func outOfRangeTimesAndHugeLengthsAreAnsweredNotFatal() async throws {
        let fixtures = try Fixtures()
        let png = try fixtures.bytes(try fixtures.image("a.png", width: 40, height: 30))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let id = try await api.upload(png, name: "a.png", token: token).image.id
            let far = Google_Protobuf_Timestamp(seconds: .max, nanos: 0)
            let listing = await rpcError { try await api.images.listImages(.with { $0.taken.start = far }, metadata: meta) }
            #expect(listing?.code == .invalidArgument && listing?.message.hasPrefix("taken.start") == true)
            let edit = await rpcError { try await api.images.updateMetadata(.with { $0.imageID = id; $0.takenAt = far }, metadata: meta) }
            #expect(edit?.code == .invalidArgument && edit?.message.hasPrefix("taken_at") == true)
            let nul = await rpcError { try await api.images.updateMetadata(.with { $0.imageID = id; $0.caption = "a\u{0}b" }, metadata: meta) }
            #expect(nul?.code == .invalidArgument && nul?.message.hasPrefix("caption") == true)
            let whole = try await api.download(id, token: token, offset: 1, length: .max)
            #expect(sameBytes(whole.bytes, Array(png.dropFirst())))
        }
    }

    @Test func renderingAgainReplacesTheDerivativesAndLeavesNoOrphans() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 500, height: 400))
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let id = try await api.upload(jpeg, token: token).image.id
            _ = try await api.watchUntilProcessed([id], token: token)
            let first = try await api.download(id, variant: .thumbnail, token: token)
            let owner = UUID(uuidString: try await api.image(id, token: token).ownerID)
            try await api.database.transaction { transaction in
                try await JobQueue.enqueue(Pipeline.derivatives, imageID: UUID(uuidString: id), ownerID: owner, in: transaction)
            }
            let events = try await api.watchUntilProcessed([id], token: token)
            #expect(events.last?.state == .ready)
            try await api.services.vault.collectGarbage()
            #expect(api.blobFiles.count == 3)
            let second = try await api.download(id, variant: .thumbnail, token: token)
            #expect(second.header.width == first.header.width && second.bytes.count > 0)
        }
    }
}

@Suite("Watching images")
struct WatchTests {
    @Test func aWatchForNamedImagesEndsEvenWhenItsNotificationIsLost() async throws {
        let fixtures = try Fixtures()
        let png = try fixtures.bytes(try fixtures.image("a.png", width: 40, height: 30))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let id = try await api.upload(png, name: "a.png", token: token).image.id
            let request = Photovault_V1_WatchImagesRequest.with { $0.imageIds = [id] }
            let database = api.database
            let events = try await api.images.watchImages(request: ClientRequest(message: request, metadata: TestAPI.bearer(token))) { response in
                var events: [Photovault_V1_ImageEvent] = []
                for try await event in response.messages {
                    events.append(event)
                    if events.count == 1 {
                        // The snapshot is here; now the stage finishes behind the API's back: no NOTIFY.
                        try await database.execute("UPDATE image_stages SET state = 'done'")
                    }
                }
                return events
            }
            #expect(events.first?.state == .processing)
            #expect(events.last?.state == .ready && events.last?.imageID == id)
        }
    }
}
