import Crypto
import Foundation
import GRPCCore
import PhotoVaultProto
import Testing
import TestImages
@testable import API

@Suite("Resumable uploads")
struct UploadSessionTests {
    private func chunks(_ bytes: [UInt8], session: String, from start: Int, to end: Int, size: Int = 100_000) -> [Photovault_V1_UploadChunksRequest] {
        stride(from: start, to: end, by: size).map { offset in
            .with {
                $0.sessionID = session
                $0.offset = Int64(offset)
                $0.data = Data(bytes[offset..<min(end, offset + size)])
            }
        }
    }

    @Test func anUploadResumesWhereItStoppedAndFinishesIntoTheImage() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("big.jpg", width: 1200, height: 900))
        let sha = SHA256.hash(data: jpeg).map { String(format: "%02x", $0) }.joined()
        try await withTestAPI(configure: { $0.imageLimits.sessionPartSize = 64 * 1024 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let created = try await api.images.createUploadSession(.with {
                $0.fileName = "holiday/big.jpg"
                $0.totalSize = Int64(jpeg.count)
                $0.sha256 = sha.uppercased()
            }, metadata: meta)
            #expect(created.chunkSizeHint == 1024 * 1024)
            #expect(created.expiresAt.date > Date().addingTimeInterval(23 * 3600))
            let half = jpeg.count / 2
            let received = try await api.sendChunks(chunks(jpeg, session: created.sessionID, from: 0, to: half), token: token)
            #expect(received == Int64(half))
            let status = try await api.images.getUploadSession(.with { $0.sessionID = created.sessionID }, metadata: meta)
            #expect(status.bytesReceived == Int64(half) && status.state == .open && status.totalSize == Int64(jpeg.count))

            // Missing bytes, a wrong offset and bytes past the end are refused.
            let early = await rpcError { try await api.images.finishUpload(.with { $0.sessionID = created.sessionID }, metadata: meta) }
            #expect(early?.code == .failedPrecondition && early?.message.contains("bytes are missing") == true)
            let wrong = await rpcError { try await api.sendChunks(chunks(jpeg, session: created.sessionID, from: 0, to: 10), token: token) }
            #expect(wrong?.code == .failedPrecondition && wrong?.message.contains("resume from there") == true)
            let past = await rpcError {
                try await api.sendChunks([.with {
                    $0.sessionID = created.sessionID
                    $0.offset = Int64(half)
                    $0.data = Data(repeating: 0, count: jpeg.count)
                }], token: token)
            }
            #expect(past?.code == .invalidArgument)

            let all = try await api.sendChunks(chunks(jpeg, session: created.sessionID, from: half, to: jpeg.count), token: token)
            #expect(all == Int64(jpeg.count))
            let complete = try await api.images.getUploadSession(.with { $0.sessionID = created.sessionID }, metadata: meta)
            #expect(complete.state == .complete)
            let finished = try await api.images.finishUpload(.with { $0.sessionID = created.sessionID }, metadata: meta)
            #expect(!finished.duplicate && finished.image.fileName == "big.jpg" && finished.image.sha256 == sha)
            #expect(sameBytes(try await api.download(finished.image.id, token: token).bytes, jpeg))
            // Finishing again answers the same image; more chunks are refused.
            let again = try await api.images.finishUpload(.with { $0.sessionID = created.sessionID }, metadata: meta)
            #expect(again.image.id == finished.image.id)
            let after = await rpcError {
                try await api.sendChunks([.with { $0.sessionID = created.sessionID; $0.offset = Int64(jpeg.count); $0.data = Data([1]) }], token: token)
            }
            #expect(after?.code == .failedPrecondition)
            let done = try await api.images.getUploadSession(.with { $0.sessionID = created.sessionID }, metadata: meta)
            #expect(done.state == .finished && done.imageID == finished.image.id)
            // The parts are queued for deletion; once collected only the image's blobs remain.
            #expect(try await api.count("upload_session_parts") == 0)
            _ = try await api.watchUntilProcessed([finished.image.id], token: token)
            try await api.services.vault.collectGarbage()
            #expect(api.blobFiles.count == 3)
            #expect(api.stagingFiles.isEmpty)
        }
    }

    @Test func aWrongChecksumOrBadBytesAreRefusedAtFinish() async throws {
        let fixtures = try Fixtures()
        let png = try fixtures.bytes(try fixtures.image("a.png", width: 64, height: 64))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let session = try await api.images.createUploadSession(.with {
                $0.fileName = "a.png"
                $0.totalSize = Int64(png.count)
                $0.sha256 = String(repeating: "0", count: 64)
            }, metadata: meta).sessionID
            _ = try await api.sendChunks(chunks(png, session: session, from: 0, to: png.count), token: token)
            let mismatch = await rpcError { try await api.images.finishUpload(.with { $0.sessionID = session }, metadata: meta) }
            #expect(mismatch?.code == .invalidArgument && mismatch?.message.hasPrefix("sha256 does not match") == true)

            let zip = storedZIP(name: "notes.txt", contents: Array(repeating: 65, count: 500))
            let zipSession = try await api.images.createUploadSession(.with {
                $0.fileName = "photo.png"
                $0.totalSize = Int64(zip.count)
            }, metadata: meta).sessionID
            _ = try await api.sendChunks(chunks(zip, session: zipSession, from: 0, to: zip.count), token: token)
            let notImage = await rpcError { try await api.images.finishUpload(.with { $0.sessionID = zipSession }, metadata: meta) }
            #expect(notImage?.code == .invalidArgument && notImage?.message.contains("ZIP archive") == true)
            #expect(try await api.count("images") == 0)
            #expect(api.stagingFiles.isEmpty)

            let bad: [(Photovault_V1_CreateUploadSessionRequest, RPCError.Code)] = [
                (.with { $0.fileName = "a.jpg"; $0.totalSize = 0 }, .invalidArgument),
                (.with { $0.fileName = "a.jpg"; $0.totalSize = 300 * 1024 * 1024 }, .resourceExhausted),
                (.with { $0.fileName = "a.jpg"; $0.totalSize = 10; $0.sha256 = "xyz" }, .invalidArgument),
                (.with { $0.fileName = "../../etc/passwd"; $0.totalSize = 10 }, .invalidArgument),
                (.with { $0.fileName = "a.jpg"; $0.totalSize = 10; $0.albumID = "nope" }, .notFound),
            ]
            for (request, code) in bad {
                #expect(await rpcError { try await api.images.createUploadSession(request, metadata: meta) }?.code == code)
            }
            let mixed = await rpcError {
                try await api.sendChunks([
                    .with { $0.sessionID = session; $0.offset = Int64(png.count) },
                    .with { $0.sessionID = zipSession; $0.offset = 0 },
                ], token: token)
            }
            #expect(mixed?.code == .failedPrecondition || mixed?.code == .invalidArgument)
        }
    }

    @Test func expiredSessionsRefuseChunksAndAreCollected() async throws {
        let fixtures = try Fixtures()
        let png = try fixtures.bytes(try fixtures.image("a.png", width: 200, height: 200))
        try await withTestAPI(configure: { $0.imageLimits.sessionPartSize = 1024 }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let meta = TestAPI.bearer(token)
            let session = try await api.images.createUploadSession(.with {
                $0.fileName = "a.png"
                $0.totalSize = Int64(png.count)
            }, metadata: meta).sessionID
            _ = try await api.sendChunks(chunks(png, session: session, from: 0, to: 4000, size: 1000), token: token)
            #expect(api.blobFiles.count == 2)  // parts of at least 1,024 bytes: two 2,000-byte parts
            // Its 24 hours pass (moved in the database rather than waited out on a loaded machine).
            try await api.database.execute("UPDATE upload_sessions SET expires_at = now() - interval '1 second'")
            let status = try await api.images.getUploadSession(.with { $0.sessionID = session }, metadata: meta)
            #expect(status.state == .expired)
            let late = await rpcError { try await api.sendChunks(chunks(png, session: session, from: 4000, to: 5000), token: token) }
            #expect(late?.code == .failedPrecondition && late?.message.contains("expired") == true)
            #expect(await rpcError { try await api.images.finishUpload(.with { $0.sessionID = session }, metadata: meta) }?.code == .failedPrecondition)

            try await api.database.execute("DELETE FROM jobs WHERE kind = 'purge'")
            try await PurgeJob.schedule(database: api.database)
            for _ in 0..<100 where !api.blobFiles.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            #expect(api.blobFiles.isEmpty)
            #expect(await rpcError { try await api.images.getUploadSession(.with { $0.sessionID = session }, metadata: meta) }?.code == .notFound)
        }
    }
}
