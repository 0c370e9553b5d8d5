import Foundation

/// What GenerateAlbums did.
public struct GenerationOutcome: Sendable, Equatable {
    public var created = 0
    /// Existing generated albums whose images, title or dates changed.
    public var updated = 0
}

extension AlbumLibrary {
    /// Photos in a run shorter than this make no trip.
    static let minimumTripPhotos = 2
    /// Trip gaps the caller may ask for, in hours.
    static let tripGapRange = 1...(24 * 366)

    /// Creates or refreshes trip, location and person albums from capture times, places and
    /// named people (all three when none is asked for). Albums the
    /// owner edited or deleted are left alone and never generated twice; generated albums whose
    /// photos are gone are removed. One owner's generation runs at a time.
    public func generate(owner: UUID, kinds requested: [AlbumKind], tripGapHours: Int32) async throws -> GenerationOutcome {
        if requested.contains(.manual) {
            throw APIError.invalid("kinds", "must not contain ALBUM_KIND_MANUAL (manual albums are made with CreateAlbum)")
        }
        let kinds = requested.isEmpty ? [AlbumKind.trip, .location, .person] : requested
        let hours = tripGapHours == 0 ? 24 : Int(tripGapHours)
        guard Self.tripGapRange.contains(hours) else {
            throw APIError.invalid("trip_gap_hours", "must be between 1 and \(Self.tripGapRange.upperBound) (0 means 24)")
        }
        let gap = TimeInterval(hours * 3600)
        return try await database.transaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext('albums:' || \(owner.lowercased)))")
            let photos = try await transaction.rows("""
                SELECT id, taken_at, taken_at_offset_minutes, place_city, place_region, place_country_code, place_country
                FROM images WHERE owner_id = \(owner) AND deleted_at IS NULL
                ORDER BY taken_at, id
                """) { row in
                let (id, takenAt, offset, city, region, code, country) = try row.decode((UUID, Date?, Int32?, String, String, String, String).self)
                return GeneratedPhoto(id: id, takenAt: takenAt, offsetMinutes: offset.map(Int.init),
                                      place: Place(city: city, region: region, countryCode: code, country: country))
            }
            var outcome = GenerationOutcome()
            if kinds.contains(.trip) {
                try await generateTrips(owner: owner, photos: photos, gap: gap, outcome: &outcome, in: transaction)
            }
            if kinds.contains(.location) {
                try await generateLocations(owner: owner, photos: photos, outcome: &outcome, in: transaction)
            }
            if kinds.contains(.person) {
                try await generatePersonAlbums(owner: owner, outcome: &outcome, in: transaction)
            }
            if outcome.created + outcome.updated > 0 {
                try await ImageLibrary.recordActivity(
                    "albums_generated", owner: owner, image: nil,
                    detail: ["created": String(outcome.created), "updated": String(outcome.updated)], in: transaction)
            }
            return outcome
        }
    }

    /// Person albums are kept current by every change to people; this brings them up to date
    /// (after a restore from the trash, say) and counts what changed.
    private func generatePersonAlbums(owner: UUID, outcome: inout GenerationOutcome, in transaction: Transaction) async throws {
        try await FaceClusterer.lock(owner: owner, in: transaction)
        let changes = try await PersonAlbums.sync(owner: owner, in: transaction)
        outcome.created += changes.created
        outcome.updated += changes.updated
    }

    /// One photo as generation sees it.
    struct GeneratedPhoto: Sendable {
        var id: UUID
        var takenAt: Date?
        var offsetMinutes: Int?
        var place: Place
        /// The capture time on the camera's clock (UTC when the offset is unknown).
        var localTime: Date? { takenAt.map { $0.addingTimeInterval(TimeInterval((offsetMinutes ?? 0) * 60)) } }
    }

    /// An existing generated album: what regeneration compares against.
    struct ExistingAlbum {
        var id: UUID
        var key: String?
        var title: String
        var edited: Bool
        var deleted: Bool
        var images: Set<UUID>
    }

    private func existing(owner: UUID, kind: AlbumKind, in transaction: Transaction) async throws -> [ExistingAlbum] {
        try await transaction.rows("""
            SELECT a.id, a.generation_key, a.title, a.edited_by_user, a.deleted_at IS NOT NULL,
                coalesce(array_agg(ai.image_id) FILTER (WHERE ai.image_id IS NOT NULL), '{}')
            FROM albums a LEFT JOIN album_images ai ON ai.album_id = a.id
            WHERE a.owner_id = \(owner) AND a.kind = \(kind.rawValue)
            GROUP BY a.id
            """) { row in
            let (id, key, title, edited, deleted, images) = try row.decode((UUID, String?, String, Bool, Bool, [UUID]).self)
            return ExistingAlbum(id: id, key: key, title: title, edited: edited, deleted: deleted, images: Set(images))
        }
    }

    /// Runs of dated photos whose gaps are under `gap`, each becoming or refreshing one trip album.
    /// A run that shares photos with an album the owner edited or deleted is left to the owner.
    private func generateTrips(
        owner: UUID, photos: [GeneratedPhoto], gap: TimeInterval, outcome: inout GenerationOutcome, in transaction: Transaction
    ) async throws {
        var runs: [[GeneratedPhoto]] = []
        var current: [GeneratedPhoto] = []
        for photo in photos {
            guard let time = photo.takenAt else { continue }
            if let last = current.last?.takenAt, time.timeIntervalSince(last) >= gap {
                runs.append(current)
                current = []
            }
            current.append(photo)
        }
        if !current.isEmpty { runs.append(current) }
        runs = runs.filter { $0.count >= Self.minimumTripPhotos }

        var albums = try await existing(owner: owner, kind: .trip, in: transaction)
        var kept = Set<UUID>()
        for run in runs {
            let ids = run.map(\.id)
            let members = Set(ids)
            let overlapping = albums.filter { !$0.images.isDisjoint(with: members) }
            if overlapping.contains(where: { $0.edited || $0.deleted }) {
                kept.formUnion(overlapping.map(\.id))
                continue
            }
            let place = Self.mostCommonPlace(run)
            let title = Self.tripTitle(place: place, run: run)
            if let match = overlapping.max(by: { $0.images.intersection(members).count < $1.images.intersection(members).count }) {
                kept.insert(match.id)
                let changed = try await AlbumRepository.replaceImages(of: match.id, with: ids, in: transaction)
                if changed || match.title != title {
                    try await updateGenerated(match.id, title: title, place: place, in: transaction)
                    outcome.updated += 1
                }
                if let index = albums.firstIndex(where: { $0.id == match.id }) { albums[index].images = members }
            } else {
                let id = UUID()
                try await AlbumRepository.insert(
                    id: id, owner: owner, kind: .trip, title: title, description: "", sortOrder: .takenAscending, cover: nil,
                    generationKey: nil, place: place, in: transaction)
                _ = try await AlbumRepository.add(ids, to: id, in: transaction)
                kept.insert(id)
                outcome.created += 1
            }
        }
        // Generated trips that no run matches any more (photos trashed or re-dated).
        let stale = albums.filter { !$0.edited && !$0.deleted && !kept.contains($0.id) }.map(\.id)
        if !stale.isEmpty { try await transaction.execute("DELETE FROM albums WHERE id = ANY(\(stale)) AND owner_id = \(owner)") }
    }

    /// One album per city (per country for photos with a country but no city).
    private func generateLocations(
        owner: UUID, photos: [GeneratedPhoto], outcome: inout GenerationOutcome, in transaction: Transaction
    ) async throws {
        var groups: [String: (place: Place, ids: [UUID])] = [:]
        for photo in photos where !photo.place.isUnknown {
            var place = photo.place
            if place.city.isEmpty { place.region = "" }
            let key = [place.countryCode, place.region, place.city].joined(separator: "|")
            groups[key, default: (place, [])].ids.append(photo.id)
        }
        let albums = Dictionary(
            try await existing(owner: owner, kind: .location, in: transaction).compactMap { album in album.key.map { ($0, album) } },
            uniquingKeysWith: { first, _ in first })
        for key in groups.keys.sorted() {
            guard let (place, ids) = groups[key] else { continue }
            let title = place.label
            if let album = albums[key] {
                if album.edited || album.deleted { continue }
                let changed = try await AlbumRepository.replaceImages(of: album.id, with: ids, in: transaction)
                if changed || album.title != title {
                    try await updateGenerated(album.id, title: title, place: place, in: transaction)
                    outcome.updated += 1
                }
            } else {
                let id = UUID()
                try await AlbumRepository.insert(
                    id: id, owner: owner, kind: .location, title: title, description: "", sortOrder: .takenDescending, cover: nil,
                    generationKey: key, place: place, in: transaction)
                _ = try await AlbumRepository.add(ids, to: id, in: transaction)
                outcome.created += 1
            }
        }
        let stale = albums.values.filter { !$0.edited && !$0.deleted && groups[$0.key ?? ""] == nil }.map(\.id)
        if !stale.isEmpty { try await transaction.execute("DELETE FROM albums WHERE id = ANY(\(stale)) AND owner_id = \(owner)") }
    }

    private func updateGenerated(_ id: UUID, title: String, place: Place, in transaction: Transaction) async throws {
        try await transaction.execute("""
            UPDATE albums SET title = \(title), place_city = \(place.city), place_region = \(place.region),
                place_country_code = \(place.countryCode), place_country = \(place.country), updated_at = now()
            WHERE id = \(id) AND NOT edited_by_user
            """)
    }

    /// The place most photos of a run were taken at (city level; ties go to the earliest).
    static func mostCommonPlace(_ run: [GeneratedPhoto]) -> Place {
        var counts: [Place: Int] = [:]
        var order: [Place] = []
        for photo in run where !photo.place.isUnknown {
            if counts[photo.place] == nil { order.append(photo.place) }
            counts[photo.place, default: 0] += 1
        }
        return order.max { (counts[$0] ?? 0) < (counts[$1] ?? 0) } ?? Place()
    }

    /// "Paris, 14–18 Jul 2023"; "Trip, …" where no photo has a place.
    static func tripTitle(place: Place, run: [GeneratedPhoto]) -> String {
        let name = place.city.isEmpty ? (place.country.isEmpty ? "Trip" : place.country) : place.city
        let times = run.compactMap(\.localTime)
        guard let first = times.min(), let last = times.max() else { return name }
        return "\(name), \(dateRange(first, last))"
    }

    /// "14 Jul 2023", "14–18 Jul 2023", "28 Jul – 2 Aug 2023", "30 Dec 2023 – 2 Jan 2024" (UTC fields of local times).
    static func dateRange(_ start: Date, _ end: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let a = calendar.dateComponents([.year, .month, .day], from: start)
        let b = calendar.dateComponents([.year, .month, .day], from: end)
        let (y1, m1, d1) = (a.year ?? 0, a.month ?? 1, a.day ?? 1)
        let (y2, m2, d2) = (b.year ?? 0, b.month ?? 1, b.day ?? 1)
        if (y1, m1, d1) == (y2, m2, d2) { return "\(d1) \(months[m1 - 1]) \(y1)" }
        if (y1, m1) == (y2, m2) { return "\(d1)–\(d2) \(months[m1 - 1]) \(y1)" }
        if y1 == y2 { return "\(d1) \(months[m1 - 1]) – \(d2) \(months[m2 - 1]) \(y1)" }
        return "\(d1) \(months[m1 - 1]) \(y1) – \(d2) \(months[m2 - 1]) \(y2)"
    }
}
