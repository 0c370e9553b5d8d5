import Foundation
import GRPCCore
import Logging
import PhotoVaultProto
import PostgresNIO
import Testing
import TestImages
@testable import API

extension TestAPI {
    var people: Photovault_V1_PeopleService.Client<Transport> { .init(wrapping: client) }

    /// Stores one face per descriptor for `owner`, each in an image of its own (rows only), in
    /// the order given; returns the face ids.
    @discardableResult
    func seedFaces(owner: UUID, descriptors: [[Float]], tooBlurry: Bool = false) async throws -> [UUID] {
        let images = try await seedImages(owner: owner, count: descriptors.count, start: Date(timeIntervalSince1970: 1_600_000_000))
        let faces = images.map { _ in UUID() }
        try await database.execute("""
            INSERT INTO faces (id, image_id, owner_id, box_x, box_y, box_width, box_height, landmarks, detection_score,
                blur_variance, too_small, too_blurry, model, dim, descriptor, created_at)
            SELECT f.id, f.image_id, \(owner), 100, 80, 120, 120, ARRAY[130, 120, 190, 120, 160, 150, 135, 175, 185, 175]::real[], 0.99,
                \(tooBlurry ? Float(5) : Float(400)), false, \(tooBlurry), 'dlib-resnet-v1', \(Int32(SyntheticFaces.dimensions)),
                f.descriptor::vector, now() + f.n * interval '1 millisecond'
            FROM unnest(\(faces), \(images), \(descriptors.map(VectorText.literal))) WITH ORDINALITY AS f(id, image_id, descriptor, n)
            """)
        return faces
    }

    /// Each face's person (nil when it has none), in the order of `faces`.
    func persons(of faces: [UUID]) async throws -> [UUID?] {
        let rows = try await database.rows("SELECT id, person_id FROM faces WHERE id = ANY(\(faces))") {
            try $0.decode((UUID, UUID?).self)
        }
        let byFace = Dictionary(rows, uniquingKeysWith: { a, _ in a })
        return faces.map { byFace[$0] ?? nil }
    }
}

/// Expects `call` to fail with `code` and a message holding `words`.
private func expectRefusal(_ what: String, _ code: RPCError.Code, _ words: String, _ call: () async throws -> Void) async {
    let error = await rpcError(call)
    #expect(error?.code == code, "\(what): \(String(describing: error))")
    #expect(error?.message.contains(words) == true, "\(what): \(error?.message ?? "no error")")
}

/// Cluster labels from person ids, for scoring.
private func labels(_ persons: [UUID?]) -> [Int?] {
    var numbers: [UUID: Int] = [:]
    return persons.map { person in person.map { id in numbers[id] ?? { numbers[id] = numbers.count; return numbers[id]! }() } }
}

@Suite struct PeopleTests {
    // MARK: - Clustering

    @Test func theSyntheticFacesAreSpreadLikeDlibDescriptors() {
        let faces = SyntheticFaces(people: 30, facesPerPerson: 5...20, strangers: 20)
        var same: [Float] = [], different: [Float] = []
        for i in 0..<faces.descriptors.count {
            for j in (i + 1)..<faces.descriptors.count {
                let distance = zip(faces.descriptors[i], faces.descriptors[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                if faces.identities[i] == faces.identities[j] { same.append(distance) } else { different.append(distance) }
            }
        }
        let meanSame = same.reduce(0, +) / Float(same.count), meanDifferent = different.reduce(0, +) / Float(different.count)
        #expect((0.35...0.45).contains(meanSame), "same person: \(meanSame)")
        #expect((0.8...0.95).contains(meanDifferent), "different people: \(meanDifferent)")
        // Not an easy set: some photos of one person are farther apart than the clustering
        // distance, and some different people come closer than dlib's 0.6.
        #expect(same.filter { $0 > 0.5 }.count > same.count / 100, "same-person pairs beyond 0.5")
        #expect(different.contains { $0 < 0.65 }, "closest different people: \(different.min() ?? 0)")
    }

    @Test func fullClusteringFindsKnownIdentitiesWithHighPairwisePrecisionAndRecall() async {
        let faces = SyntheticFaces(people: 60, facesPerPerson: 3...40, strangers: 80, seed: 7)
        let labels = await FaceClustering(settings: .dlib).cluster(faces.descriptors)
        let scores = faces.pairwiseScores(labels)
        #expect(scores.precision >= 0.95, "precision \(scores.precision)")
        #expect(scores.recall >= 0.90, "recall \(scores.recall)")
        // Strangers seen once stay out of every cluster.
        let strangers = faces.identities.indices.filter { faces.identities[$0] >= 60 }
        #expect(strangers.allSatisfy { labels[$0] == nil })
    }

    @Test func incrementalClusteringPlacesFacesAsTheyArriveAndMatchesTheIdentities() async throws {
        let faces = SyntheticFaces(people: 12, facesPerPerson: 3...15, strangers: 10, seed: 11)
        // Photos arrive in random order, in four batches, each clustered as it lands.
        var order = Array(faces.descriptors.indices)
        var random = SeededRandom(seed: 3)
        for index in order.indices.reversed() { order.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        try await withTestAPI { api in
            let owner = try await api.userID(try await api.register("faces@example.com").accessToken)
            let clusterer = FaceClusterer(database: api.database, settings: .dlib, logger: Logger(label: "test"))
            var ids: [Int: UUID] = [:]
            let quarter = (order.count + 3) / 4
            for batch in stride(from: 0, to: order.count, by: quarter).map({ Array(order[$0..<min($0 + quarter, order.count)]) }) {
                let stored = try await api.seedFaces(owner: owner, descriptors: batch.map { faces.descriptors[$0] })
                for (index, id) in zip(batch, stored) { ids[index] = id }
                try await clusterer.clusterNew(owner: owner)
            }
            let persons = try await api.persons(of: faces.descriptors.indices.map { ids[$0]! })
            let scores = faces.pairwiseScores(labels(persons))
            #expect(scores.precision >= 0.95, "precision \(scores.precision)")
            #expect(scores.recall >= 0.90, "recall \(scores.recall)")
            #expect(faces.identities.indices.filter { faces.identities[$0] >= 12 }.allSatisfy { persons[$0] == nil })
            #expect(try await api.number("SELECT count(*) FROM faces WHERE clustered_at IS NULL") == 0)

            // Blurry faces never found a person, however many look alike.
            let blurry = SyntheticFaces(people: 1, facesPerPerson: 6...6, strangers: 0, seed: 99)
            let blurryIDs = try await api.seedFaces(owner: owner, descriptors: blurry.descriptors, tooBlurry: true)
            try await clusterer.clusterNew(owner: owner)
            #expect(try await api.persons(of: blurryIDs).allSatisfy { $0 == nil })
        }
    }

    @Test func editsSurviveAFullRecluster() async throws {
        let faces = SyntheticFaces(people: 4, facesPerPerson: 6...6, strangers: 0, seed: 5)
        try await withTestAPI { api in
            let token = try await api.register("editor@example.com").accessToken
            let auth = TestAPI.bearer(token)
            let owner = try await api.userID(token)
            let ids = try await api.seedFaces(owner: owner, descriptors: faces.descriptors)
            let clusterer = FaceClusterer(database: api.database, settings: .dlib, logger: Logger(label: "test"))
            try await clusterer.clusterNew(owner: owner)
            let found = try await api.people.listPeople(.init(), metadata: auth).people
            #expect(found.count == 4)
            #expect(found.allSatisfy { $0.faceCount == 6 && $0.photoCount == 6 && !$0.coverFaceID.isEmpty })
            let person = { (identity: Int) async throws -> String in
                try await api.persons(of: [ids[faces.identities.firstIndex(of: identity)!]])[0]!.uuidString.lowercased()
            }
            let alice = try await person(0), bob = try await person(1), carol = try await person(2), dave = try await person(3)

            // Name Alice; take one of her faces away by hand; merge Carol into Bob; hide Dave;
            // move one of Dave's faces to Alice by hand.
            _ = try await api.people.updatePerson(.with { $0.personID = alice; $0.name = "Alice" }, metadata: auth)
            let removed = ids[faces.identities.firstIndex(of: 0)!].uuidString.lowercased()
            let reassigned = try await api.people.reassignFace(.with { $0.faceID = removed }, metadata: auth)
            #expect(reassigned.face.personID.isEmpty && reassigned.face.assignedByUser && !reassigned.hasPerson)
            let merged = try await api.people.mergePeople(.with {
                $0.targetPersonID = bob
                $0.sourcePersonIds = [carol]
            }, metadata: auth)
            #expect(merged.movedFaceCount == 6 && merged.person.faceCount == 12)
            _ = try await api.people.updatePerson(.with { $0.personID = dave; $0.hidden = true }, metadata: auth)
            let moved = ids[faces.identities.firstIndex(of: 3)!].uuidString.lowercased()
            let toAlice = try await api.people.reassignFace(.with { $0.faceID = moved; $0.personID = alice }, metadata: auth)
            #expect(toAlice.person.name == "Alice" && toAlice.person.faceCount == 6)

            // Everything clustered again, through the RPC and the job workers.
            let queued = try await api.people.recluster(.with { $0.full = true }, metadata: auth)
            #expect(queued.faceCount == 23 && queued.personCount == 3 && !queued.jobID.isEmpty)
            try await api.eventually("the recluster job done") {
                try await api.number("SELECT count(*) FROM jobs WHERE kind = 'recluster_faces' AND state = 'succeeded'") == 1
            }
            let after = try await api.people.listPeople(.with { $0.includeHidden = true }, metadata: auth).people
            #expect(after.count == 3)
            let aliceNow = try await api.people.getPerson(.with { $0.personID = alice }, metadata: auth).person
            #expect(aliceNow.name == "Alice" && aliceNow.faceCount == 6)
            #expect(try await api.persons(of: [UUID(uuidString: removed)!, UUID(uuidString: moved)!]) == [nil, UUID(uuidString: alice)!])
            let bobNow = try await api.people.getPerson(.with { $0.personID = bob }, metadata: auth).person
            #expect(bobNow.faceCount == 12)
            let daveNow = try await api.people.getPerson(.with { $0.personID = dave }, metadata: auth).person
            #expect(daveNow.hidden && daveNow.faceCount == 5)
            #expect(try await api.people.listPeople(.init(), metadata: auth).people.map(\.id).sorted() == [alice, bob].sorted())

            // Alice has a person album with her six photos; hidden Dave has none.
            let albums = try await api.albums.listAlbums(.with { $0.kind = .person }, metadata: auth).albums
            #expect(albums.map(\.title) == ["Alice"] && albums.first?.imageCount == 6 && albums.first?.personID == alice)
        }
    }

    @Test func theNightlyPassReclustersOwnersWithNewFacesOncePerDay() async throws {
        let faces = SyntheticFaces(people: 2, facesPerPerson: 5...5, strangers: 0, seed: 13)
        try await withTestAPI { api in
            let owner = try await api.userID(try await api.register("nightly@example.com").accessToken)
            _ = try await api.register("no-faces@example.com")
            try await api.seedFaces(owner: owner, descriptors: faces.descriptors)
            let housekeeping = Housekeeping(database: api.database, logger: Logger(label: "test"))
            try await housekeeping.sweep()
            try await api.eventually("the nightly recluster done") {
                try await api.number("SELECT count(*) FROM jobs WHERE kind = 'recluster_faces' AND state = 'succeeded'") == 1
            }
            #expect(try await api.number("SELECT count(DISTINCT person_id) FROM faces") == 2)
            #expect(try await api.number("SELECT count(*) FROM jobs WHERE kind = 'recluster_faces' AND owner_id IS DISTINCT FROM '\(owner.uuidString)'") == 0)
            // Within the day, a second sweep queues nothing, even with new faces.
            try await api.seedFaces(owner: owner, descriptors: [faces.descriptors[0]])
            try await housekeeping.sweep()
            #expect(try await api.number("SELECT count(*) FROM jobs WHERE kind = 'recluster_faces'") == 1)
        }
    }

    @Test func theDashboardCountsPeoplePairsAndUnnamedClustersLikeSQL() async throws {
        let faces = SyntheticFaces(people: 3, facesPerPerson: 6...6, strangers: 0, seed: 17)
        try await withTestAPI { api in
            let token = try await api.register("dashboard@example.com").accessToken
            let other = try await api.register("other@example.com").accessToken
            let auth = TestAPI.bearer(token)
            let owner = try await api.userID(token)
            let ids = try await api.seedFaces(owner: owner, descriptors: faces.descriptors)
            try await api.seedFaces(owner: try await api.userID(other), descriptors: faces.descriptors)
            // Faces 0–3 of the second person are in the photos of faces 0–3 of the first, and
            // faces 0–1 of the third too: group photos.
            let byIdentity = Dictionary(grouping: ids.indices, by: { faces.identities[$0] }).mapValues { $0.map { ids[$0] } }
            for (identity, shared) in [(1, 4), (2, 2)] {
                for k in 0..<shared {
                    try await api.database.execute("""
                        UPDATE faces SET image_id = (SELECT image_id FROM faces WHERE id = \(byIdentity[0]![k])) WHERE id = \(byIdentity[identity]![k])
                        """)
                }
            }
            // People as clustering would make them (clustering itself is tested above).
            var personOf: [Int: String] = [:]
            for identity in 0..<3 {
                let id = UUID()
                try await api.database.execute("INSERT INTO people (id, owner_id) VALUES (\(id), \(owner))")
                try await api.database.execute("UPDATE faces SET person_id = \(id) WHERE id = ANY(\(byIdentity[identity]!))")
                personOf[identity] = id.uuidString.lowercased()
            }
            let person = { (identity: Int) in personOf[identity]! }
            let first = person(0), second = person(1), third = person(2)
            _ = try await api.people.updatePerson(.with { $0.personID = first; $0.name = "Ann" }, metadata: auth)

            let analysis = try await api.dashboard.getPersonAnalysis(.init(), metadata: auth)
            #expect(analysis.people.map(\.personID) == [first, second, third].sorted { a, b in a == first || (b != first && a < b) })
            #expect(analysis.people.map(\.photoCount) == [6, 6, 6] && analysis.people[0].name == "Ann" && !analysis.people[0].coverFaceID.isEmpty)
            let pairs = analysis.pairs.map { [$0.personAID, $0.personBID].sorted() + [String($0.sharedPhotoCount)] }
            #expect(pairs.first == [first, second].sorted() + ["4"])
            #expect(Set(pairs) == [[first, second].sorted() + ["4"], [first, third].sorted() + ["2"], [second, third].sorted() + ["2"]])
            #expect(analysis.unnamedClusterCount == 2)
            // Against a direct count: photos per person, and the photo count of the library.
            #expect(try await api.number("SELECT count(DISTINCT image_id) FROM faces WHERE owner_id = '\(owner.uuidString)'") == 18 - 4 - 2)
            let stats = try await api.dashboard.getStats(.init(), metadata: auth)
            #expect(stats.personCount == 3 && stats.faceCount == 18)

            // A hidden person leaves the analysis, the pairs and the counts.
            _ = try await api.people.updatePerson(.with { $0.personID = third; $0.hidden = true }, metadata: auth)
            let withoutThird = try await api.dashboard.getPersonAnalysis(.with { $0.limit = 1 }, metadata: auth)
            #expect(withoutThird.people.map(\.personID) == [first] && withoutThird.pairs.count == 1 && withoutThird.unnamedClusterCount == 1)
            #expect(try await api.dashboard.getStats(.init(), metadata: auth).personCount == 2)
            // The other user sees only their own (unclustered) library; everyone's needs the admin.
            #expect(try await api.dashboard.getPersonAnalysis(.init(), metadata: TestAPI.bearer(other)).people.isEmpty)
            #expect(await rpcError { try await api.dashboard.getPersonAnalysis(.with { $0.allUsers = true }, metadata: TestAPI.bearer(other)) }?.code == .permissionDenied)
            #expect(try await api.dashboard.getPersonAnalysis(.with { $0.allUsers = true }, metadata: auth).people.count == 2)
        }
    }

    // MARK: - Real photos

    @Test func facesInRealPhotosBecomeOnePersonWithAnAlbumAndASearchFilter() async throws {
        let fixtures = try Fixtures()
        let astronaut = try fixtures.write(TestPaths.astronaut, "astronaut.png")
        // The same face at different scales, crops and brightness.
        var variants: [[UInt8]] = []
        let operations: [(String, [String])] = [("resize", ["1.0"]), ("resize", ["0.8"]), ("crop", ["40", "20", "430", "460"]), ("linear", ["0.8", "10"])]
        for (index, (operation, parameters)) in operations.enumerated() {
            let output = fixtures.path("variant-\(index).jpg")
            _ = try fixtures.run("vips", [operation, astronaut, output] + parameters)
            variants.append(try fixtures.bytes(output))
        }
        let other = try fixtures.bytes(try fixtures.image("landscape.jpg", width: 300, height: 200))
        try await InferenceFixture.withServer(.offlineDefaults) { port in
            try await withTestAPI(configure: { $0.useInference(port: port) }) { api in
                let token = try await api.register("astronaut@example.com").accessToken
                let auth = TestAPI.bearer(token)
                var uploaded: [String] = []
                for (index, bytes) in (variants + [other]).enumerated() {
                    uploaded.append(try await api.upload(bytes, name: "photo-\(index).jpg", token: token).image.id)
                }
                _ = try await api.watchUntilProcessed(uploaded, token: token)
                // The photos also hold a pattern on her suit that dlib takes for a face, barely
                // (score 0.52): it is stored but never becomes a person.
                try await api.eventually("the faces clustered") {
                    let unseen = try await api.number("SELECT count(*) FROM faces WHERE clustered_at IS NULL")
                    let placed = try await api.number("SELECT count(*) FROM faces WHERE person_id IS NOT NULL")
                    return unseen == 0 && placed == 4
                }
                let people = try await api.people.listPeople(.init(), metadata: auth).people
                #expect(people.count == 1)
                let eileen = try #require(people.first)
                #expect(eileen.photoCount == 4 && eileen.faceCount == 4 && uploaded.prefix(4).contains(eileen.coverImageID))
                #expect(eileen.coverBox.width > 50)

                let images = try await api.people.listPersonImages(.with { $0.personID = eileen.id; $0.pageSize = 3 }, metadata: auth)
                #expect(images.images.count == 3 && !images.nextPageToken.isEmpty)
                #expect(images.images.allSatisfy { $0.faces.count == 1 && $0.faces[0].personID == eileen.id && $0.faces[0].landmarks.count == 5 })
                let rest = try await api.people.listPersonImages(.with {
                    $0.personID = eileen.id
                    $0.pageSize = 3
                    $0.pageToken = images.nextPageToken
                }, metadata: auth)
                #expect(Set((images.images + rest.images).map(\.image.id)) == Set(uploaded.prefix(4)))

                // Named, she gets an album; search filters by her.
                _ = try await api.people.updatePerson(.with { $0.personID = eileen.id; $0.name = "Eileen Collins" }, metadata: auth)
                let albums = try await api.albums.listAlbums(.with { $0.kind = .person }, metadata: auth).albums
                #expect(albums.map(\.title) == ["Eileen Collins"] && albums.first?.imageCount == 4)
                let found = try await api.search.search(.with { $0.filters.personIds = [eileen.id] }, metadata: auth)
                #expect(Set(found.hits.map(\.image.id)) == Set(uploaded.prefix(4)))
                // Deleting a photo to the trash takes it out of her counts and album.
                _ = try await api.images.deleteImage(.with { $0.imageID = uploaded[0] }, metadata: auth)
                #expect(try await api.people.getPerson(.with { $0.personID = eileen.id }, metadata: auth).person.photoCount == 3)
                #expect(try await api.albums.getAlbum(.with { $0.albumID = albums[0].id }, metadata: auth).album.imageCount == 3)
            }
        }
    }

    // MARK: - Bad input and isolation

    @Test func peopleRPCsRefuseBadInputWithASentence() async throws {
        let faces = SyntheticFaces(people: 2, facesPerPerson: 6...6, strangers: 0, seed: 8)
        try await withTestAPI { api in
            let token = try await api.register("careful@example.com").accessToken
            let auth = TestAPI.bearer(token)
            let owner = try await api.userID(token)
            let ids = try await api.seedFaces(owner: owner, descriptors: faces.descriptors)
            try await FaceClusterer(database: api.database, settings: .dlib, logger: Logger(label: "test")).clusterNew(owner: owner)
            let persons = try await api.persons(of: ids)
            #expect(Set(persons.compactMap { $0 }).count == 2)
            let before = try await api.people.listPeople(.init(), metadata: auth).people
            let first = persons[0]?.uuidString.lowercased() ?? "unassigned"
            let otherIndex = persons.firstIndex(where: { (candidate: UUID?) -> Bool in candidate != persons[0] }) ?? 0
            let faceOfSecond = ids[otherIndex].uuidString.lowercased()
            let unknown = UUID().uuidString.lowercased()

            await expectRefusal("merge into itself", .invalidArgument, "merged into themselves") {
                _ = try await api.people.mergePeople(.with { $0.targetPersonID = first; $0.sourcePersonIds = [first] }, metadata: auth)
            }
            await expectRefusal("merge nobody", .invalidArgument, "source_person_ids is empty") {
                _ = try await api.people.mergePeople(.with { $0.targetPersonID = first }, metadata: auth)
            }
            await expectRefusal("merge 101 people", .invalidArgument, "at most 100") {
                _ = try await api.people.mergePeople(.with {
                    $0.targetPersonID = first
                    $0.sourcePersonIds = (0...100).map { _ in UUID().uuidString }
                }, metadata: auth)
            }
            await expectRefusal("merge an unknown person", .notFound, "was not found") {
                _ = try await api.people.mergePeople(.with { $0.targetPersonID = first; $0.sourcePersonIds = [unknown] }, metadata: auth)
            }
            await expectRefusal("empty name", .invalidArgument, "name is empty") {
                _ = try await api.people.updatePerson(.with { $0.personID = first; $0.name = "   " }, metadata: auth)
            }
            await expectRefusal("1,000-character name", .invalidArgument, "at most 100") {
                _ = try await api.people.updatePerson(.with { $0.personID = first; $0.name = String(repeating: "n", count: 1000) }, metadata: auth)
            }
            await expectRefusal("control characters in a name", .invalidArgument, "control characters") {
                _ = try await api.people.updatePerson(.with { $0.personID = first; $0.name = "Al\u{0}ice" }, metadata: auth)
            }
            await expectRefusal("30 February", .invalidArgument, "birth_date.day") {
                _ = try await api.people.updatePerson(.with {
                    $0.personID = first
                    $0.birthDate = .with { $0.year = 1990; $0.month = 2; $0.day = 30 }
                }, metadata: auth)
            }
            await expectRefusal("born next century", .invalidArgument, "in the future") {
                _ = try await api.people.updatePerson(.with {
                    $0.personID = first
                    $0.birthDate = .with { $0.year = 2190; $0.month = 2; $0.day = 3 }
                }, metadata: auth)
            }
            await expectRefusal("a date and its clearing together", .invalidArgument, "clear_birth_date") {
                _ = try await api.people.updatePerson(.with {
                    $0.personID = first
                    $0.birthDate = .with { $0.year = 1990; $0.month = 2; $0.day = 3 }
                    $0.clearBirthDate_p = true
                }, metadata: auth)
            }
            await expectRefusal("another person's face as cover", .invalidArgument, "not a face of this person") {
                _ = try await api.people.updatePerson(.with { $0.personID = first; $0.coverFaceID = faceOfSecond }, metadata: auth)
            }
            await expectRefusal("a malformed person id", .invalidArgument, "person_id") {
                _ = try await api.people.getPerson(.with { $0.personID = "'; DROP TABLE people; --" }, metadata: auth)
            }
            await expectRefusal("an unknown person", .notFound, "was not found") {
                _ = try await api.people.getPerson(.with { $0.personID = unknown }, metadata: auth)
            }
            await expectRefusal("a person and a new person at once", .invalidArgument, "create_person") {
                _ = try await api.people.reassignFace(.with { $0.faceID = faceOfSecond; $0.personID = first; $0.createPerson = true }, metadata: auth)
            }
            await expectRefusal("a 501-entry page", .invalidArgument, "page_size") {
                _ = try await api.people.listPeople(.with { $0.pageSize = 501 }, metadata: auth)
            }
            await expectRefusal("a forged page token", .invalidArgument, "page_token") {
                _ = try await api.people.listPeople(.with { $0.pageToken = "not-a-token" }, metadata: auth)
            }
            await expectRefusal("no token", .unauthenticated, "access token") {
                _ = try await api.people.listPeople(.init())
            }
            // Nothing changed: both people as they were, nobody named.
            let now = try await api.people.listPeople(.init(), metadata: auth).people
            #expect(now == before && now.allSatisfy { $0.name.isEmpty && !$0.hasBirthDate })
            // Moving a face to a new person works, and the birth date of a year-less day is kept.
            let fresh = try await api.people.reassignFace(.with { $0.faceID = faceOfSecond; $0.createPerson = true }, metadata: auth)
            #expect(fresh.person.faceCount == 1 && fresh.face.personID == fresh.person.id)
            let dated = try await api.people.updatePerson(.with {
                $0.personID = first
                $0.birthDate = .with { $0.year = 0; $0.month = 2; $0.day = 29 }
            }, metadata: auth).person
            #expect(dated.birthDate.year == 0 && dated.birthDate.month == 2 && dated.birthDate.day == 29)
        }
    }

    @Test func anotherUserReachesNoneOfThePeopleOrFaces() async throws {
        let faces = SyntheticFaces(people: 1, facesPerPerson: 5...5, strangers: 0, seed: 21)
        try await withTestAPI { api in
            let ownerToken = try await api.register("owner@example.com").accessToken
            let otherToken = try await api.register("other@example.com").accessToken
            let owner = try await api.userID(ownerToken)
            let ids = try await api.seedFaces(owner: owner, descriptors: faces.descriptors)
            try await FaceClusterer(database: api.database, settings: .dlib, logger: Logger(label: "test")).clusterNew(owner: owner)
            let assigned = try await api.persons(of: ids)
            let person = assigned[0]?.uuidString.lowercased() ?? "unassigned"
            let face = ids[0].uuidString.lowercased()
            let other = TestAPI.bearer(otherToken)
            let detour = try await api.people.reassignFace(
                .with { $0.faceID = face; $0.createPerson = true }, metadata: TestAPI.bearer(ownerToken)).person.id
            _ = try await api.people.reassignFace(.with { $0.faceID = face; $0.personID = person }, metadata: TestAPI.bearer(ownerToken))
            #expect(detour != person)

            await expectRefusal("GetPerson", .notFound, "was not found") { _ = try await api.people.getPerson(.with { $0.personID = person }, metadata: other) }
            await expectRefusal("UpdatePerson", .notFound, "was not found") { _ = try await api.people.updatePerson(.with { $0.personID = person; $0.name = "Mine" }, metadata: other) }
            await expectRefusal("MergePeople", .notFound, "was not found") { _ = try await api.people.mergePeople(.with { $0.targetPersonID = person; $0.sourcePersonIds = [UUID().uuidString] }, metadata: other) }
            await expectRefusal("ListPersonImages", .notFound, "was not found") { _ = try await api.people.listPersonImages(.with { $0.personID = person }, metadata: other) }
            await expectRefusal("ReassignFace", .notFound, "was not found") { _ = try await api.people.reassignFace(.with { $0.faceID = face }, metadata: other) }
            // The other user's own person cannot take the owner's face, nor merge the owner's person.
            let mine = try await api.seedFaces(owner: try await api.userID(otherToken), descriptors: [faces.descriptors[0]])
            let own = try await api.people.reassignFace(.with { $0.faceID = mine[0].uuidString; $0.createPerson = true }, metadata: other).person.id
            await expectRefusal("merging the owner's person", .notFound, "was not found") {
                _ = try await api.people.mergePeople(.with { $0.targetPersonID = own; $0.sourcePersonIds = [person] }, metadata: other)
            }
            await expectRefusal("taking the owner's face", .notFound, "was not found") {
                _ = try await api.people.reassignFace(.with { $0.faceID = face; $0.personID = own }, metadata: other)
            }
            #expect(try await api.people.listPeople(.with { $0.includeHidden = true }, metadata: other).people.map(\.id) == [own])
            let recluster = try await api.people.recluster(.init(), metadata: other)
            #expect(recluster.faceCount == 0 && recluster.personCount == 1)
            // A guest's share token is no sign-in for any people RPC.
            let event = try await api.createEvent("Party", token: ownerToken)
            let link = try await api.events.createShareLink(.with { $0.eventID = event.id }, metadata: TestAPI.bearer(ownerToken)).link
            let guest = TestAPI.bearer(link.token)
            await expectRefusal("guest ListPeople", .unauthenticated, "The access token") {
                _ = try await api.people.listPeople(.init(), metadata: guest)
            }
            await expectRefusal("guest GetPerson", .unauthenticated, "The access token") {
                _ = try await api.people.getPerson(.with { $0.personID = person }, metadata: guest)
            }
            await expectRefusal("guest UpdatePerson", .unauthenticated, "The access token") {
                _ = try await api.people.updatePerson(.with { $0.personID = person; $0.name = "Guest" }, metadata: guest)
            }
            await expectRefusal("guest MergePeople", .unauthenticated, "The access token") {
                _ = try await api.people.mergePeople(.with { $0.targetPersonID = person; $0.sourcePersonIds = [own] }, metadata: guest)
            }
            await expectRefusal("guest ListPersonImages", .unauthenticated, "The access token") {
                _ = try await api.people.listPersonImages(.with { $0.personID = person }, metadata: guest)
            }
            await expectRefusal("guest ReassignFace", .unauthenticated, "The access token") {
                _ = try await api.people.reassignFace(.with { $0.faceID = face }, metadata: guest)
            }
            await expectRefusal("guest Recluster", .unauthenticated, "The access token") {
                _ = try await api.people.recluster(.init(), metadata: guest)
            }
            await expectRefusal("guest GetPersonAnalysis", .unauthenticated, "The access token") {
                _ = try await api.dashboard.getPersonAnalysis(.init(), metadata: guest)
            }
            // The owner's person is untouched.
            let still = try await api.people.getPerson(.with { $0.personID = person }, metadata: TestAPI.bearer(ownerToken)).person
            #expect(still.name.isEmpty && still.faceCount == 5)
        }
    }
}
