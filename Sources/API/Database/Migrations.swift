/// Every schema migration, in order. Add new ones at the end with the next number.
public enum Migrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "accounts", sql: accounts),
        Migration(version: 2, name: "images", sql: images),
        Migration(version: 3, name: "analysis", sql: analysis),
        Migration(version: 4, name: "albums_places", sql: albumsPlaces),
        Migration(version: 5, name: "people", sql: people),
        Migration(version: 6, name: "events", sql: events),
        Migration(version: 7, name: "central_places", sql: centralPlaces),
    ]

    /// Users, sign-in sessions (refresh-token families), reset codes and rate-limit counters.
    static let accounts = """
        CREATE EXTENSION IF NOT EXISTS vector;

        CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL UNIQUE,
            name text NOT NULL,
            password_hash text NOT NULL,
            role text NOT NULL CHECK (role IN ('admin', 'photographer', 'member')),
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            last_login_at timestamptz
        );

        -- One sign-in. Its refresh tokens form a family: reusing a rotated one revokes the session.
        CREATE TABLE auth_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            revoked_reason text,
            peer text NOT NULL DEFAULT ''
        );
        CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;

        -- Refresh tokens are 256-bit random values; only their SHA-256 is stored.
        CREATE TABLE refresh_tokens (
            token_hash bytea PRIMARY KEY,
            session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            rotated_at timestamptz
        );
        CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

        -- At most one live reset code per user, stored as an Argon2id hash.
        CREATE TABLE password_reset_codes (
            user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            code_hash text NOT NULL,
            expires_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        -- Fixed-window counters shared by every API replica.
        CREATE TABLE rate_limits (
            key text PRIMARY KEY,
            window_start timestamptz NOT NULL,
            hits integer NOT NULL
        );
        """

    /// Data keys, images and their processing, upload sessions, the job queue, blobs awaiting
    /// deletion and the activity log.
    static let images = """
        -- Each user's data keys, wrapped by a master key version (DESIGN §3).
        CREATE TABLE data_keys (
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            version integer NOT NULL,
            wrapped_key bytea NOT NULL,
            master_version integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            rewrapped_at timestamptz,
            PRIMARY KEY (owner_id, version)
        );
        CREATE INDEX data_keys_master_version ON data_keys (master_version);

        CREATE TABLE images (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            file_name text NOT NULL,
            format text NOT NULL,
            byte_size bigint NOT NULL,
            sha256 bytea NOT NULL,
            width integer NOT NULL,
            height integer NOT NULL,
            orientation integer NOT NULL DEFAULT 1,
            -- Capture time as shown: the owner's override when set, else the file's.
            taken_at timestamptz,
            taken_at_offset_minutes integer,
            taken_at_overridden boolean NOT NULL DEFAULT false,
            -- The file's own capture time, kept so an override can be dropped again.
            file_taken_at timestamptz,
            file_taken_at_offset_minutes integer,
            uploaded_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            has_exif boolean NOT NULL DEFAULT false,
            camera_make text NOT NULL DEFAULT '',
            camera_model text NOT NULL DEFAULT '',
            lens text NOT NULL DEFAULT '',
            f_number double precision NOT NULL DEFAULT 0,
            exposure_time double precision NOT NULL DEFAULT 0,
            iso integer NOT NULL DEFAULT 0,
            focal_length double precision NOT NULL DEFAULT 0,
            latitude double precision,
            longitude double precision,
            altitude double precision,
            caption text NOT NULL DEFAULT '',
            caption_by_owner boolean NOT NULL DEFAULT false,
            description text NOT NULL DEFAULT '',
            event_id bigint,
            face_count integer NOT NULL DEFAULT 0,
            deleted_at timestamptz,
            -- Blob keys and the data key version that sealed them.
            data_key_version integer NOT NULL,
            original_key text NOT NULL,
            preview_key text,
            preview_size bigint,
            preview_width integer,
            preview_height integer,
            thumbnail_key text,
            thumbnail_size bigint,
            thumbnail_width integer,
            thumbnail_height integer,
            -- Per-owner de-duplication: the same bytes are stored once per owner.
            UNIQUE (owner_id, sha256)
        );
        -- Time-ordered listings: capture time, else upload time, newest first.
        CREATE INDEX images_owner_time ON images (owner_id, (coalesce(taken_at, uploaded_at)) DESC, id DESC);
        CREATE INDEX images_owner_uploaded ON images (owner_id, uploaded_at DESC, id DESC);
        CREATE INDEX images_trash ON images (deleted_at) WHERE deleted_at IS NOT NULL;

        CREATE TABLE image_tags (
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            name text NOT NULL,
            source text NOT NULL CHECK (source IN ('ai', 'metadata', 'user')),
            score real NOT NULL DEFAULT 1,
            PRIMARY KEY (image_id, name)
        );
        CREATE INDEX image_tags_name ON image_tags (name);
        -- AI tags the owner removed; analysis does not bring them back.
        CREATE TABLE image_suppressed_tags (
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            name text NOT NULL,
            PRIMARY KEY (image_id, name)
        );

        -- Where each processing stage of each image stands.
        CREATE TABLE image_stages (
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            stage text NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'skipped')),
            error text NOT NULL DEFAULT '',
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (image_id, stage)
        );

        -- Resumable uploads. Bytes arrive as parts, each an encrypted blob recorded once durable.
        CREATE TABLE upload_sessions (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            file_name text NOT NULL,
            total_size bigint NOT NULL,
            expected_sha256 bytea,
            event_id bigint,
            album_id text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            finished_at timestamptz,
            image_id uuid REFERENCES images (id) ON DELETE SET NULL,
            duplicate boolean NOT NULL DEFAULT false
        );
        CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at) WHERE finished_at IS NULL;
        CREATE TABLE upload_session_parts (
            session_id uuid NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
            byte_offset bigint NOT NULL,
            length bigint NOT NULL,
            blob_key text NOT NULL,
            data_key_version integer NOT NULL,
            PRIMARY KEY (session_id, byte_offset)
        );

        -- The job queue every replica shares (DESIGN §4).
        CREATE TABLE jobs (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            image_id uuid REFERENCES images (id) ON DELETE CASCADE,
            owner_id uuid REFERENCES users (id) ON DELETE CASCADE,
            state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            max_attempts integer NOT NULL DEFAULT 5,
            last_error text NOT NULL DEFAULT '',
            run_after timestamptz NOT NULL DEFAULT now(),
            leased_until timestamptz,
            leased_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX jobs_runnable ON jobs (run_after, id) WHERE state IN ('queued', 'failed');
        CREATE INDEX jobs_leases ON jobs (leased_until) WHERE state = 'running';
        CREATE INDEX jobs_state_kind ON jobs (state, kind, id);
        -- At most one live job of a kind per image.
        CREATE UNIQUE INDEX jobs_live_per_image ON jobs (image_id, kind) WHERE state IN ('queued', 'running', 'failed');

        -- Blobs to delete. A blob is registered here before it is written and unregistered in the
        -- transaction that makes a row point at it, so a crash in between leaves no orphan: the
        -- collector deletes what is still registered once not_before has passed.
        CREATE TABLE blob_garbage (
            blob_key text PRIMARY KEY,
            not_before timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX blob_garbage_due ON blob_garbage (not_before);

        -- What happened to whose images, newest first (the dashboard reads it).
        CREATE TABLE activity (
            id bigserial PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            kind text NOT NULL,
            image_id uuid,
            detail jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX activity_owner ON activity (owner_id, id DESC);
        """

    /// What the AI pipeline stores (DESIGN §4): place names, captions' models, embeddings with
    /// their model, the full-text document, faces, perceptual hashes and duplicate sets.
    static let analysis = """
        -- Reverse-geocoded place ('' while unknown), written by the place step of the metadata stage.
        ALTER TABLE images
            ADD COLUMN place_city text NOT NULL DEFAULT '',
            ADD COLUMN place_region text NOT NULL DEFAULT '',
            ADD COLUMN place_country_code text NOT NULL DEFAULT '',
            ADD COLUMN place_country text NOT NULL DEFAULT '',
            ADD COLUMN caption_model text NOT NULL DEFAULT '',
            -- 64-bit difference hash of the preview, for duplicates when no image embedding exists.
            ADD COLUMN perceptual_hash bigint,
            ADD COLUMN duplicate_set_id uuid,
            -- Full-text document over caption, tags, description, place and file name.
            ADD COLUMN search_document tsvector,
            ADD COLUMN text_indexed_at timestamptz;
        CREATE INDEX images_search_document ON images USING gin (search_document);
        CREATE INDEX images_duplicate_set ON images (duplicate_set_id) WHERE duplicate_set_id IS NOT NULL;
        CREATE INDEX images_owner_hash ON images (owner_id, perceptual_hash) WHERE perceptual_hash IS NOT NULL;

        -- One vector per image and kind: 'image' (CLIP image embedding) and 'text' (sentence
        -- embedding of the text document). The column has no fixed length so that any served
        -- model fits; HNSW indexes are partial per (kind, dim) on a cast to that length
        -- (VectorIndexes creates them when a new length first appears).
        CREATE TABLE image_vectors (
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('image', 'text')),
            model text NOT NULL,
            dim integer NOT NULL CHECK (dim > 0),
            embedding vector NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (image_id, kind)
        );
        CREATE INDEX image_vectors_owner ON image_vectors (owner_id, kind, model);

        -- Faces found in an image, in pixels of the orientation-corrected original. person_id is
        -- set by clustering (the people feature).
        CREATE TABLE faces (
            id uuid PRIMARY KEY,
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            box_x integer NOT NULL,
            box_y integer NOT NULL,
            box_width integer NOT NULL,
            box_height integer NOT NULL,
            -- x, y pairs: left eye, right eye, nose tip, left and right mouth corner.
            landmarks real[] NOT NULL,
            detection_score real NOT NULL,
            blur_variance real NOT NULL,
            too_small boolean NOT NULL,
            too_blurry boolean NOT NULL,
            model text NOT NULL,
            dim integer NOT NULL,
            descriptor vector NOT NULL,
            person_id uuid,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX faces_image ON faces (image_id);
        CREATE INDEX faces_owner ON faces (owner_id, model);

        -- Set when a job is asked for again while it runs (an edit during text indexing, say):
        -- instead of finishing, it goes back to the queue, so the newest data is always indexed.
        ALTER TABLE jobs ADD COLUMN run_again boolean NOT NULL DEFAULT false;

        -- The model last seen serving each task; when it changes, stored vectors are re-made.
        CREATE TABLE served_models (
            task text PRIMARY KEY,
            model text NOT NULL,
            dim integer NOT NULL,
            seen_at timestamptz NOT NULL DEFAULT now()
        );
        """

    /// Albums (manual and generated, with the tombstones of deleted generated ones), the
    /// GeoNames places and country names reverse geocoding reads, and when each image's place
    /// was looked up.
    static let albumsPlaces = """
        -- GeoNames cities1000 (PlaceDirectory loads it at first start). x, y, z: the unit vector of
        -- the position, so that "within r km" is a cube of side 2·chord(r) around the query point
        -- (no special case at the poles or the antimeridian); the btree on z narrows to a band.
        CREATE TABLE places (
            id integer PRIMARY KEY,
            name text NOT NULL,
            admin1 text NOT NULL,
            country_code text NOT NULL,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            x double precision NOT NULL,
            y double precision NOT NULL,
            z double precision NOT NULL
        );
        CREATE INDEX places_z ON places (z, x, y);
        CREATE TABLE countries (
            code text PRIMARY KEY,
            name text NOT NULL
        );
        -- One row once places and countries are loaded whole (the load is one transaction).
        CREATE TABLE places_source (
            source text PRIMARY KEY,
            row_count integer NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now()
        );

        -- The nearest place within max_km of a position, exactly: every place within the cube
        -- around the point is a candidate, ordered by chord length (monotonic in great-circle
        -- distance). No row for positions out of range or NaN, nor at sea.
        CREATE FUNCTION nearest_place(lat double precision, lon double precision, max_km double precision DEFAULT 25)
        RETURNS TABLE (city text, region text, country_code text, country text, distance_km double precision)
        LANGUAGE plpgsql STABLE AS $$
        DECLARE
            qx double precision;
            qy double precision;
            qz double precision;
            c double precision;
        BEGIN
            IF lat IS NULL OR lon IS NULL OR NOT (lat BETWEEN -90 AND 90) OR NOT (lon BETWEEN -180 AND 180) THEN
                RETURN;
            END IF;
            qx := cos(radians(lat)) * cos(radians(lon));
            qy := cos(radians(lat)) * sin(radians(lon));
            qz := sin(radians(lat));
            c := 2 * sin(max_km / (2 * 6371.0088));
            RETURN QUERY
                SELECT p.name, p.admin1, p.country_code, coalesce(k.name, p.country_code),
                    2 * 6371.0088 * asin(least(1.0, sqrt((p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2) / 2))
                FROM places p LEFT JOIN countries k ON k.code = p.country_code
                WHERE p.z BETWEEN qz - c AND qz + c AND p.x BETWEEN qx - c AND qx + c AND p.y BETWEEN qy - c AND qy + c
                    AND (p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2 <= c ^ 2
                ORDER BY (p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2, p.id
                LIMIT 1;
        END
        $$;

        -- When the place of an image's GPS position was looked up (found or not); NULL while
        -- pending, e.g. for images stored before the places were loaded.
        ALTER TABLE images ADD COLUMN place_resolved_at timestamptz;
        CREATE INDEX images_place_pending ON images (uploaded_at) WHERE latitude IS NOT NULL AND place_resolved_at IS NULL;
        CREATE INDEX images_owner_place ON images (owner_id, place_country_code, place_region, place_city) WHERE deleted_at IS NULL;

        -- Albums. Generated ones carry the key that regeneration finds them by; a deleted
        -- generated album stays as a tombstone (deleted_at) so it is not generated again.
        CREATE TABLE albums (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('manual', 'trip', 'location', 'person')),
            title text NOT NULL,
            description text NOT NULL DEFAULT '',
            sort_order text NOT NULL DEFAULT 'taken_asc' CHECK (sort_order IN ('taken_asc', 'taken_desc', 'added_asc', 'added_desc')),
            cover_image_id uuid REFERENCES images (id) ON DELETE SET NULL,
            generation_key text,
            place_city text NOT NULL DEFAULT '',
            place_region text NOT NULL DEFAULT '',
            place_country_code text NOT NULL DEFAULT '',
            place_country text NOT NULL DEFAULT '',
            person_id uuid,
            edited_by_user boolean NOT NULL DEFAULT false,
            deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX albums_owner ON albums (owner_id, created_at DESC) WHERE deleted_at IS NULL;
        CREATE UNIQUE INDEX albums_generated ON albums (owner_id, kind, generation_key) WHERE generation_key IS NOT NULL;
        CREATE TABLE album_images (
            album_id uuid NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
            image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
            added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (album_id, image_id)
        );
        CREATE INDEX album_images_image ON album_images (image_id);
        """

    /// People (clusters of faces) with what users edit on them, the clustering state of each
    /// face, and at most one live owner-wide job of a kind per owner (clustering).
    static let people = """
        CREATE TABLE people (
            id uuid PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            name text NOT NULL DEFAULT '',
            hidden boolean NOT NULL DEFAULT false,
            -- Year 0 when only the day is known.
            birth_year integer,
            birth_month integer,
            birth_day integer,
            -- Chosen by the user; NULL means the clearest large face.
            cover_face_id uuid,
            -- Named, hidden, merged into or otherwise edited: its faces stay with it when
            -- everything is clustered again, and clustering never deletes it.
            edited_by_user boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX people_owner ON people (owner_id, created_at);

        ALTER TABLE faces
            -- The user put the face on its person, or on none (person_id NULL): clustering
            -- never moves it.
            ADD COLUMN assigned_by_user boolean NOT NULL DEFAULT false,
            -- When clustering last considered the face; NULL for faces it has not seen.
            ADD COLUMN clustered_at timestamptz,
            ADD CONSTRAINT faces_person FOREIGN KEY (person_id) REFERENCES people (id) ON DELETE SET NULL;
        ALTER TABLE people ADD CONSTRAINT people_cover_face FOREIGN KEY (cover_face_id) REFERENCES faces (id) ON DELETE SET NULL;
        CREATE INDEX faces_person ON faces (person_id) WHERE person_id IS NOT NULL;
        CREATE INDEX faces_unseen ON faces (owner_id, created_at) WHERE clustered_at IS NULL;

        -- Owner-wide jobs (no image): at most one live job of a kind per owner.
        CREATE UNIQUE INDEX jobs_live_per_owner ON jobs (owner_id, kind)
            WHERE image_id IS NULL AND owner_id IS NOT NULL AND state IN ('queued', 'running', 'failed');
        """

    /// Reverse geocoding names a spot in a big city after the city rather than after a suburb
    /// whose centre happens to be nearer (the Eiffel Tower is 3.4 km from Neuilly-sur-Seine's
    /// point, 4.0 km from Paris's). GeoNames cities1000 as shipped has no population, so a
    /// place that gives its name to its region (Paris in Paris, Madrid in Provincia de Madrid,
    /// London in Greater London) counts as *central*, and a central place counts half as far.
    /// The loader works it out from both admin levels of the file; places loaded before are
    /// loaded again at this start.
    static let centralPlaces = """
        ALTER TABLE places ADD COLUMN central boolean NOT NULL DEFAULT false;
        TRUNCATE places;
        DELETE FROM places_source;

        CREATE OR REPLACE FUNCTION nearest_place(lat double precision, lon double precision, max_km double precision DEFAULT 25)
        RETURNS TABLE (city text, region text, country_code text, country text, distance_km double precision)
        LANGUAGE plpgsql STABLE AS $$
        DECLARE
            qx double precision;
            qy double precision;
            qz double precision;
            c double precision;
        BEGIN
            IF lat IS NULL OR lon IS NULL OR NOT (lat BETWEEN -90 AND 90) OR NOT (lon BETWEEN -180 AND 180) THEN
                RETURN;
            END IF;
            qx := cos(radians(lat)) * cos(radians(lon));
            qy := cos(radians(lat)) * sin(radians(lon));
            qz := sin(radians(lat));
            c := 2 * sin(max_km / (2 * 6371.0088));
            RETURN QUERY
                SELECT p.name, p.admin1, p.country_code, coalesce(k.name, p.country_code),
                    2 * 6371.0088 * asin(least(1.0, sqrt((p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2) / 2))
                FROM places p LEFT JOIN countries k ON k.code = p.country_code
                WHERE p.z BETWEEN qz - c AND qz + c AND p.x BETWEEN qx - c AND qx + c AND p.y BETWEEN qy - c AND qy + c
                    AND (p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2 <= c ^ 2
                -- Half the distance is a quarter of the squared chord.
                ORDER BY ((p.x - qx) ^ 2 + (p.y - qy) ^ 2 + (p.z - qz) ^ 2) * CASE WHEN p.central THEN 0.25 ELSE 1 END, p.id
                LIMIT 1;
        END
        $$;
        """

    /// Events with numeric ids, the images and upload sessions filed under them (the columns
    /// exist since version 2; now they reference an event), and the share links guests use.
    static let events = """
        CREATE TABLE events (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            title text NOT NULL,
            description text NOT NULL DEFAULT '',
            location text NOT NULL DEFAULT '',
            starts_at timestamptz,
            ends_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at >= starts_at)
        );
        -- Listings: newest start first, the creation time standing in for an unset start.
        CREATE INDEX events_owner_start ON events (owner_id, (coalesce(starts_at, created_at)) DESC, id DESC);
        CREATE INDEX events_start ON events ((coalesce(starts_at, created_at)) DESC, id DESC);

        -- No event existed before this version, so no image or session can name one yet.
        UPDATE images SET event_id = NULL WHERE event_id IS NOT NULL;
        UPDATE upload_sessions SET event_id = NULL WHERE event_id IS NOT NULL;
        ALTER TABLE images ADD CONSTRAINT images_event_fk FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE SET NULL;
        ALTER TABLE upload_sessions ADD CONSTRAINT upload_sessions_event_fk
            FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE SET NULL;
        -- A shared event's images, oldest capture first (the guest view).
        CREATE INDEX images_event_time ON images (event_id, (coalesce(taken_at, uploaded_at)), id) WHERE event_id IS NOT NULL;

        -- Guest links. The token is 256 random bits; only its SHA-256 is stored, and the optional
        -- password only as an Argon2id PHC string.
        CREATE TABLE share_links (
            id uuid PRIMARY KEY,
            event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
            token_hash bytea NOT NULL UNIQUE,
            password_hash text,
            allow_download boolean NOT NULL DEFAULT false,
            expires_at timestamptz,
            revoked_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            last_used_at timestamptz
        );
        CREATE INDEX share_links_event ON share_links (event_id, created_at DESC, id DESC);
        """
}
