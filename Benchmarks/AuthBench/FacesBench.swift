import API
import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TestImages

/// BENCHMARKS.md, people: a full recluster of one owner's `--faces` synthetic dlib-like faces
/// (from a fresh embedded PostgreSQL: load, DBSCAN, write back), the in-memory DBSCAN alone
/// against one plain pass over all pairs, and the incremental placing of new faces one at a
/// time against one exact nearest-face query on the same table.
struct FaceClusteringLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces", abstract: "Full recluster and incremental clustering of faces against plain baselines.")

    @Option(help: "Faces of the measured owner.") var faces = 50_000
    @Option(help: "New faces placed one by one for the incremental figure.") var arrivals = 100

    func run() async throws {
        // About 45 photos per person, and a tenth of the faces strangers seen once.
        let people = faces * 9 / 10 / 45
        let set = SyntheticFaces(people: people, facesPerPerson: 5...85, strangers: faces / 10)
        let descriptors = Array(set.descriptors.prefix(faces))
        print("faces: \(descriptors.count) (\(people) people, 5–85 photos each, and strangers seen once), 128 dimensions")

        // In memory: DBSCAN against one plain all-pairs pass over the same faces (10,000 of them:
        // the plain pass over all would take minutes), then DBSCAN over all.
        let sample = Array(descriptors.prefix(10_000))
        let plain = try await seconds {
            var within = 0
            for i in 0..<sample.count {
                let a = sample[i]
                for j in (i + 1)..<sample.count {
                    var sum: Float = 0
                    for k in 0..<a.count {
                        let d = a[k] - sample[j][k]
                        sum += d * d
                    }
                    if sum <= 0.25 { within += 1 }
                }
            }
            precondition(within > 0)
        }
        let clustering = FaceClustering(settings: .dlib)
        let sampled = try await seconds { _ = await clustering.cluster(sample) }
        var labels: [Int?] = []
        let dbscan = try await seconds { labels = await clustering.cluster(descriptors) }
        let scores = set.pairwiseScores(Array(labels.prefix(8000)))
        print(String(format: "%d faces: plain all-pairs distance pass (scalar, one core) %.2f s; DBSCAN (two SIMD passes on all cores, union-find) %.2f s = %.2f× the plain pass",
                     sample.count, plain, sampled, sampled / plain))
        print(String(format: "DBSCAN in memory over all %d faces: %.1f s; %d clusters; pairwise precision %.3f, recall %.3f (first 8,000 faces)",
                     descriptors.count, dbscan, Set(labels.compactMap { $0 }).count, scores.precision, scores.recall))

        try await withBenchDatabase(name: "faces") { database in
            var logger = Logger(label: "photovault-bench")
            logger.logLevel = .warning
            let owner = UUID()
            try await database.execute("""
                INSERT INTO users (id, email, name, password_hash, role) VALUES (\(owner), 'faces@example.com', 'Bench', 'x', 'member')
                """)
            try await insert(descriptors, owner: owner, into: database)
            try await database.execute("ANALYZE")
            let clusterer = FaceClusterer(database: database, settings: .dlib, logger: logger)
            var summary: FaceClusterer.Summary?
            let full = try await seconds { summary = try await clusterer.reclusterAll(owner: owner) }
            print(String(format: "full Recluster through PostgreSQL (load, DBSCAN, write people back): %.1f s = %.2f× DBSCAN in memory",
                         full, full / dbscan))
            if let summary { print("  \(summary.faces) faces, \(summary.clusters) clusters, \(summary.peopleCreated) people created") }

            // Incremental: new photos of known people arrive one at a time.
            var random = SeededRandom(seed: 5)
            var placing: [Double] = [], nearest: [Double] = []
            for _ in 0..<arrivals {
                let known = descriptors[Int(random.next() % UInt64(descriptors.count))]
                let arrival = known.map { $0 + Float(random.normal() * 0.02) }
                try await insert([arrival], owner: owner, into: database)
                placing.append(try await seconds { try await clusterer.clusterNew(owner: owner) })
                nearest.append(try await seconds {
                    _ = try await database.row("""
                        SELECT id FROM faces WHERE owner_id = \(owner) ORDER BY descriptor <-> \(VectorText.literal(arrival))::vector LIMIT 1
                        """) { try $0.decode(UUID.self) }
                })
            }
            let p50 = placing.sorted()[placing.count / 2] * 1000, baseline = nearest.sorted()[nearest.count / 2] * 1000
            let placed = try await database.row(
                "SELECT ARRAY[count(*) FILTER (WHERE person_id IS NOT NULL), count(*)] FROM faces WHERE owner_id = \(owner)",
                { try $0.decode([Int64].self) }) ?? [0, 0]
            print(String(format: "incremental: one new face placed (its neighbours, its person, person albums), p50 %.1f ms, p90 %.1f ms", p50,
                         placing.sorted()[placing.count * 9 / 10] * 1000))
            print(String(format: "baseline: one exact nearest-face query on the same %d faces, p50 %.1f ms; ratio %.2f×", descriptors.count, baseline, p50 / baseline))
            print("  faces with a person after the full run and the arrivals: \(placed[0]) of \(placed[1]) (strangers seen once and stray photos wait)")
        }
    }

    /// One image row and one face row per descriptor, 5,000 per statement.
    private func insert(_ descriptors: [[Float]], owner: UUID, into database: Database) async throws {
        for start in stride(from: 0, to: descriptors.count, by: 5000) {
            let chunk = Array(descriptors[start..<min(start + 5000, descriptors.count)])
            let images = chunk.map { _ in UUID() }
            try await database.execute("""
                INSERT INTO images (id, owner_id, file_name, format, byte_size, sha256, width, height, data_key_version, original_key)
                SELECT id, \(owner), 'face.jpg', 'jpeg', 1000, sha256(convert_to(id::text, 'UTF8')), 640, 480, 1, 'o/' || id
                FROM unnest(\(images)) AS t(id)
                """)
            try await database.execute("""
                INSERT INTO faces (id, image_id, owner_id, box_x, box_y, box_width, box_height, landmarks, detection_score,
                    blur_variance, too_small, too_blurry, model, dim, descriptor)
                SELECT gen_random_uuid(), t.image_id, \(owner), 10, 10, 100, 100, '{}'::real[], 0.9, 300, false, false,
                    'dlib-resnet-v1', 128, t.descriptor::vector
                FROM unnest(\(images), \(chunk.map(VectorText.literal))) AS t(image_id, descriptor)
                """)
        }
    }

    private func seconds(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
