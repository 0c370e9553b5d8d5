import API
import ArgumentParser
import Foundation
import Logging
import PostgresNIO

/// BENCHMARKS.md, dashboard: GetStats' and GetStorageAnalysis' domain calls for one user with
/// `--images` images (seeded with SQL into a fresh embedded PostgreSQL, beside another user's
/// tenth as many), each as a ratio to `SELECT count(*)` of that user's images in the same run.
struct DashboardLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "GetStats and GetStorageAnalysis latency against a count(*) baseline.")

    @Option(help: "Images of the measured user.") var images = 100_000
    @Option(help: "Timed repetitions of each call (the median is printed).") var repetitions = 15

    func run() async throws {
        try await withBenchDatabase(name: "dashboard") { database in
            let user = UUID(), other = UUID()
            for (id, email) in [(user, "measured@example.com"), (other, "other@example.com")] {
                try await database.execute("""
                    INSERT INTO users (id, email, name, password_hash, role) VALUES (\(id), \(email), 'Bench', 'x', 'member')
                    """)
            }
            for (owner, count) in [(user, images), (other, images / 10)] {
                // Four formats, twelve cameras, ten years of months, a few places, some duplicate sets, a tenth in the trash.
                try await database.execute("""
                    INSERT INTO images (id, owner_id, file_name, format, byte_size, sha256, width, height, taken_at, uploaded_at,
                        camera_make, camera_model, data_key_version, original_key, preview_key, preview_size, thumbnail_key,
                        thumbnail_size, place_city, place_region, place_country_code, place_country, duplicate_set_id, deleted_at)
                    SELECT gen_random_uuid(), \(owner), 'img-' || n || '.jpg', (ARRAY['jpeg', 'png', 'heic', 'webp'])[1 + n % 4],
                        500000 + (n * 7919) % 4000000, sha256(convert_to(\(owner.uuidString) || n, 'UTF8')), 4000, 3000,
                        timestamptz '2015-01-01' + (n % 3650) * interval '1 day', now(),
                        'Make' || (n % 3), 'Model' || (n % 12), 1, 'o/' || n, 'p/' || n, 300000, 't/' || n, 12000,
                        (ARRAY['Paris', 'Tokyo', '', 'Lyon'])[1 + n % 4], 'Region', (ARRAY['FR', 'JP', '', 'FR'])[1 + n % 4],
                        (ARRAY['France', 'Japan', '', 'France'])[1 + n % 4],
                        CASE WHEN n % 50 < 2 THEN md5((n / 50)::text)::uuid END,
                        CASE WHEN n % 10 = 0 THEN now() END
                    FROM generate_series(1, \(Int32(count))) AS n
                    """)
            }
            try await database.execute("ANALYZE")
            let dashboard = Dashboard(database: database)
            func median(_ body: () async throws -> Void) async throws -> Double {
                for _ in 0..<2 { try await body() }
                var samples: [Double] = []
                for _ in 0..<repetitions {
                    let start = ContinuousClock.now
                    try await body()
                    let elapsed = ContinuousClock.now - start
                    samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                }
                return samples.sorted()[samples.count / 2]
            }
            let baseline = try await median {
                _ = try await database.row("SELECT count(*) FROM images WHERE owner_id = \(user)", { try $0.decode(Int64.self) })
            }
            let stats = try await median { _ = try await dashboard.stats(.owner(user)) }
            let storage = try await median { _ = try await dashboard.storage(.owner(user), largestLimit: 20) }
            let everyone = try await median { _ = try await dashboard.storage(.everyone, largestLimit: 20) }
            print("images of the user: \(images) (+\(images / 10) of another user), median of \(repetitions)")
            print(String(format: "baseline SELECT count(*) of the user's images: %.2f ms", baseline))
            print(String(format: "GetStats (owner):                     %.2f ms  = %.1f× baseline", stats, stats / baseline))
            print(String(format: "GetStorageAnalysis (owner):           %.2f ms  = %.1f× baseline", storage, storage / baseline))
            print(String(format: "GetStorageAnalysis (all users):       %.2f ms  = %.1f× baseline", everyone, everyone / baseline))
        }
    }
}

/// Runs `body` on a migrated database of a fresh embedded PostgreSQL under the temporary folder,
/// removed afterwards: the ground of the database benchmarks.
func withBenchDatabase(name: String, _ body: (Database) async throws -> Void) async throws {
    var logger = Logger(label: "photovault-bench")
    logger.logLevel = .warning
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("photovault-bench-\(name)-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let bin = try EmbeddedPostgres.locateBinaries(explicit: nil, projectRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    let server = EmbeddedPostgres(binFolder: bin, folder: folder.appendingPathComponent("postgres"), logger: logger)
    try server.start()
    defer { try? server.stop() }
    try await server.createDatabaseIfMissing("bench", logger: logger)
    let database = Database(configuration: server.configuration(database: "bench"), logger: logger, connectionWait: .seconds(60))
    try await withThrowingTaskGroup(of: Void.self) { group in
        await database.client.start(in: &group)
        defer { group.cancelAll() }
        try await Migrator(database: database, logger: logger).migrate()
        try await body(database)
    }
}
