import Foundation
import Logging
import PostgresNIO

/// The PeopleService's work: listing, editing, merging people and moving faces, each edit in one
/// transaction under the owner's people lock (so clustering never interleaves with it), with
/// the person albums brought up to date in the same transaction.
///
/// Everything is owner-scoped: another user's person or face answers NOT_FOUND, like an unknown.
public struct PeopleLibrary: Sendable {
    let database: Database
    let settings: ClusteringSettings
    let logger: Logger
    static let maximumNameLength = 100
    static let maximumMergeSources = 100

    public init(database: Database, settings: ClusteringSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    // MARK: - Reading

    func list(owner: UUID, includeHidden: Bool, namedOnly: Bool, pageSize: Int32, pageToken: String) async throws -> ([Person], String) {
        let size = try PageToken.pageSize(pageSize)
        let scope = "people:\(owner.lowercased):\(includeHidden):\(namedOnly)"
        let offset = try PageToken.offset(pageToken, scope: scope)
        let people = try await database.rows("""
            \(unescaped: Person.select)
            WHERE p.owner_id = \(owner) AND (\(includeHidden) OR NOT p.hidden) AND (NOT \(namedOnly) OR p.name <> '')
              AND s.face_count > 0
            ORDER BY s.photo_count DESC, p.name = '', p.name, p.id
            OFFSET \(Int64(offset)) LIMIT \(Int64(size + 1))
            """) { try Person(row: $0) }
        let next = people.count > size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        return (Array(people.prefix(size)), next)
    }

    func person(owner: UUID, id: String) async throws -> Person {
        let id = try Self.parseID(id, field: "person_id")
        return try await find(owner: owner, id: id, in: nil)
    }

    private func find(owner: UUID, id: UUID, in transaction: Transaction?) async throws -> Person {
        let query: PostgresQuery = "\(unescaped: Person.select) WHERE p.id = \(id) AND p.owner_id = \(owner)"
        let found: Person?
        if let transaction {
            found = try await transaction.row(query) { try Person(row: $0) }
        } else {
            found = try await database.row(query) { try Person(row: $0) }
        }
        guard let found else { throw APIError.notFound("Person \(id.lowercased)") }
        return found
    }

    /// Images showing the person, newest capture first, each with the person's faces in it.
    func images(owner: UUID, personID: String, pageSize: Int32, pageToken: String) async throws -> ([(ImageRecord, [FaceRecord])], String) {
        let person = try await self.person(owner: owner, id: personID)
        let size = try PageToken.pageSize(pageSize)
        let scope = "person-images:\(person.id.lowercased)"
        let offset = try PageToken.offset(pageToken, scope: scope)
        let ids = try await database.rows("""
            SELECT i.id FROM images i
            WHERE i.owner_id = \(owner) AND i.deleted_at IS NULL
              AND EXISTS (SELECT 1 FROM faces f WHERE f.image_id = i.id AND f.person_id = \(person.id))
            ORDER BY coalesce(i.taken_at, i.uploaded_at) DESC, i.id DESC
            OFFSET \(Int64(offset)) LIMIT \(Int64(size + 1))
            """) { try $0.decode(UUID.self) }
        let page = Array(ids.prefix(size))
        let records = Dictionary(
            try await ImageRepository(database: database).find(owner: owner, ids: page).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let faces = Dictionary(grouping: try await database.rows("""
            SELECT \(unescaped: FaceRecord.columns) FROM faces f
            WHERE f.person_id = \(person.id) AND f.image_id = ANY(\(page))
            ORDER BY f.image_id, f.box_x, f.id
            """) { try FaceRecord(row: $0) }, by: \.imageID)
        let next = ids.count > size ? PageToken.encode(scope: scope, values: [String(offset + size)]) : ""
        return (page.compactMap { id in records[id].map { ($0, faces[id] ?? []) } }, next)
    }

    // MARK: - Editing

    struct PersonEdit {
        var name: String?
        var hidden: Bool?
        var birthDate: Person.BirthDate?
        var clearBirthDate = false
        /// Empty: back to the automatic cover.
        var coverFaceID: String?
    }

    func update(owner: UUID, id: String, _ edit: PersonEdit) async throws -> Person {
        let id = try Self.parseID(id, field: "person_id")
        let name = try edit.name.map(Self.validName)
        if edit.birthDate != nil, edit.clearBirthDate {
            throw APIError.invalid("clear_birth_date", "cannot be set together with birth_date")
        }
        if let date = edit.birthDate { try Self.validate(date) }
        let cover = try edit.coverFaceID.flatMap { $0.isEmpty ? nil : try Self.parseID($0, field: "cover_face_id") }
        return try await database.transaction { transaction in
            try await FaceClusterer.lock(owner: owner, in: transaction)
            _ = try await find(owner: owner, id: id, in: transaction)
            if let cover {
                let belongs = try await transaction.row(
                    "SELECT 1 FROM faces WHERE id = \(cover) AND person_id = \(id) AND owner_id = \(owner)", { _ in true }) ?? false
                guard belongs else { throw APIError.invalid("cover_face_id", "is not a face of this person") }
            }
            try await transaction.execute("""
                UPDATE people SET
                    name = coalesce(\(name), name),
                    hidden = coalesce(\(edit.hidden), hidden),
                    birth_year = CASE WHEN \(edit.clearBirthDate) THEN NULL ELSE coalesce(\(edit.birthDate.map { Int32($0.year) }), birth_year) END,
                    birth_month = CASE WHEN \(edit.clearBirthDate) THEN NULL ELSE coalesce(\(edit.birthDate.map { Int32($0.month) }), birth_month) END,
                    birth_day = CASE WHEN \(edit.clearBirthDate) THEN NULL ELSE coalesce(\(edit.birthDate.map { Int32($0.day) }), birth_day) END,
                    cover_face_id = CASE WHEN \(edit.coverFaceID != nil) THEN \(cover) ELSE cover_face_id END,
                    edited_by_user = true, updated_at = now()
                WHERE id = \(id)
                """)
            try await PersonAlbums.sync(owner: owner, in: transaction)
            return try await find(owner: owner, id: id, in: transaction)
        }
    }

    func merge(owner: UUID, target: String, sources: [String]) async throws -> (Person, Int) {
        let target = try Self.parseID(target, field: "target_person_id")
        guard !sources.isEmpty else { throw APIError.invalid("source_person_ids", "is empty; name the people to merge into the target") }
        guard sources.count <= Self.maximumMergeSources else {
            throw APIError.invalid("source_person_ids", "holds \(sources.count) people; at most \(Self.maximumMergeSources) can be merged at once")
        }
        var sourceIDs: [UUID] = []
        for text in sources {
            let id = try Self.parseID(text, field: "source_person_ids")
            guard id != target else { throw APIError.invalid("source_person_ids", "contains the target; a person cannot be merged into themselves") }
            if !sourceIDs.contains(id) { sourceIDs.append(id) }
        }
        let sources = sourceIDs
        return try await database.transaction { transaction in
            try await FaceClusterer.lock(owner: owner, in: transaction)
            let known = try await transaction.rows("""
                SELECT id, name FROM people WHERE owner_id = \(owner) AND id = ANY(\([target] + sources))
                """) { try $0.decode((UUID, String).self) }
            let names = Dictionary(known, uniquingKeysWith: { a, _ in a })
            for id in [target] + sources where names[id] == nil { throw APIError.notFound("Person \(id.lowercased)") }
            let moved = try await transaction.rows(
                "UPDATE faces SET person_id = \(target) WHERE person_id = ANY(\(sources)) RETURNING id") { try $0.decode(UUID.self) }.count
            let inherited = names[target]!.isEmpty ? sources.lazy.compactMap { names[$0].flatMap { $0.isEmpty ? nil : $0 } }.first : nil
            try await transaction.execute("""
                UPDATE people SET name = coalesce(\(inherited), name), edited_by_user = true, updated_at = now() WHERE id = \(target)
                """)
            try await transaction.execute("DELETE FROM people WHERE id = ANY(\(sources))")
            try await PersonAlbums.sync(owner: owner, in: transaction)
            return (try await find(owner: owner, id: target, in: transaction), moved)
        }
    }

    /// Where a reassigned face goes.
    enum FaceDestination {
        case person(String)
        case newPerson
        case nobody
    }

    func reassign(owner: UUID, faceID: String, to destination: FaceDestination) async throws -> (FaceRecord, Person?) {
        let face = try Self.parseID(faceID, field: "face_id")
        return try await database.transaction { transaction in
            try await FaceClusterer.lock(owner: owner, in: transaction)
            guard let previous = try await transaction.row(
                "SELECT person_id FROM faces WHERE id = \(face) AND owner_id = \(owner) FOR UPDATE", { try $0.decode(UUID?.self) })
            else { throw APIError.notFound("Face \(face.lowercased)") }
            let person: UUID?
            switch destination {
            case .person(let text):
                let id = try Self.parseID(text, field: "person_id")
                guard try await transaction.row("SELECT 1 FROM people WHERE id = \(id) AND owner_id = \(owner)", { _ in true }) ?? false else {
                    throw APIError.notFound("Person \(id.lowercased)")
                }
                person = id
            case .newPerson:
                let id = UUID()
                try await transaction.execute("INSERT INTO people (id, owner_id, edited_by_user) VALUES (\(id), \(owner), true)")
                person = id
            case .nobody:
                person = nil
            }
            try await transaction.execute("""
                UPDATE faces SET person_id = \(person), assigned_by_user = true, clustered_at = coalesce(clustered_at, now()) WHERE id = \(face)
                """)
            if let previous, previous != person {
                try await transaction.execute("""
                    DELETE FROM people p WHERE p.id = \(previous) AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = p.id)
                    """)
            }
            try await PersonAlbums.sync(owner: owner, in: transaction)
            guard let record = try await transaction.row(
                "SELECT \(unescaped: FaceRecord.columns) FROM faces f WHERE f.id = \(face)", { try FaceRecord(row: $0) })
            else { throw APIError.notFound("Face \(face.lowercased)") }
            guard let person else { return (record, nil) }
            return (record, try await find(owner: owner, id: person, in: transaction))
        }
    }

    /// Queues clustering and says how much there is to do.
    func recluster(owner: UUID, full: Bool) async throws -> (jobID: Int64, faces: Int, people: Int) {
        try await database.transaction { transaction in
            try await FaceClusterer.lock(owner: owner, in: transaction)
            let faces = try await transaction.row("""
                SELECT count(*) FROM faces f WHERE f.owner_id = \(owner) AND \(unescaped: FaceClusterer.usable("f", settings))
                  AND (\(full) OR (f.person_id IS NULL AND NOT f.assigned_by_user))
                """, { try $0.decode(Int64.self) }) ?? 0
            let people = try await transaction.row(
                "SELECT count(*) FROM people WHERE owner_id = \(owner)", { try $0.decode(Int64.self) }) ?? 0
            if !full {
                // Waiting faces are looked at again, as if new.
                try await transaction.execute("""
                    UPDATE faces SET clustered_at = NULL WHERE owner_id = \(owner) AND person_id IS NULL AND NOT assigned_by_user
                    """)
            }
            let kind = full ? Pipeline.reclusterFaces : Pipeline.clusterFaces
            try await JobQueue.enqueue(kind, imageID: nil, ownerID: owner, in: transaction)
            let job = try await transaction.row("""
                SELECT id FROM jobs WHERE owner_id = \(owner) AND kind = \(kind) AND image_id IS NULL
                  AND state IN ('queued', 'running', 'failed') ORDER BY id DESC LIMIT 1
                """, { try $0.decode(Int64.self) }) ?? 0
            return (job, Int(faces), Int(people))
        }
    }

    // MARK: - Validation

    static func parseID(_ text: String, field: String) throws -> UUID {
        guard !text.isEmpty else { throw APIError.invalid(field, "is empty") }
        guard text.count <= 64, let id = UUID(uuidString: text) else {
            throw APIError.invalid(field, "'\(text.prefix(64))' is not an id this server issued")
        }
        return id
    }

    static func validName(_ raw: String) throws -> String {
        try TextInput.line(raw, field: "name", maximum: maximumNameLength, whenEmpty: "is empty; give the person a name")
    }

    static func validate(_ date: Person.BirthDate) throws {
        guard (1...12).contains(date.month) else { throw APIError.invalid("birth_date.month", "must be 1–12") }
        guard (0...9999).contains(date.year) else { throw APIError.invalid("birth_date.year", "must be 1–9999, or 0 when unknown") }
        // Year 0 (unknown) is checked against a leap year, so 29 February stays possible.
        var components = DateComponents(calendar: Calendar(identifier: .gregorian), year: date.year == 0 ? 2000 : date.year, month: date.month)
        let days = components.calendar!.range(of: .day, in: .month, for: components.date!)?.count ?? 31
        guard (1...days).contains(date.day) else { throw APIError.invalid("birth_date.day", "must be 1–\(days) for month \(date.month)") }
        components.day = date.day
        if date.year != 0, let day = components.date, day > Date() {
            throw APIError.invalid("birth_date", "is in the future")
        }
    }
}
