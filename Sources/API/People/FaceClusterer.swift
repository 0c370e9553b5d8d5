import Foundation
import Logging
import PostgresNIO

/// Puts an owner's faces into people, in PostgreSQL: new faces one at a time as they arrive
/// (``clusterNew(owner:)``), or everything again (``reclusterAll(owner:)``).
///
/// What users did always wins. A face they moved (or removed) stays where they put it; the faces
/// of a person they edited (named, hid, merged into…) stay with that person; such a person is
/// never deleted by clustering. Too small or too blurry faces are never clustered. Every change
/// to one owner's people holds the owner's advisory lock, so replicas and RPCs take turns.
public struct FaceClusterer: Sendable {
    let database: Database
    let settings: ClusteringSettings
    let logger: Logger

    public init(database: Database, settings: ClusteringSettings, logger: Logger) {
        self.database = database
        self.settings = settings
        self.logger = logger
    }

    /// Takes the owner's people lock for the rest of `transaction`.
    static func lock(owner: UUID, in transaction: Transaction) async throws {
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("people:" + owner.lowercased), 0))")
    }

    /// SQL for "clustering may use face `alias`": a certain, clear enough detection, not removed
    /// from people by hand.
    static func usable(_ alias: String, _ settings: ClusteringSettings) -> String {
        """
        NOT \(alias).too_small AND NOT \(alias).too_blurry AND \(alias).detection_score >= \(settings.minDetectionScore)
            AND NOT (\(alias).assigned_by_user AND \(alias).person_id IS NULL)
        """
    }

    // MARK: - Incremental

    /// Clusters the faces the owner's clustering has not seen yet, oldest first, and returns how
    /// many it saw. Each new face, and the waiting faces near it, are decided in one transaction.
    @discardableResult
    public func clusterNew(owner: UUID) async throws -> Int {
        var seen = 0
        while true {
            let batch = try await database.rows("""
                SELECT id FROM faces WHERE owner_id = \(owner) AND clustered_at IS NULL ORDER BY created_at, id LIMIT 500
                """) { try $0.decode(UUID.self) }
            if batch.isEmpty { break }
            for face in batch {
                try await database.transaction { transaction in
                    try await Self.lock(owner: owner, in: transaction)
                    try await place(face, owner: owner, in: transaction)
                }
            }
            seen += batch.count
        }
        // Person albums follow the people; a run that saw no face changed none.
        if seen > 0 {
            try await database.transaction { transaction in
                try await Self.lock(owner: owner, in: transaction)
                try await PersonAlbums.sync(owner: owner, in: transaction)
            }
        }
        return seen
    }

    private struct Neighbour {
        var id: UUID
        var personID: UUID?
        var assignedByUser: Bool
    }

    /// Decides one new face, then the waiting faces its arrival may have changed.
    func place(_ face: UUID, owner: UUID, in transaction: Transaction) async throws {
        guard
            let (usable, person) = try await transaction.row("""
                SELECT \(unescaped: Self.usable("f", settings)) AND NOT f.assigned_by_user, f.person_id FROM faces f
                WHERE f.id = \(face) AND f.clustered_at IS NULL
                """, { try $0.decode((Bool, UUID?).self) })
        else { return }
        if usable, person == nil {
            var queue = [(face, true)]
            var visits: [UUID: Int] = [:]
            while !queue.isEmpty {
                let (next, isNew) = queue.removeFirst()
                visits[next, default: 0] += 1
                // A cascade re-decides each face a few times at most.
                if visits[next]! > 3 { continue }
                queue += try await decide(next, isNew: isNew, in: transaction).map { ($0, false) }
            }
        }
        try await transaction.execute("UPDATE faces SET clustered_at = now() WHERE id = \(face)")
    }

    /// One DBSCAN step for an unassigned face: a core face joins the person of its nearest
    /// clustered neighbour (or founds one) and takes its waiting neighbours along; another face
    /// joins the person of a core neighbour, or waits. Returns the faces to decide again.
    private func decide(_ face: UUID, isNew: Bool, in transaction: Transaction) async throws -> [UUID] {
        let still = try await transaction.row(
            "SELECT person_id IS NULL AND NOT assigned_by_user FROM faces WHERE id = \(face)", { try $0.decode(Bool.self) })
        guard still == true else { return [] }
        let neighbours = try await neighbours(of: face, in: transaction)
        let waiting = neighbours.filter { $0.personID == nil && !$0.assignedByUser }.map(\.id)
        if neighbours.count >= settings.minFaces {
            let person: UUID
            if let nearest = neighbours.first(where: { $0.personID != nil })?.personID {
                person = nearest
            } else {
                person = UUID()
                try await transaction.execute("""
                    INSERT INTO people (id, owner_id) SELECT \(person), owner_id FROM faces WHERE id = \(face)
                    """)
            }
            try await transaction.execute("""
                UPDATE faces SET person_id = \(person), clustered_at = now() WHERE id = ANY(\([face] + waiting))
                """)
            return waiting
        }
        for candidate in neighbours.filter({ $0.personID != nil }).prefix(3) where try await isCore(candidate.id, in: transaction) {
            try await transaction.execute("UPDATE faces SET person_id = \(candidate.personID), clustered_at = now() WHERE id = \(face)")
            return []
        }
        // Still waiting; but it is a new neighbour of the waiting faces near it.
        return isNew ? waiting : []
    }

    /// Usable faces of the same owner and model within reach, nearest first.
    private func neighbours(of face: UUID, in transaction: Transaction) async throws -> [Neighbour] {
        try await transaction.rows("""
            SELECT n.id, n.person_id, n.assigned_by_user
            FROM faces f JOIN faces n ON n.owner_id = f.owner_id AND n.model = f.model AND n.dim = f.dim AND n.id <> f.id
            WHERE f.id = \(face) AND \(unescaped: Self.usable("n", settings))
              AND (n.descriptor <-> f.descriptor) <= \(Double(settings.maxDistance))
            ORDER BY n.descriptor <-> f.descriptor, n.id
            LIMIT 200
            """) { row in
            let (id, person, byUser) = try row.decode((UUID, UUID?, Bool).self)
            return Neighbour(id: id, personID: person, assignedByUser: byUser)
        }
    }

    private func isCore(_ face: UUID, in transaction: Transaction) async throws -> Bool {
        let count = try await transaction.row("""
            SELECT count(*) FROM (
                SELECT 1 FROM faces f JOIN faces n ON n.owner_id = f.owner_id AND n.model = f.model AND n.dim = f.dim AND n.id <> f.id
                WHERE f.id = \(face) AND \(unescaped: Self.usable("n", settings))
                  AND (n.descriptor <-> f.descriptor) <= \(Double(settings.maxDistance))
                LIMIT \(Int32(settings.minFaces))) AS near
            """, { try $0.decode(Int64.self) }) ?? 0
        return count >= settings.minFaces
    }

    // MARK: - Everything again

    /// Outcome of a full clustering run, for logs and tests.
    public struct Summary: Sendable, Equatable {
        public var faces: Int
        public var clusters: Int
        public var peopleCreated: Int
        public var peopleDeleted: Int
    }

    /// Full DBSCAN over all of the owner's usable faces, one run per face model. Faces of edited
    /// people and faces placed by hand stay; each cluster goes to the edited person most of its
    /// pinned faces belong to, else to the automatic person holding most of its faces (one
    /// cluster per person), else to a new person. Automatic people left without faces go.
    @discardableResult
    public func reclusterAll(owner: UUID) async throws -> Summary {
        struct Loaded {
            var id: UUID
            var personID: UUID?
            var pinned: Bool
            var descriptor: [Float]
            var model: String
        }
        let faces = try await database.rows("""
            SELECT f.id, f.person_id, f.assigned_by_user OR coalesce(p.edited_by_user, false), f.descriptor::text, f.model
            FROM faces f LEFT JOIN people p ON p.id = f.person_id
            WHERE f.owner_id = \(owner) AND \(unescaped: Self.usable("f", settings))
            ORDER BY f.created_at, f.id
            """) { row in
            let (id, person, pinned, text, model) = try row.decode((UUID, UUID?, Bool, String, String).self)
            return Loaded(id: id, personID: person, pinned: pinned, descriptor: VectorText.parse(text), model: model)
        }
        var assignment: [UUID: UUID?] = [:]
        var newPeople: [UUID] = []
        var clusterCount = 0
        let clustering = FaceClustering(settings: settings)
        for model in Set(faces.map(\.model)).sorted() {
            let group = faces.filter { $0.model == model }
            let labels = await clustering.cluster(group.map(\.descriptor))
            let clusters = Dictionary(grouping: group.indices.filter { labels[$0] != nil }, by: { labels[$0]! })
            clusterCount += clusters.count
            var personOf: [Int: UUID] = [:]
            // Clusters holding pinned faces follow the person most of them belong to.
            for (label, members) in clusters {
                let pinned = members.compactMap { group[$0].pinned ? group[$0].personID : nil }
                if let person = Self.mostCommon(pinned) { personOf[label] = person }
            }
            // The rest: automatic people keep the cluster holding most of their faces.
            var votes: [(label: Int, person: UUID, count: Int)] = []
            for (label, members) in clusters where personOf[label] == nil {
                let counts = Dictionary(members.compactMap { group[$0].pinned ? nil : group[$0].personID }.map { ($0, 1) }, uniquingKeysWith: +)
                votes += counts.map { (label, $0.key, $0.value) }
            }
            var taken = Set<UUID>()
            for vote in votes.sorted(by: { ($0.count, $1.label) > ($1.count, $0.label) })
            where personOf[vote.label] == nil && !taken.contains(vote.person) {
                personOf[vote.label] = vote.person
                taken.insert(vote.person)
            }
            for label in clusters.keys.sorted() where personOf[label] == nil {
                let person = UUID()
                personOf[label] = person
                newPeople.append(person)
            }
            for (index, face) in group.enumerated() where !face.pinned {
                assignment[face.id] = labels[index].flatMap { personOf[$0] }
            }
        }
        let ids = Array(assignment.keys)
        let people = ids.map { assignment[$0]! }
        let created = newPeople
        let deleted = try await database.transaction { transaction in
            try await Self.lock(owner: owner, in: transaction)
            try await transaction.execute("""
                INSERT INTO people (id, owner_id) SELECT id, \(owner) FROM unnest(\(created)::uuid[]) AS t(id)
                """)
            // A face pinned meanwhile (moved by hand, its person edited) is left alone.
            try await transaction.execute("""
                UPDATE faces f SET person_id = nullif(u.person, '')::uuid, clustered_at = now()
                FROM unnest(\(ids)::uuid[], \(people.map { $0?.uuidString ?? "" })::text[]) AS u(id, person)
                WHERE f.id = u.id AND f.owner_id = \(owner) AND NOT f.assigned_by_user
                  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = f.person_id AND p.edited_by_user)
                """)
            try await transaction.execute("UPDATE faces SET clustered_at = now() WHERE owner_id = \(owner) AND clustered_at IS NULL")
            let deleted = try await transaction.rows("""
                DELETE FROM people p WHERE p.owner_id = \(owner) AND NOT p.edited_by_user
                  AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = p.id)
                RETURNING p.id
                """) { try $0.decode(UUID.self) }
            try await PersonAlbums.sync(owner: owner, in: transaction)
            return deleted.count
        }
        return Summary(faces: faces.count, clusters: clusterCount, peopleCreated: created.count, peopleDeleted: deleted)
    }

    private static func mostCommon(_ values: [UUID]) -> UUID? {
        let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
        return counts.max { ($0.value, $1.key.uuidString) < ($1.value, $0.key.uuidString) }?.key
    }
}
