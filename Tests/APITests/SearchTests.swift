import Foundation
import GRPCCore
import Logging
import PhotoVaultProto
import PostgresNIO
import TestImages
import Testing
@testable import API

/// SearchService and AnalyzeImage: bad input, isolation, faces, similar images, captions on
/// demand, and the recall of vector search for small and large owners in one table.
@Suite("Search and captions")
struct SearchTests {
    @Test func badSearchesAreRefusedWithTheFieldNamed() async throws {
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            let auth = TestAPI.bearer(token)
            func refusal(_ request: Photovault_V1_SearchRequest) async -> RPCError? {
                await rpcError { try await api.search.search(request, metadata: auth) }
            }
            let empty = await refusal(.with { $0.query = "   " })
            #expect(empty?.code == .invalidArgument && empty?.message.hasPrefix("query is empty") == true)
            let huge = await refusal(.with { $0.query = String(repeating: "beach ", count: 17_000) })
            #expect(huge?.code == .invalidArgument && huge?.message.contains("at most 1000") == true)
            let badPerson = await refusal(.with {
                $0.query = "beach"
                $0.filters.personIds = ["not-an-id"]
            })
            #expect(badPerson?.code == .invalidArgument && badPerson?.message.hasPrefix("filters.person_ids") == true)
            let unknownPerson = await refusal(.with {
                $0.query = "beach"
                $0.filters.personIds = [UUID().uuidString]
            })
            #expect(unknownPerson?.code == .notFound)
            let unknownAlbum = await refusal(.with {
                $0.query = "beach"
                $0.filters.albumID = UUID().uuidString
            })
            #expect(unknownAlbum?.code == .notFound)
            let backwards = await refusal(.with {
                $0.query = "beach"
                $0.filters.taken.start = .init(date: Date())
                $0.filters.taken.end = .init(date: Date().addingTimeInterval(-3600))
            })
            #expect(backwards?.code == .invalidArgument)
            let forged = await refusal(.with {
                $0.query = "beach"
                $0.pageToken = "bm90LWEtdG9rZW4"
            })
            #expect(forged?.code == .invalidArgument && forged?.message.hasPrefix("page_token") == true)

            // A real token works only for its own query and its own user.
            let fixtures = try Fixtures()
            for index in 0..<3 {
                let bytes = try fixtures.bytes(try fixtures.image("p\(index).jpg", width: 100 + index, height: 80))
                _ = try await api.upload(bytes, name: "beach-\(index).jpg", token: token)
            }
            try await api.eventually("indexed") {
                try await api.number("SELECT count(*) FROM images WHERE search_document IS NOT NULL") == 3
            }
            let first = try await api.search.search(.with {
                $0.query = "beach"
                $0.pageSize = 2
            }, metadata: auth)
            #expect(first.hits.count == 2 && !first.nextPageToken.isEmpty)
            let second = try await api.search.search(.with {
                $0.query = "beach"
                $0.pageSize = 2
                $0.pageToken = first.nextPageToken
            }, metadata: auth)
            #expect(second.hits.count == 1 && second.nextPageToken.isEmpty)
            #expect(Set((first.hits + second.hits).map(\.image.id)).count == 3)
            let otherQuery = await refusal(.with {
                $0.query = "sunset"
                $0.pageToken = first.nextPageToken
            })
            #expect(otherQuery?.code == .invalidArgument && otherQuery?.message.contains("another query") == true)
            let otherUser = await rpcError {
                try await api.search.search(.with {
                    $0.query = "beach"
                    $0.pageSize = 2
                    $0.pageToken = first.nextPageToken
                }, metadata: TestAPI.bearer(other))
            }
            #expect(otherUser?.code == .invalidArgument)
            // Another user finds nothing of the owner's.
            let theirs = try await api.search.search(.with { $0.query = "beach" }, metadata: TestAPI.bearer(other))
            #expect(theirs.hits.isEmpty)
            // The album filter: only the album's images; another user cannot name the album.
            let albums = Photovault_V1_AlbumService.Client(wrapping: api.client)
            let album = try await albums.createAlbum(.with {
                $0.title = "Holiday"
                $0.imageIds = [first.hits[0].image.id]
            }, metadata: auth).album
            let inAlbum = try await api.search.search(.with {
                $0.query = "beach"
                $0.filters.albumID = album.id
            }, metadata: auth)
            #expect(inAlbum.hits.map(\.image.id) == [first.hits[0].image.id])
            let foreignAlbum = await rpcError {
                try await api.search.search(.with {
                    $0.query = "beach"
                    $0.filters.albumID = album.id
                }, metadata: TestAPI.bearer(other))
            }
            #expect(foreignAlbum?.code == .notFound)
            // Filters alone list, newest first; a tag filter narrows.
            let listed = try await api.search.search(.with { $0.filters.tags = ["beach"] }, metadata: auth)
            #expect(listed.hits.isEmpty)
            let none = try await api.search.search(.with { $0.filters.hasFaces_p = true }, metadata: auth)
            #expect(none.hits.isEmpty)
            let all = try await api.search.search(.with { $0.filters.hasFaces_p = false }, metadata: auth)
            #expect(all.hits.count == 3 && all.hits.allSatisfy(\.signals.isEmpty))
        }
    }

    @Test func facesAndSimilarImagesAreFoundOnlyInTheCallersLibrary() async throws {
        let fixtures = try Fixtures()
        let astronaut = try fixtures.write(TestPaths.astronaut, "astronaut.png")
        let photo = try fixtures.bytes(try fixtures.convert(astronaut, to: "astronaut.jpg"))
        let mirrored = fixtures.path("mirrored.jpg")
        _ = try fixtures.run("vips", ["flip", astronaut, mirrored, "horizontal"])
        let cropPath = fixtures.path("selfie.png")
        _ = try fixtures.run("vips", ["crop", astronaut, cropPath, "100", "0", "260", "260"])
        let selfie = try fixtures.bytes(cropPath)
        let noFace = try fixtures.bytes(try fixtures.image("noise.jpg", width: 300, height: 200))
        try await InferenceFixture.withServer(.everything) { port in
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let token = try await api.register("owner@example.com").accessToken
                let other = try await api.register("other@example.com").accessToken
                let mine = try await api.upload(photo, name: "astronaut.jpg", token: token).image
                let second = try await api.upload(try fixtures.bytes(mirrored), name: "mirrored.jpg", token: token).image
                let theirs = try await api.upload(photo, name: "astronaut.jpg", token: other).image
                _ = try await api.watchUntilProcessed([mine.id, second.id], token: token)
                _ = try await api.watchUntilProcessed([theirs.id], token: other)

                let found = try await api.search.searchByFace(.with { $0.image = Data(selfie) }, metadata: TestAPI.bearer(token))
                #expect(Set(found.hits.map(\.image.id)) == [mine.id, second.id])
                #expect(found.hits.allSatisfy { $0.distance <= 0.6 })
                #expect(found.queryFace.width > 40)
                let noneFound = await rpcError {
                    try await api.search.searchByFace(.with { $0.image = Data(noFace) }, metadata: TestAPI.bearer(token))
                }
                #expect(noneFound?.code == .invalidArgument && noneFound?.message.contains("no face") == true)
                let garbage = await rpcError {
                    try await api.search.searchByFace(.with { $0.image = Data("not a photo".utf8) }, metadata: TestAPI.bearer(token))
                }
                #expect(garbage?.code == .invalidArgument)
                #expect(try await api.number("SELECT count(*) FROM images") == 3)

                let similar = try await api.search.similarImages(.with { $0.imageID = mine.id }, metadata: TestAPI.bearer(token))
                #expect(similar.hits.map(\.image.id) == [second.id])
                #expect(similar.hits.first?.signals.first?.signal == .clip)
                let foreign = await rpcError {
                    try await api.search.similarImages(.with { $0.imageID = theirs.id }, metadata: TestAPI.bearer(token))
                }
                #expect(foreign?.code == .notFound)
            }
        }
    }

    @Test func captionsOnDemandComeFromBLIPOrTheConfiguredEndpoint() async throws {
        let fixtures = try Fixtures()
        let photo = try fixtures.bytes(try fixtures.image("photo.jpg", width: 320, height: 240))
        let fake = try FakeVisionChat(model: "vision-test-model", key: "sk-test-key")
        defer { fake.stopAndClean() }
        try await InferenceFixture.withServer(.everything) { port in
            try await withTestAPI(configure: {
                $0.useInference(port: port)
                $0.visionChat = .init(baseURL: fake.baseURL, model: "vision-test-model", apiKey: "sk-test-key")
            }) { api in
                let token = try await api.register("owner@example.com").accessToken
                let other = try await api.register("other@example.com").accessToken
                let image = try await api.upload(photo, token: token).image
                _ = try await api.watchUntilProcessed([image.id], token: token)

                let byDefault = try await api.images.analyzeImage(.with {
                    $0.imageID = image.id
                    $0.prompt = "Who is in this picture?"
                    $0.save = true
                }, metadata: TestAPI.bearer(token))
                #expect(byDefault.provider == .openaiCompatible && byDefault.model == "vision-test-model")
                #expect(byDefault.caption.contains("Who is in this picture?"))
                let received = try fake.receivedRequests()
                #expect(received.last?.prompt == "Who is in this picture?" && received.last?.authOK == true)
                #expect((received.last?.imageBytes ?? 0) > 1000)
                let saved = try await api.image(image.id, token: token)
                #expect(saved.caption == byDefault.caption)
                let byOwner = try await api.database.row(
                    "SELECT caption_by_owner FROM images WHERE id = \(UUID(uuidString: image.id)!)", { try $0.decode(Bool.self) })
                #expect(byOwner == true)

                let blip = try await api.images.analyzeImage(.with {
                    $0.imageID = image.id
                    $0.provider = .blip
                }, metadata: TestAPI.bearer(token))
                #expect(blip.provider == .blip && blip.model == "blip-image-captioning-base" && !blip.caption.isEmpty)
                // Not saved: the caption stays the endpoint's.
                #expect(try await api.image(image.id, token: token).caption == byDefault.caption)

                let long = await rpcError {
                    try await api.images.analyzeImage(.with {
                        $0.imageID = image.id
                        $0.prompt = String(repeating: "x", count: 1001)
                    }, metadata: TestAPI.bearer(token))
                }
                #expect(long?.code == .invalidArgument && long?.message.hasPrefix("prompt") == true)
                let foreign = await rpcError {
                    try await api.images.analyzeImage(.with { $0.imageID = image.id }, metadata: TestAPI.bearer(other))
                }
                #expect(foreign?.code == .notFound)
            }
        }
        // Without an endpoint configured, asking for one is a failed precondition.
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(photo, token: token).image
            _ = try await api.watchUntilProcessed([image.id], token: token)
            let missing = await rpcError {
                try await api.images.analyzeImage(.with {
                    $0.imageID = image.id
                    $0.provider = .openaiCompatible
                }, metadata: TestAPI.bearer(token))
            }
            #expect(missing?.code == .failedPrecondition)
        }
    }

    @Test func vectorSearchKeepsRecallForSmallAndLargeOwnersInOneTable() async throws {
        let configuration = try await TestPostgres.shared.freshDatabase()
        try await TestPostgres.withDatabase(configuration) { database in
            let large = UUID(), small = UUID()
            for (owner, email) in [(large, "large@example.com"), (small, "small@example.com")] {
                try await database.execute("""
                    INSERT INTO users (id, email, name, password_hash, role) VALUES (\(owner), \(email), 'T', 'x', 'member')
                    """)
            }
            var generator = SeededGenerator(seed: 42)
            func randomVector() -> [Float] {
                let values = (0..<32).map { _ in Float.random(in: -1...1, using: &generator) }
                let norm = values.map { $0 * $0 }.reduce(0, +).squareRoot()
                return values.map { $0 / norm }
            }
            for (owner, count) in [(large, 3000), (small, 40)] {
                var rows: [(UUID, String)] = []
                for _ in 0..<count { rows.append((UUID(), VectorText.literal(randomVector()))) }
                try await database.execute("""
                    INSERT INTO images (id, owner_id, file_name, format, byte_size, sha256, width, height, data_key_version, original_key)
                    SELECT id, \(owner), 'x.jpg', 'jpeg', 1, decode(md5(id::text), 'hex'), 1, 1, 1, 'k'
                    FROM unnest(\(rows.map(\.0))::uuid[]) AS t (id)
                    """)
                try await database.execute("""
                    INSERT INTO image_vectors (image_id, owner_id, kind, model, dim, embedding)
                    SELECT id, \(owner), 'image', 'test-model', 32, vec::vector
                    FROM unnest(\(rows.map(\.0))::uuid[], \(rows.map(\.1))::text[]) AS t (id, vec)
                    """)
            }
            try await VectorIndexes(database: database).ensure(kind: "image", dim: 32)
            try await database.execute("ANALYZE image_vectors")
            var settings = SearchSettings()
            settings.exactLimit = 100
            settings.efSearch = 40
            let search = VectorSearch(database: database, settings: settings)
            var exactSettings = settings
            exactSettings.exactLimit = .max
            let exact = VectorSearch(database: database, settings: exactSettings)
            for owner in [large, small] {
                var found = 0, total = 0
                var methods: Set<String> = []
                for _ in 0..<20 {
                    let query = randomVector()
                    let approximate = try await search.nearest(owner: owner, kind: "image", model: "test-model", vector: query, limit: 10)
                    let truth = try await exact.nearest(owner: owner, kind: "image", model: "test-model", vector: query, limit: 10)
                    #expect(truth.method == .exact)
                    methods.insert("\(approximate.method)")
                    found += Set(approximate.neighbours.map(\.image)).intersection(truth.neighbours.map(\.image)).count
                    total += truth.neighbours.count
                }
                let recall = Double(found) / Double(total)
                #expect(recall >= 0.95, "recall@10 \(recall) for \(owner == large ? "the large" : "the small") owner")
                if owner == large { #expect(methods.allSatisfy { $0.hasPrefix("index") }) } else { #expect(methods == ["exact"]) }
            }
        }
    }
}

/// A repeatable random source for test data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        // SplitMix64.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
