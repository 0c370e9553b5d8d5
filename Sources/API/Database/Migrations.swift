/// Every schema migration, in order. Add new ones at the end with the next number.
public enum Migrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "accounts", sql: accounts),
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
}
