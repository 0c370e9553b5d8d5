import Foundation

/// Keeps one album of kind "person" per named, visible person: created when the person is
/// named, retitled with them (unless the user retitled the album), filled with the images that
/// show them, and removed when the person is hidden, unnamed or gone. An album the user deleted
/// stays deleted (its tombstone blocks it).
enum PersonAlbums {
    static func sync(owner: UUID, in transaction: Transaction) async throws {
        try await transaction.execute("""
            INSERT INTO albums (id, owner_id, kind, title, generation_key, person_id)
            SELECT gen_random_uuid(), p.owner_id, 'person', p.name, p.id::text, p.id
            FROM people p WHERE p.owner_id = \(owner) AND p.name <> '' AND NOT p.hidden
            ON CONFLICT (owner_id, kind, generation_key) WHERE generation_key IS NOT NULL
            DO UPDATE SET title = excluded.title, updated_at = now()
            WHERE albums.deleted_at IS NULL AND NOT albums.edited_by_user AND albums.title <> excluded.title
            """)
        try await transaction.execute("""
            DELETE FROM albums a WHERE a.owner_id = \(owner) AND a.kind = 'person' AND a.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id AND p.name <> '' AND NOT p.hidden)
            """)
        try await transaction.execute("""
            DELETE FROM album_images ai USING albums a
            WHERE a.id = ai.album_id AND a.owner_id = \(owner) AND a.kind = 'person'
              AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.image_id = ai.image_id AND f.person_id = a.person_id)
            """)
        try await transaction.execute("""
            INSERT INTO album_images (album_id, image_id)
            SELECT DISTINCT a.id, f.image_id FROM albums a JOIN faces f ON f.person_id = a.person_id
            WHERE a.owner_id = \(owner) AND a.kind = 'person' AND a.deleted_at IS NULL
            ON CONFLICT DO NOTHING
            """)
    }
}
