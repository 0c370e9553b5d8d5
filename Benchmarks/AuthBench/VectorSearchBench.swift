import API
import ArgumentParser
import Foundation
import Logging
import PostgresNIO

/// BENCHMARKS.md, vector search: one large and one small owner share `image_vectors` (512-d,
/// clustered like real embeddings). For each, the search the server chooses is timed against an
/// exact search of the same owner in the same run, and its recall@10 against that exact search.
struct VectorSearchLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors", abstract: "Nearest-neighbour search (HNSW or exact, as chosen) against exact search: latency ratio and recall@10.")

    @Option(help: "Vectors of the large owner.") var large = 50_000
    @Option(help: "Vectors of the small owner.") var small = 300
    @Option(help: "Vector length.") var dim = 512
    @Option(help: "Queries per owner.") var queries = 40

    func run() async throws {
        try await withBenchDatabase(name: "vectors") { database in
            let owners = [(UUID(), large), (UUID(), small)]
            // 200 cluster centres; every vector is a centre plus noise, as photos of similar scenes are.
            try await database.execute("""
                CREATE TEMP TABLE centres AS
                SELECT c, ARRAY(SELECT random() - 0.5 + c * 0 FROM generate_series(1, \(Int32(dim)))) AS v
                FROM generate_series(0, 199) AS c
                """)
            for (owner, count) in owners {
                try await database.execute("""
                    INSERT INTO users (id, email, name, password_hash, role)
                    VALUES (\(owner), \(owner.uuidString + "@example.com"), 'Bench', 'x', 'member')
                    """)
                try await database.execute("""
                    INSERT INTO images (id, owner_id, file_name, format, byte_size, sha256, width, height, data_key_version, original_key)
                    SELECT gen_random_uuid(), \(owner), 'x.jpg', 'jpeg', 1, sha256(convert_to(\(owner.uuidString) || n, 'UTF8')), 1, 1, 1, 'k'
                    FROM generate_series(1, \(Int32(count))) AS n
                    """)
                try await database.execute("""
                    INSERT INTO image_vectors (image_id, owner_id, kind, model, dim, embedding)
                    SELECT i.id, i.owner_id, 'image', 'bench-clip', \(Int32(dim)),
                        ARRAY(SELECT x + (random() - 0.5) * 0.35 FROM unnest(c.v) AS x)::vector
                    FROM (SELECT id, owner_id, row_number() OVER () AS n FROM images WHERE owner_id = \(owner)) AS i
                    JOIN centres c ON c.c = i.n % 200
                    """)
            }
            try await VectorIndexes(database: database).ensure(kind: "image", dim: dim)
            try await database.execute("ANALYZE image_vectors")
            let chosen = VectorSearch(database: database, settings: SearchSettings())
            var exactSettings = SearchSettings()
            exactSettings.exactLimit = .max
            let exact = VectorSearch(database: database, settings: exactSettings)
            print("vectors: \(large) of a large owner + \(small) of a small one, \(dim)-d, \(queries) queries each, HNSW m 16 / ef_construction 200")
            for (label, (owner, _)) in zip(["large", "small"], owners) {
                let queryVectors = try await database.rows("""
                    SELECT ARRAY(SELECT x + (random() - 0.5) * 0.35 FROM unnest(v) AS x)::vector::text FROM centres
                    ORDER BY random() LIMIT \(Int32(queries))
                    """) { try $0.decode(String.self) }.map(VectorText.parse)
                var chosenTimes: [Double] = [], exactTimes: [Double] = [], found = 0, total = 0
                var method = ""
                for vector in queryVectors {
                    _ = try await chosen.nearest(owner: owner, kind: "image", model: "bench-clip", vector: vector, limit: 10)
                    var start = ContinuousClock.now
                    let answer = try await chosen.nearest(owner: owner, kind: "image", model: "bench-clip", vector: vector, limit: 10)
                    chosenTimes.append(Self.milliseconds(ContinuousClock.now - start))
                    start = ContinuousClock.now
                    let truth = try await exact.nearest(owner: owner, kind: "image", model: "bench-clip", vector: vector, limit: 10)
                    exactTimes.append(Self.milliseconds(ContinuousClock.now - start))
                    found += Set(answer.neighbours.map(\.image)).intersection(truth.neighbours.map(\.image)).count
                    total += truth.neighbours.count
                    method = "\(answer.method)"
                }
                let (mine, baseline) = (Self.median(chosenTimes), Self.median(exactTimes))
                print(String(format: "%@ owner: chosen method %@: p50 %.2f ms; exact search: p50 %.2f ms; ratio %.2f×; recall@10 %.3f",
                             label, method, mine, baseline, mine / baseline, Double(found) / Double(max(total, 1))))
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
