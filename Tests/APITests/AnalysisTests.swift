import Foundation
import GRPCCore
import Inference
import PhotoVaultProto
import PostgresNIO
import Synchronization
import TestImages
import Testing
@testable import API

/// The AI pipeline against a real inference server in the test process: analysis, tags,
/// faces, text indexing, duplicates, waiting out inference outages, re-indexing.
@Suite("AI pipeline")
struct AnalysisTests {
    /// Distinct little photos: noise of different sizes, so no two share bytes.
    private func photos(_ count: Int, fixtures: Fixtures) throws -> [[UInt8]] {
        try (0..<count).map { index in
            try fixtures.bytes(try fixtures.image("photo-\(index).jpg", width: 120 + 7 * index, height: 90 + 3 * index))
        }
    }

    private func stages(_ image: Photovault_V1_Image) -> [Photovault_V1_ProcessingStage: Photovault_V1_StageState] {
        Dictionary(image.stages.map { ($0.stage, $0.state) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func goldenTinyModelsStoreEmbeddingsCaptionsTagsAndFacesEndToEnd() async throws {
        let fixtures = try Fixtures()
        let astronaut = try fixtures.write(TestPaths.astronaut, "astronaut.png")
        let jpeg = try fixtures.bytes(try fixtures.convert(astronaut, to: "astronaut.jpg"))
        try await InferenceFixture.withServer(.everything) { port in
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let token = try await api.register("owner@example.com").accessToken
                let uploaded = try await api.upload(jpeg, name: "astronaut_at_nasa.jpg", token: token).image
                let events = try await api.watchUntilProcessed([uploaded.id], token: token)
                #expect(events.last?.state == .ready)
                let image = try await api.image(uploaded.id, token: token)
                let stages = stages(image)
                #expect(stages[.analyze] == .done && stages[.faces] == .done && stages[.textIndex] == .done)

                // CLIP's image embedding, with the model and the tiny model's own length.
                let vectors = try await api.database.rows(
                    "SELECT kind, model, dim FROM image_vectors WHERE image_id = \(UUID(uuidString: image.id)!) ORDER BY kind"
                ) { try $0.decode((String, String, Int32).self) }
                #expect(vectors.map(\.0) == ["image", "text"])
                #expect(vectors.first?.1 == "clip-vit-b-32" && (vectors.first?.2 ?? 0) > 0)
                #expect(vectors.last?.1 == "all-MiniLM-L6-v2" && vectors.last?.2 == 384)
                // BLIP's caption (random weights: some words), kept with its model.
                #expect(!image.caption.isEmpty)
                let captionModel = try await api.database.row(
                    "SELECT caption_model FROM images WHERE id = \(UUID(uuidString: image.id)!)", { try $0.decode(String.self) })
                #expect(captionModel == "blip-image-captioning-base")
                // 3–10 AI tags, and metadata tags beside them.
                let aiTags = image.tags.filter { $0.source == .ai }
                #expect((3...10).contains(aiTags.count))
                #expect(aiTags.allSatisfy { $0.score > 0 && $0.score <= 1 })
                // dlib finds Eileen Collins' face; its box is in the original's pixels (512 × 512).
                let allFaces = try await api.database.rows(
                    "SELECT box_x, box_y, box_width, box_height, detection_score FROM faces"
                ) { try $0.decode((Int32, Int32, Int32, Int32, Float).self) }
                #expect(image.faceCount >= 1 && image.hasFaces_p, "faces: \(allFaces)")
                // The most confident face is hers (HOG may add a weak false positive elsewhere).
                let box = try await api.database.row("""
                    SELECT box_x, box_y, box_width, box_height, dim, too_small FROM faces
                    WHERE image_id = \(UUID(uuidString: image.id)!) ORDER BY detection_score DESC LIMIT 1
                    """) { try $0.decode((Int32, Int32, Int32, Int32, Int32, Bool).self) }
                if let box {
                    #expect((120...260).contains(box.0) && (20...170).contains(box.1))
                    #expect(box.2 > 40 && box.3 > 40 && box.0 + box.2 <= 512 && box.1 + box.3 <= 512)
                    #expect(box.4 == 128 && !box.5)
                } else {
                    Issue.record("no face row")
                }

                // The owner removes an AI tag; analysing again does not bring it back.
                let removed = try #require(aiTags.first?.name)
                _ = try await api.images.updateMetadata(
                    .with {
                        $0.imageID = image.id
                        $0.tagsToRemove = [removed]
                    }, metadata: TestAPI.bearer(token))
                try await api.database.transaction { transaction in
                    try await JobQueue.enqueue(Pipeline.analyze, imageID: UUID(uuidString: image.id)!, ownerID: UUID(uuidString: image.ownerID)!, in: transaction)
                }
                _ = try await api.watchUntilProcessed([image.id], token: token)
                try await api.eventually("the second analysis") {
                    try await api.number("SELECT count(*) FROM jobs WHERE kind = 'analyze' AND state = 'succeeded'") == 2
                }
                let again = try await api.image(image.id, token: token)
                #expect(!again.tags.contains { $0.name == removed })
                #expect(again.tags.contains { $0.source == .ai })
            }
        }
    }

    @Test func withOnlyTheOfflineDefaultModelsADescribedPhotoIsFoundByMeaning() async throws {
        let fixtures = try Fixtures()
        let bytes = try photos(4, fixtures: fixtures)
        let descriptions = [
            "my children playing by the sea",
            "a plate of spaghetti at our favourite restaurant",
            "scanned tax paperwork for the accountant",
            "the old steam locomotive at the railway museum",
        ]
        try await InferenceFixture.withServer(.offlineDefaults) { port in
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let token = try await api.register("owner@example.com").accessToken
                var ids: [String] = []
                for (index, photo) in bytes.enumerated() {
                    let image = try await api.upload(photo, name: "IMG_\(1000 + index).jpg", token: token).image
                    _ = try await api.images.updateMetadata(
                        .with {
                            $0.imageID = image.id
                            $0.description_p = descriptions[index]
                        }, metadata: TestAPI.bearer(token))
                    ids.append(image.id)
                }
                _ = try await api.watchUntilProcessed(ids, token: token)
                try await api.eventually("every description embedded") {
                    let embedded = try await api.number("SELECT count(*) FROM image_vectors WHERE kind = 'text'")
                    let pending = try await api.number("SELECT count(*) FROM jobs WHERE kind = 'text_index' AND state <> 'succeeded'")
                    return embedded == 4 && pending == 0
                }
                // No CLIP is served: analysis is skipped honestly, faces ran.
                let first = try await api.image(ids[0], token: token)
                #expect(stages(first)[.analyze] == .done)

                let reply = try await api.search.search(.with { $0.query = "kids at the beach" }, metadata: TestAPI.bearer(token))
                #expect(reply.hits.first?.image.id == ids[0])
                let beach = try #require(reply.hits.first)
                #expect(beach.signals.contains { $0.signal == .textEmbedding && $0.rank == 1 })
                #expect(!beach.signals.contains { $0.signal == .clip })
                // Unrelated photos, when they come at all, come after it.
                #expect(reply.hits.dropFirst().allSatisfy { $0.score < beach.score })

                // Words match too: full text over the description, stemmed.
                let trains = try await api.search.search(.with { $0.query = "locomotives" }, metadata: TestAPI.bearer(token))
                #expect(trains.hits.first?.image.id == ids[3])
                #expect(trains.hits.first?.signals.contains { $0.signal == .fullText } == true)

                // An edit is indexed again: the new words find the photo.
                _ = try await api.images.updateMetadata(
                    .with {
                        $0.imageID = ids[1]
                        $0.description_p = "grandmother's birthday cake with candles"
                    }, metadata: TestAPI.bearer(token))
                try await api.eventually("the edit indexed") {
                    let found = try await api.search.search(.with { $0.query = "birthday" }, metadata: TestAPI.bearer(token))
                    return found.hits.first?.image.id == ids[1]
                }
            }
        }
    }

    @Test func analysisWaitsWhileInferenceIsDownAndResumesWithNothingLost() async throws {
        let fixtures = try Fixtures()
        let bytes = try photos(20, fixtures: fixtures)
        let port = try InferenceFixture.freePort()
        // Up once so the API knows the models, then down for the uploads.
        try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
            try await InferenceFixture.withServer(.offlineDefaults, port: port) { _ in
                try await api.eventually("the inference server seen") { api.services.inference.isAvailable }
            }
            try await api.eventually("the outage noticed") { !api.services.inference.isAvailable }
            let token = try await api.register("owner@example.com").accessToken
            var ids: [String] = []
            for (index, photo) in bytes.enumerated() {
                ids.append(try await api.upload(photo, name: "beach-\(index).jpg", token: token).image.id)
            }
            // Every analysis waits: derivatives done, analyze pending with a reason, no attempt spent.
            try await api.eventually("all twenty waiting") {
                try await api.number("""
                    SELECT count(*) FROM image_stages WHERE stage = 'analyze' AND state = 'pending' AND error LIKE 'Waiting:%'
                    """) == 20
            }
            #expect(try await api.number("SELECT count(*) FROM jobs WHERE state IN ('dead', 'failed')") == 0)
            #expect(try await api.number("SELECT coalesce(max(attempts), 0) FROM jobs WHERE kind = 'analyze'") == 0)
            let waiting = try await api.image(ids[0], token: token)
            #expect(waiting.processingState == .processing)
            #expect(waiting.stages.first { $0.stage == .analyze }?.error.contains("unavailable") == true)

            try await InferenceFixture.withServer(.offlineDefaults, port: port) { _ in
                let events = try await api.watchUntilProcessed(ids, token: token)
                #expect(events.filter { $0.state == .ready }.count >= 20)
                try await api.eventually("all twenty indexed") {
                    try await api.number("SELECT count(*) FROM jobs WHERE kind IN ('analyze', 'text_index') AND state = 'succeeded'") == 40
                }
            }
            #expect(try await api.number("SELECT count(*) FROM jobs WHERE state = 'dead'") == 0)
            #expect(try await api.number("SELECT count(*) FROM image_stages WHERE stage = 'analyze' AND state = 'done'") == 20)
            // File names have words ("beach"), so each image got its text embedding.
            #expect(try await api.number("SELECT count(*) FROM image_vectors WHERE kind = 'text'") == 20)
        }
    }

    @Test func callsSpreadOverTheHealthyServersAndMoveOnWhenOneStops() async throws {
        let fixtures = try Fixtures()
        let bytes = try photos(14, fixtures: fixtures)
        let first = CallCounter(), second = CallCounter()
        let secondPort = try InferenceFixture.freePort()
        try await InferenceFixture.withServer(
            services: { [AlteredInference.counting(InferenceServiceHandler(models: $0), into: first)] }, models: .offlineDefaults
        ) { firstPort in
            try await withTestAPI(configure: {
                $0.useInference(port: firstPort)
                $0.inference.addresses.append(InferenceAddress(host: "127.0.0.1", port: secondPort))
            }) { api in
                let token = try await api.register("owner@example.com").accessToken
                try await InferenceFixture.withServer(
                    services: { [AlteredInference.counting(InferenceServiceHandler(models: $0), into: second)] },
                    models: .offlineDefaults, port: secondPort
                ) { _ in
                    try await api.eventually("both servers healthy") {
                        api.services.inference.servedModels != nil && api.services.inference.healthyCount == 2
                    }
                    var ids: [String] = []
                    for (index, photo) in bytes.prefix(10).enumerated() {
                        ids.append(try await api.upload(photo, name: "first-\(index).jpg", token: token).image.id)
                    }
                    _ = try await api.watchUntilProcessed(ids, token: token)
                }
                // Both took a share of the work.
                let (early, late) = (first.value, second.value)
                #expect(early > 0 && late > 0, "analyze calls: \(early) and \(late)")
                // The second is gone: the rest goes to the first, without waiting for the second.
                var ids: [String] = []
                for (index, photo) in bytes.dropFirst(10).enumerated() {
                    ids.append(try await api.upload(photo, name: "later-\(index).jpg", token: token).image.id)
                }
                let events = try await api.watchUntilProcessed(ids, token: token)
                #expect(events.filter { $0.state == .ready }.count >= 4)
                #expect(second.value == late)
                #expect(first.value >= early + 4)
                #expect(try await api.number("SELECT count(*) FROM jobs WHERE state IN ('dead', 'failed')") == 0)
            }
        }
    }

    @Test func aNewlyServedModelBringsOldImagesUpToDate() async throws {
        let fixtures = try Fixtures()
        let bytes = try photos(2, fixtures: fixtures)
        let port = try InferenceFixture.freePort()
        try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
            let token = try await api.register("owner@example.com").accessToken
            try await InferenceFixture.withServer(.offlineDefaults, port: port) { _ in
                var ids: [String] = []
                for (index, photo) in bytes.enumerated() {
                    ids.append(try await api.upload(photo, name: "garden-\(index).jpg", token: token).image.id)
                }
                _ = try await api.watchUntilProcessed(ids, token: token)
            }
            #expect(try await api.number("SELECT count(*) FROM image_vectors WHERE kind = 'image'") == 0)
            // The same server comes back with CLIP: the re-index gives both images their embedding.
            try await InferenceFixture.withServer(.everything, port: port) { _ in
                try await api.eventually("both images embedded by CLIP") {
                    try await api.number("SELECT count(*) FROM image_vectors WHERE kind = 'image' AND model = 'clip-vit-b-32'") == 2
                }
            }
            #expect(try await api.number("SELECT count(*) FROM jobs WHERE kind = 'reindex' AND state = 'succeeded'") >= 1)
        }
    }

    @Test func aVectorOfTheWrongLengthIsRefusedAndTheJobFailsLoudly() async throws {
        let fixtures = try Fixtures()
        let photo = try photos(1, fixtures: fixtures)[0]
        try await InferenceFixture.withServer(
            services: { registry in [AlteredInference.shortVectors(InferenceServiceHandler(models: registry))] }, models: .everything
        ) { port in
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let token = try await api.register("owner@example.com").accessToken
                let image = try await api.upload(photo, token: token).image
                let events = try await api.watchUntilProcessed([image.id], token: token)
                #expect(events.last?.state == .failed)
                let job = try await api.database.row("SELECT state, last_error FROM jobs WHERE kind = 'analyze'") {
                    try $0.decode((String, String).self)
                }
                #expect(job?.0 == "dead")
                #expect(job?.1.contains("7-value image embedding") == true)
                #expect(try await api.number("SELECT count(*) FROM image_vectors") == 0)
            }
        }
    }

    @Test func reEncodedCopiesOfAPictureFormADuplicateSet() async throws {
        let fixtures = try Fixtures()
        let astronaut = try fixtures.write(TestPaths.astronaut, "astronaut.png")
        let fine = try fixtures.bytes(try fixtures.convert(astronaut, to: "fine.jpg", options: "[Q=95]"))
        let coarse = try fixtures.bytes(try fixtures.convert(astronaut, to: "coarse.jpg", options: "[Q=60]"))
        let mirrored = fixtures.path("mirrored.png")
        _ = try fixtures.run("vips", ["flip", astronaut, mirrored, "horizontal"])
        let other = try fixtures.bytes(mirrored)
        // No inference: the perceptual hash decides.
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            var ids: [String] = []
            for (name, bytes) in [("fine.jpg", fine), ("coarse.jpg", coarse), ("mirrored.png", other)] {
                ids.append(try await api.upload(bytes, name: name, token: token).image.id)
            }
            _ = try await api.watchUntilProcessed(ids, token: token)
            try await api.eventually("duplicates examined") {
                try await api.number("SELECT count(*) FROM jobs WHERE kind = 'duplicates' AND state = 'succeeded'") == 3
            }
            let sets = try await api.database.rows("SELECT id, duplicate_set_id, perceptual_hash FROM images") {
                try $0.decode((UUID, UUID?, Int64?).self)
            }
            let hashes = sets.map { String(UInt64(bitPattern: $0.2 ?? 0), radix: 2) }
            let set = Dictionary(uniqueKeysWithValues: sets.compactMap { row in row.1.map { (row.0.uuidString.lowercased(), $0) } })
            #expect(set[ids[0]] != nil && set[ids[0]] == set[ids[1]], "hashes \(hashes)")
            #expect(set[ids[2]] == nil, "hashes \(hashes)")
        }
    }

    @Test func tagPolicyKeepsThreeToTenAndMetadataTagsFollowTheHemisphere() {
        let policy = TagPolicy()
        let flat = (0..<50).map { ("label \($0)", Float(0.001)) }
        #expect(policy.select(flat).count == 3)
        let confident = (0..<50).map { ("label \($0)", Float(0.5 - Double($0) * 0.001)) }
        #expect(policy.select(confident).count == 10)
        #expect(policy.select([("Dog", 0.6), ("dog", 0.3), ("cat", 0.05)]).map(\.name) == ["dog", "cat"])

        let july = ISO8601DateFormatter().date(from: "2024-07-14T12:00:00Z")
        let north = TagPolicy.metadataTags(
            takenAt: july, offsetMinutes: 120, latitude: 48.85, city: "Paris", country: "France", make: "Canon", model: "Canon EOS R5")
        #expect(north == ["2024", "july", "summer", "paris", "france", "canon eos r5"])
        let south = TagPolicy.metadataTags(
            takenAt: july, offsetMinutes: nil, latitude: -33.9, city: "", country: "", make: "Apple", model: "iPhone 13")
        #expect(south == ["2024", "july", "winter", "apple iphone 13"])
        #expect(TextIndexJob.Document.words(ofFileName: "IMG_20240714_beach-sunset.JPG") == "beach sunset")
    }
}

/// A replica that serves the real models through `real`, with its Analyze replies passed
/// through `alter` first: a misbehaving or an observed replica.
struct AlteredInference: Photovault_Inference_V1_InferenceService.SimpleServiceProtocol {
    let real: InferenceServiceHandler
    let alter: @Sendable (inout Photovault_Inference_V1_AnalyzeResponse) -> Void

    /// Cuts image embeddings to 7 values, as a replica serving another model would: what the API must refuse.
    static func shortVectors(_ real: InferenceServiceHandler) -> Self {
        Self(real: real) { response in
            if response.hasImageEmbedding {
                response.imageEmbedding.values = Array(response.imageEmbedding.values.prefix(7))
                response.imageEmbedding.dim = 7
            }
        }
    }

    /// Counts the Analyze calls it answers.
    static func counting(_ real: InferenceServiceHandler, into counter: CallCounter) -> Self {
        Self(real: real) { _ in counter.count.withLock { $0 += 1 } }
    }

    func analyze(
        request: Photovault_Inference_V1_AnalyzeRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_AnalyzeResponse {
        var response = try await real.analyze(request: request, context: context)
        alter(&response)
        return response
    }

    func embedText(
        request: Photovault_Inference_V1_EmbedTextRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_EmbedTextResponse {
        try await real.embedText(request: request, context: context)
    }

    func listModels(
        request: Photovault_Inference_V1_ListModelsRequest, context: ServerContext
    ) async throws -> Photovault_Inference_V1_ListModelsResponse {
        try await real.listModels(request: request, context: context)
    }
}

/// A count shared between a test and a server.
final class CallCounter: Sendable {
    let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
}

/// Test inputs that come with the project's Python packages.
enum TestPaths {
    /// scikit-image's astronaut.png (Eileen Collins, 512 × 512), installed by scripts/setup.sh.
    static var astronaut: [UInt8] {
        let lib = TestPostgres.projectRoot.appendingPathComponent(".venv/lib").path
        let version = (try? FileManager.default.contentsOfDirectory(atPath: lib))?.first { $0.hasPrefix("python3") } ?? "python3"
        return [UInt8](FileManager.default.contents(atPath: "\(lib)/\(version)/site-packages/skimage/data/astronaut.png") ?? Data())
    }
}

extension Fixtures {
    /// Converts `file` with libvips' command line, e.g. to JPEG with `[Q=60]`.
    func convert(_ file: String, to name: String, options: String = "") throws -> String {
        let target = path(name)
        _ = try run("vips", ["copy", file, target + options])
        return target
    }
}
