import Foundation

/// Keeps one album of kind "person" per named, visible person: created when the person is
/// named, retitled with them (unless the user retitled the album), filled with the images that
/// show them, and removed when the person is hidden, unnamed or gone. An album the user deleted
/// stays deleted (its tombstone blocks it).
enum PersonAlbums {
    /// What a sync changed: albums made, and existing albums retitled or given other images.
    struct Changes {
        var created = 0
        var updated = 0
    }

    @discardableResult
    static func sync(owner: UUID, in transaction: Transaction) async throws -> Changes {
        // xmax is 0 for a row this statement inserted, set for one it updated.
        let written = try await transaction.rows("""
            INSERT INTO albums (id, owner_id, kind, title, generation_key, person_id)
            SELECT gen_random_uuid(), p.owner_id, 'person', p.name, p.id::text, p.id
            FROM people p WHERE p.owner_id = \(owner) AND p.name <> '' AND NOT p.hidden
            ON CONFLICT (owner_id, kind, generation_key) WHERE generation_key IS NOT NULL
            DO UPDATE SET title = excluded.title, updated_at = now()
            WHERE albums.deleted_at IS NULL AND NOT albums.edited_by_user AND albums.title <> excluded.title
            RETURNING id, xmax = 0
            """) { try $0.decode((UUID, Bool).self) }
        try await transaction.execute("""
            DELETE FROM albums a WHERE a.owner_id = \(owner) AND a.kind = 'person' AND a.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id AND p.name <> '' AND NOT p.hidden)
            """)
        let removed = try await transaction.rows("""
            DELETE FROM album_images ai USING albums a
            WHERE a.id = ai.album_id AND a.owner_id = \(owner) AND a.kind = 'person'
              AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.image_id = ai.image_id AND f.person_id = a.person_id)
            RETURNING ai.album_id
            """) { try $0.decode(UUID.self) }
        let added = try await transaction.rows("""
            INSERT INTO album_images (album_id, image_id)
            SELECT DISTINCT a.id, f.image_id FROM albums a JOIN faces f ON f.person_id = a.person_id
            WHERE a.owner_id = \(owner) AND a.kind = 'person' AND a.deleted_at IS NULL
            ON CONFLICT DO NOTHING
            RETURNING album_id
            """) { try $0.decode(UUID.self) }
        let created = Set(written.filter(\.1).map(\.0))
        let touched = Set(written.filter { !$0.1 }.map(\.0)).union(removed).union(added).subtracting(created)
        return Changes(created: created.count, updated: touched.count)
    }
}
