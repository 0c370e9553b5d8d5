import Foundation
import PostgresNIO

/// Photos per city and country, as ListByLocation and the dashboard count them.
public struct CountryCount: Sendable, Equatable {
    public var countryCode: String
    public var country: String
    public var imageCount: Int64
    /// The newest image taken there (nil where covers were not asked for).
    public var cover: UUID?
    public var cities: [CityCount]
}

/// Photos taken in one city.
public struct CityCount: Sendable, Equatable {
    public var city: String
    public var region: String
    public var imageCount: Int64
    public var cover: UUID?
}

/// Photos per capture year, month or day.
public struct DateCount: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var imageCount: Int64
    public var cover: UUID?
}

/// How finely ``PlaceAndDateGroups/dates`` groups.
public enum DateGranularity: String, Sendable {
    case year, month, day
}

/// The owner's photos (trash left out) grouped by place and by capture date. Every method
/// takes the scope: one owner, or everyone (nil) for admins' dashboards.
struct PlaceAndDateGroups: Sendable {
    let database: Database

    /// Countries by photo count (most first), `limit` from `offset`, each with its cities.
    func countries(owner: UUID?, countryCode: String?, covers: Bool, limit: Int, offset: Int) async throws -> [CountryCount] {
        let rows = try await database.rows("""
            SELECT place_country_code, max(place_country), count(*)::bigint,
                \(unescaped: covers ? "(array_agg(id ORDER BY coalesce(taken_at, uploaded_at) DESC, id DESC))[1]" : "NULL::uuid")
            FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL AND place_country_code <> ''
                AND (\(countryCode)::text IS NULL OR place_country_code = \(countryCode))
            GROUP BY place_country_code
            ORDER BY count(*) DESC, place_country_code
            LIMIT \(Int32(limit)) OFFSET \(Int32(offset))
            """) { row in
            let (code, name, count, cover) = try row.decode((String, String, Int64, UUID?).self)
            return CountryCount(countryCode: code, country: name, imageCount: count, cover: cover, cities: [])
        }
        guard !rows.isEmpty else { return [] }
        let codes = rows.map(\.countryCode)
        let cities = try await database.rows("""
            SELECT place_country_code, place_city, place_region, count(*)::bigint,
                \(unescaped: covers ? "(array_agg(id ORDER BY coalesce(taken_at, uploaded_at) DESC, id DESC))[1]" : "NULL::uuid")
            FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL
                AND place_country_code = ANY(\(codes)) AND place_city <> ''
            GROUP BY place_country_code, place_region, place_city
            ORDER BY count(*) DESC, place_city, place_region
            """) { row in
            let (code, city, region, count, cover) = try row.decode((String, String, String, Int64, UUID?).self)
            return (code, CityCount(city: city, region: region, imageCount: count, cover: cover))
        }
        return rows.map { country in
            var country = country
            country.cities = cities.filter { $0.0 == country.countryCode }.map(\.1)
            return country
        }
    }

    /// Photos with no known place.
    func unknownPlaceCount(owner: UUID?) async throws -> Int64 {
        try await database.row("""
            SELECT count(*)::bigint FROM images
            WHERE (\(owner)::uuid IS NULL OR owner_id = \(owner)) AND deleted_at IS NULL AND place_country_code = ''
            """, { try $0.decode(Int64.self) }) ?? 0
    }

    /// Capture-date groups, newest first: local dates (taken_at plus its offset, else UTC).
    func dates(owner: UUID, granularity: DateGranularity, year: Int?, month: Int?, limit: Int, offset: Int) async throws -> [DateCount] {
        let local = "(taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(taken_at_offset_minutes, 0))"
        let (yearSQL, monthSQL, daySQL) = (
            "extract(year FROM \(local))::int",
            granularity == .year ? "0" : "extract(month FROM \(local))::int",
            granularity == .day ? "extract(day FROM \(local))::int" : "0")
        return try await database.rows("""
            SELECT y, m, d, count(*)::bigint, (array_agg(id ORDER BY taken_at DESC, id DESC))[1]
            FROM (SELECT id, taken_at, \(unescaped: yearSQL) AS y, \(unescaped: monthSQL) AS m, \(unescaped: daySQL) AS d,
                      extract(month FROM \(unescaped: local))::int AS local_month
                  FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL AND taken_at IS NOT NULL) dated
            WHERE (\(year.map(Int32.init))::int IS NULL OR y = \(year.map(Int32.init)))
                AND (\(month.map(Int32.init))::int IS NULL OR local_month = \(month.map(Int32.init)))
            GROUP BY y, m, d
            ORDER BY y DESC, m DESC, d DESC
            LIMIT \(Int32(limit)) OFFSET \(Int32(offset))
            """) { row in
            let (y, m, d, count, cover) = try row.decode((Int32, Int32, Int32, Int64, UUID?).self)
            return DateCount(year: Int(y), month: Int(m), day: Int(d), imageCount: count, cover: cover)
        }
    }

    /// The owner's photos with no capture time.
    func undatedCount(owner: UUID) async throws -> Int64 {
        try await database.row(
            "SELECT count(*)::bigint FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL AND taken_at IS NULL",
            { try $0.decode(Int64.self) }) ?? 0
    }
}

extension AlbumLibrary {
    /// A page of countries (most photos first) with their cities and covers, and the count of
    /// photos with no known place.
    public func byLocation(owner: UUID, countryCode rawCode: String, pageSize: Int32, pageToken: String) async throws
        -> (countries: [CountryCount], unknown: Int64, next: String)
    {
        let code = rawCode.trimmingCharacters(in: .whitespaces).uppercased()
        guard code.isEmpty || code.wholeMatch(of: /[A-Z]{2}/) != nil else {
            throw APIError.invalid("country_code", "must be an ISO 3166-1 alpha-2 code such as FR")
        }
        let size = try PageToken.pageSize(pageSize)
        let scope = "by-location|\(code)"
        let offset = try PageToken.offset(pageToken, scope: scope)
        let groups = PlaceAndDateGroups(database: database)
        let rows = try await groups.countries(owner: owner, countryCode: code.isEmpty ? nil : code, covers: true, limit: size + 1, offset: offset)
        let next = rows.count > size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        return (Array(rows.prefix(size)), try await groups.unknownPlaceCount(owner: owner), next)
    }

    /// A page of capture-date groups, newest first, and the count of undated photos.
    public func byDate(owner: UUID, granularity: DateGranularity, year: Int32, month: Int32, pageSize: Int32, pageToken: String) async throws
        -> (groups: [DateCount], undated: Int64, next: String)
    {
        guard (0...9999).contains(year) else { throw APIError.invalid("year", "must be between 1 and 9999 (0 for every year)") }
        guard (0...12).contains(month) else { throw APIError.invalid("month", "must be between 1 and 12 (0 for every month)") }
        if month != 0, year == 0 { throw APIError.invalid("month", "needs a year") }
        let size = try PageToken.pageSize(pageSize)
        let scope = "by-date|\(granularity.rawValue)|\(year)|\(month)"
        let offset = try PageToken.offset(pageToken, scope: scope)
        let groups = PlaceAndDateGroups(database: database)
        let rows = try await groups.dates(
            owner: owner, granularity: granularity, year: year == 0 ? nil : Int(year), month: month == 0 ? nil : Int(month),
            limit: size + 1, offset: offset)
        let next = rows.count > size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        return (Array(rows.prefix(size)), try await groups.undatedCount(owner: owner), next)
    }
}
