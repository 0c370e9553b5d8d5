import Foundation
import GRPCCore
import PhotoVaultProto
import Testing
import TestImages
@testable import API

@Suite("Master keys")
struct KeyRotationTests {
    @Test func rotationRewrapsEveryDataKeyAndOldPhotosStayReadable() async throws {
        let fixtures = try Fixtures()
        let jpeg = try fixtures.bytes(try fixtures.image("a.jpg", width: 200, height: 100))
        let png = try fixtures.bytes(try fixtures.image("b.png", width: 20, height: 10))
        try await withTestAPI(configure: { $0.workers = 0 }) { api in
            let admin = try await api.register("admin@example.com").accessToken
            let member = try await api.register("member@example.com").accessToken
            let first = try await api.upload(jpeg, token: admin).image.id
            let second = try await api.upload(png, name: "b.png", token: member).image.id
            let keyFile = api.dataFolder.appendingPathComponent("master-keys")
            let before = try String(contentsOf: keyFile, encoding: .utf8)
            #expect(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int == 0o600)

            #expect(await rpcError { try await api.admin.rotateMasterKey(.init(), metadata: TestAPI.bearer(member)) }?.code == .permissionDenied)
            let rotated = try await api.admin.rotateMasterKey(.init(), metadata: TestAPI.bearer(admin))
            #expect(rotated.newKeyVersion == 2 && rotated.rewrappedKeys == 2)
            let after = try String(contentsOf: keyFile, encoding: .utf8)
            #expect(after.hasPrefix(before) && after.split(separator: "\n").last?.hasPrefix("2 ") == true)
            #expect(try await api.count("data_keys WHERE master_version = 2") == 2)
            #expect(try await api.count("data_keys") == 2)

            // A replica reading the key file afresh opens both users' photos, and new uploads work.
            try await withReplica(of: api, configure: { $0.workers = 0 }) { replica in
                #expect(sameBytes(try await replica.download(first, token: admin).bytes, jpeg))
                #expect(sameBytes(try await replica.download(second, token: member).bytes, png))
                let more = try fixtures.bytes(try fixtures.image("c.png", width: 30, height: 10))
                let third = try await replica.upload(more, name: "c.png", token: member).image.id
                #expect(sameBytes(try await replica.download(third, token: member).bytes, more))
            }
            // Rotating again moves on to version 3.
            let again = try await api.admin.rotateMasterKey(.init(), metadata: TestAPI.bearer(admin))
            #expect(again.newKeyVersion == 3 && again.rewrappedKeys == 2)
        }
    }

    @Test func keysFromTheEnvironmentCannotBeRotatedByRPC() async throws {
        let pairs = "1:" + Data(repeating: 3, count: 32).base64EncodedString()
        try await withTestAPI(configure: { $0.masterKeys = pairs }) { api in
            let admin = try await api.register("admin@example.com").accessToken
            let error = await rpcError { try await api.admin.rotateMasterKey(.init(), metadata: TestAPI.bearer(admin)) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("PHOTOVAULT_MASTER_KEYS") == true)
            #expect(!FileManager.default.fileExists(atPath: api.dataFolder.appendingPathComponent("master-keys").path))
        }
    }

    @Test func malformedMasterKeysAreRefusedWithASentence() throws {
        let problems = [
            ("PHOTOVAULT_MASTER_KEYS", "1:short"),
            ("PHOTOVAULT_MASTER_KEYS", "x:" + Data(repeating: 1, count: 32).base64EncodedString()),
        ]
        for (name, value) in problems {
            #expect(throws: APIConfig.Problems.self) { _ = try APIConfig.load(environment: [name: value]) }
        }
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("keys-\(UUID().uuidString)")
        try "1 notbase64!\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: MasterKeyError.malformed(file.path, "key version 1 must be 32 bytes in base64")) {
            _ = try MasterKeys.load(pairs: nil, file: file)
        }
    }
}

@Suite("Master key file")
struct MasterKeyFileTests {
    private func file() -> URL {
        URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("master-keys-\(UUID().uuidString)")
    }

    @Test func aRotationElsewhereIsSeenBeforeANewVersionIsAdded() throws {
        let url = file()
        defer { try? FileManager.default.removeItem(at: url) }
        let (server, created) = try MasterKeys.load(pairs: nil, file: url)
        #expect(created && server.currentVersion == 1)
        // The CLI rotates while the server runs.
        let (cli, _) = try MasterKeys.load(pairs: nil, file: url)
        #expect(try cli.addVersion() == 2)
        // The server, still believing version 1 is current, rotates too: it must take version 3.
        #expect(try server.addVersion() == 3)
        let reread = try MasterKeys.readFile(url)
        #expect(reread.keys.sorted() == [1, 2, 3])
    }

    @Test func aVersionWrittenTwiceIsRefused() throws {
        let url = file()
        defer { try? FileManager.default.removeItem(at: url) }
        let one = Data(repeating: 1, count: 32).base64EncodedString(), two = Data(repeating: 2, count: 32).base64EncodedString()
        try "1 \(one)\n2 \(one)\n2 \(two)\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: MasterKeyError.self) { _ = try MasterKeys.load(pairs: nil, file: url) }
    }
}

@Suite("Staging area")
struct StagingAreaTests {
    @Test func foldersOfDeadProcessesAndOfOurOwnPredecessorAreRemoved() throws {
        let parent = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("staging-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: parent) }
        let predecessor = parent.appendingPathComponent("\(getpid())-0000aaaa")
        let dead = parent.appendingPathComponent("4194305-0000bbbb")
        for folder in [predecessor, dead] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("half an upload".utf8).write(to: folder.appendingPathComponent("x.sealed"))
        }
        let area = try StagingArea(parent: parent, logger: TestPostgres.logger)
        let left = try FileManager.default.contentsOfDirectory(atPath: parent.path)
        #expect(left == [area.folder.lastPathComponent])
    }
}
