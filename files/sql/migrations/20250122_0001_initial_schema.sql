-- =============================================================================
-- 20250122_0001_initial_schema.sql
--
-- What: the Sensa Learn base schema: extensions (safety net), the migrations_log
--       table pg_migrate keeps, 5 enum types and the 13 tables with their keys,
--       foreign keys, CHECK constraints and a COMMENT on every table and column.
-- Why:  every later migration (indexes, triggers, row-level security, functions)
--       builds on these tables; constraints live here so bad data is refused by
--       the database whatever client writes it.
--
-- Idempotent: CREATE ... IF NOT EXISTS, enum types behind guarded DO blocks,
-- COMMENT ON (replaces). Runs inside the single transaction pg_migrate wraps
-- around the file: no BEGIN/COMMIT here.
--
-- Engines: PostgreSQL 15 (Debian, RDS parity) and PostgreSQL 18 (embedded wheel,
-- which has no uuid-ossp). Keys use core gen_random_uuid(), so uuid-ossp is only
-- created when the server offers it.
--
-- Ownership: pg_migrate runs this with session_role sensa_migrator, so the
-- migrator owns every object; the application role only ever gets DML grants.
-- Rollback: 20250122_0001_rollback.sql.
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- squawk: prefer-bigint-over-int / prefer-bigint-over-smallint are waived: none of
-- those columns is an identifier or a counter that grows without bound; each is
-- bounded by a CHECK far below the type's range (minutes, pages, ratings 1..5,
-- token counts), and migrations_log must stay identical to pg_migrate's DDL.
-- squawk-ignore-file prefer-bigint-over-int, prefer-bigint-over-smallint
-- =============================================================================

-- Extensions are installed by the pg_extensions stage before any migration (it
-- needs the privileges to do so and fails with a clear message). These statements
-- are a safety net for a bare database and a no-op when the extension exists.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $$
BEGIN
    -- uuid-ossp is optional (not shipped with the embedded engine); nothing in the
    -- schema depends on it: keys use core gen_random_uuid().
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'uuid-ossp')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'uuid-ossp') THEN
        CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
    END IF;
END
$$;

-- -----------------------------------------------------------------------------
-- migrations_log: the exact DDL of plugins/module_utils/migration_log.py
-- (CREATE_TABLE, CREATE_INDEX, CREATE_STATE_VIEW with schema public, table
-- migrations_log, index migrations_log_version_idx, view migrations_state).
-- pg_migrate creates it before running this file; keep the text identical
-- (tests/integration/schema compares the two column for column).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.migrations_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           uuid        NOT NULL,
    version          text        NOT NULL CHECK (version ~ '^[0-9]{8}_[0-9]{4}$'),
    filename         text        NOT NULL CHECK (filename <> ''),
    description      text        NOT NULL DEFAULT '',
    kind             text        NOT NULL CHECK (kind IN ('migrate', 'rollback', 'fix', 'baseline', 'repair')),
    checksum         text        CHECK (checksum ~ '^sha256:v1:[0-9a-f]{64}$'),
    status           text        NOT NULL CHECK (status IN ('running', 'success', 'failed')),
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    execution_ms     integer     CHECK (execution_ms >= 0),
    db_user          text        NOT NULL DEFAULT current_user,
    controller_user  text,
    controller_host  text,
    statements_done  integer     CHECK (statements_done >= 0),
    error_sqlstate   text,
    error_message    text,
    error_statement  text
);

-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS migrations_log_version_idx ON public.migrations_log (version, id);

CREATE OR REPLACE VIEW public.migrations_state AS
SELECT DISTINCT ON (version)
       version, filename, kind AS last_kind, checksum, finished_at AS last_success_at,
       (kind <> 'rollback') AS applied
  FROM public.migrations_log
 WHERE status = 'success'
 ORDER BY version, id DESC;

COMMENT ON TABLE public.migrations_log IS
    'Append-only record of every migration attempt made by sensa.infra.pg_migrate (one row per attempt).';
COMMENT ON COLUMN public.migrations_log.id IS 'Attempt number, increasing in execution order.';
COMMENT ON COLUMN public.migrations_log.run_id IS 'Identifier shared by every attempt of one pg_migrate run.';
COMMENT ON COLUMN public.migrations_log.version IS 'Migration version YYYYMMDD_NNNN.';
COMMENT ON COLUMN public.migrations_log.filename IS 'File that ran (migration, rollback or fix).';
COMMENT ON COLUMN public.migrations_log.description IS 'Description taken from the migration file name.';
COMMENT ON COLUMN public.migrations_log.kind IS 'migrate, rollback, fix, baseline or repair.';
COMMENT ON COLUMN public.migrations_log.checksum IS 'sha256:v1:<hex> checksum of the file that ran.';
COMMENT ON COLUMN public.migrations_log.status IS 'running, success or failed.';
COMMENT ON COLUMN public.migrations_log.started_at IS 'When the attempt started.';
COMMENT ON COLUMN public.migrations_log.finished_at IS 'When the attempt ended (NULL while running).';
COMMENT ON COLUMN public.migrations_log.execution_ms IS 'Duration of the attempt in milliseconds.';
COMMENT ON COLUMN public.migrations_log.db_user IS 'Database role that ran the file.';
COMMENT ON COLUMN public.migrations_log.controller_user IS 'OS user on the Ansible controller.';
COMMENT ON COLUMN public.migrations_log.controller_host IS 'Host name of the Ansible controller.';
COMMENT ON COLUMN public.migrations_log.statements_done IS 'Statements completed (no-transaction files).';
COMMENT ON COLUMN public.migrations_log.error_sqlstate IS 'SQLSTATE of the failure, if any.';
COMMENT ON COLUMN public.migrations_log.error_message IS 'Error message of the failure, if any.';
COMMENT ON COLUMN public.migrations_log.error_statement IS 'Beginning of the failing statement, if any.';
COMMENT ON VIEW public.migrations_state IS
    'Current state per version: the newest successful attempt decides; applied is false after a rollback.';

-- -----------------------------------------------------------------------------
-- Enum types. CREATE TYPE has no IF NOT EXISTS: each is guarded by a catalog check.
-- -----------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = 'public' AND t.typname = 'user_role') THEN
        CREATE TYPE public.user_role AS ENUM ('learner', 'instructor', 'admin');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = 'public' AND t.typname = 'document_status') THEN
        CREATE TYPE public.document_status AS ENUM ('uploaded', 'queued', 'processing', 'processed', 'failed');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = 'public' AND t.typname = 'relationship_type') THEN
        CREATE TYPE public.relationship_type AS ENUM
            ('related_to', 'prerequisite_of', 'part_of', 'example_of', 'contrasts_with', 'synonym_of');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = 'public' AND t.typname = 'annotation_type') THEN
        CREATE TYPE public.annotation_type AS ENUM ('highlight', 'note', 'question', 'correction', 'feedback');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = 'public' AND t.typname = 'progress_status') THEN
        CREATE TYPE public.progress_status AS ENUM ('not_started', 'in_progress', 'completed');
    END IF;
END
$$;

COMMENT ON TYPE public.user_role IS 'Application role of a user (product permissions; database access is decided by database roles).';
COMMENT ON TYPE public.document_status IS
    'Processing state of an uploaded document; valid transitions are enforced by a trigger (0003).';
COMMENT ON TYPE public.relationship_type IS 'How one keyword relates to another.';
COMMENT ON TYPE public.annotation_type IS 'Kind of feedback a learner leaves on content.';
COMMENT ON TYPE public.progress_status IS 'Progress of a learner through a course.';

-- -----------------------------------------------------------------------------
-- users: one row per Cognito identity.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.users (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    cognito_sub     text        NOT NULL,
    email           text        NOT NULL,
    display_name    text,
    role            public.user_role NOT NULL DEFAULT 'learner',
    time_zone       text        NOT NULL DEFAULT 'UTC',
    is_active       boolean     NOT NULL DEFAULT true,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_cognito_sub_key UNIQUE (cognito_sub),
    CONSTRAINT users_cognito_sub_check CHECK (btrim(cognito_sub) <> '' AND length(cognito_sub) <= 128),
    CONSTRAINT users_email_check CHECK (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT users_display_name_check CHECK (display_name IS NULL OR (btrim(display_name) <> '' AND length(display_name) <= 200)),
    CONSTRAINT users_time_zone_check CHECK (btrim(time_zone) <> '' AND length(time_zone) <= 64),
    CONSTRAINT users_updated_after_created_check CHECK (updated_at >= created_at)
);

-- Email is unique case-insensitively; an expression unique index is the constraint.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON public.users (lower(email));

COMMENT ON TABLE public.users IS 'Platform users, one per Amazon Cognito identity.';
COMMENT ON COLUMN public.users.id IS 'Primary key.';
COMMENT ON COLUMN public.users.cognito_sub IS 'Cognito user pool subject (sub claim); unique.';
COMMENT ON COLUMN public.users.email IS 'Email address; unique case-insensitively (users_email_lower_key).';
COMMENT ON COLUMN public.users.display_name IS 'Name shown in the product.';
COMMENT ON COLUMN public.users.role IS 'Product role (learner, instructor, admin).';
COMMENT ON COLUMN public.users.time_zone IS
    'IANA time zone name; streak days are counted as calendar days in this zone (UTC by default).';
COMMENT ON COLUMN public.users.is_active IS 'False once the account is disabled.';
COMMENT ON COLUMN public.users.last_login_at IS 'Last successful sign-in.';
COMMENT ON COLUMN public.users.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.users.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- user_profiles: personalisation data, one row per user (RLS-protected in 0004).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.user_profiles (
    id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id               uuid        NOT NULL,
    interests             text[]      NOT NULL DEFAULT '{}',
    learning_style        text,
    daily_goal_minutes    integer     NOT NULL DEFAULT 15,
    learning_preferences  jsonb       NOT NULL DEFAULT '{}',
    personalisation       jsonb       NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_pkey PRIMARY KEY (id),
    CONSTRAINT user_profiles_user_id_key UNIQUE (user_id),
    CONSTRAINT user_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT user_profiles_interests_count_check CHECK (cardinality(interests) <= 50),
    CONSTRAINT user_profiles_learning_style_check
        CHECK (learning_style IS NULL OR learning_style IN ('visual', 'auditory', 'reading', 'kinesthetic', 'mixed')),
    CONSTRAINT user_profiles_daily_goal_minutes_check CHECK (daily_goal_minutes BETWEEN 1 AND 1440),
    CONSTRAINT user_profiles_learning_preferences_check CHECK (jsonb_typeof(learning_preferences) = 'object'),
    CONSTRAINT user_profiles_personalisation_check CHECK (jsonb_typeof(personalisation) = 'object'),
    CONSTRAINT user_profiles_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.user_profiles IS 'Learning profile of a user; row-level security isolates it per user.';
COMMENT ON COLUMN public.user_profiles.id IS 'Primary key.';
COMMENT ON COLUMN public.user_profiles.user_id IS 'Owner (users.id); one profile per user; deleted with the user.';
COMMENT ON COLUMN public.user_profiles.interests IS
    'Interests: trimmed, lower-cased, de-duplicated, at most 50 of at most 64 characters (trigger in 0003).';
COMMENT ON COLUMN public.user_profiles.learning_style IS 'Preferred learning style, if stated.';
COMMENT ON COLUMN public.user_profiles.daily_goal_minutes IS 'Daily learning goal in minutes (1..1440).';
COMMENT ON COLUMN public.user_profiles.learning_preferences IS 'Learning preferences (JSON object).';
COMMENT ON COLUMN public.user_profiles.personalisation IS 'Personalisation settings used to generate analogies (JSON object).';
COMMENT ON COLUMN public.user_profiles.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.user_profiles.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- courses: owned by a user (RLS-protected in 0004).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.courses (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id      uuid        NOT NULL,
    title         text        NOT NULL,
    description   text,
    language      text        NOT NULL DEFAULT 'en',
    difficulty    smallint,
    is_published  boolean     NOT NULL DEFAULT false,
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT courses_pkey PRIMARY KEY (id),
    CONSTRAINT courses_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT courses_title_check CHECK (btrim(title) <> '' AND length(title) <= 300),
    CONSTRAINT courses_description_check CHECK (description IS NULL OR length(description) <= 10000),
    CONSTRAINT courses_language_check CHECK (language ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    CONSTRAINT courses_difficulty_check CHECK (difficulty IS NULL OR difficulty BETWEEN 1 AND 5),
    CONSTRAINT courses_published_check CHECK (is_published = (published_at IS NOT NULL)),
    CONSTRAINT courses_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.courses IS 'Courses, each owned by one user; row-level security isolates them per owner.';
COMMENT ON COLUMN public.courses.id IS 'Primary key.';
COMMENT ON COLUMN public.courses.owner_id IS 'Owning user (users.id); the course goes when its owner is deleted.';
COMMENT ON COLUMN public.courses.title IS 'Title (1..300 characters, not blank); trigram-searchable.';
COMMENT ON COLUMN public.courses.description IS 'Description (at most 10000 characters); trigram-searchable.';
COMMENT ON COLUMN public.courses.language IS 'Content language as a BCP 47 tag such as en or pt-BR.';
COMMENT ON COLUMN public.courses.difficulty IS 'Difficulty from 1 (introductory) to 5 (expert), if rated.';
COMMENT ON COLUMN public.courses.is_published IS 'True once published; published_at is set exactly when true.';
COMMENT ON COLUMN public.courses.published_at IS 'When the course was published.';
COMMENT ON COLUMN public.courses.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.courses.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- course_documents: files uploaded to S3 for a course, and their processing state.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.course_documents (
    id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
    course_id              uuid        NOT NULL,
    uploaded_by            uuid,
    s3_bucket              text        NOT NULL,
    s3_key                 text        NOT NULL,
    original_filename      text        NOT NULL,
    content_type           text        NOT NULL,
    size_bytes             bigint      NOT NULL,
    checksum_sha256        text,
    status                 public.document_status NOT NULL DEFAULT 'uploaded',
    page_count             integer,
    retry_count            integer     NOT NULL DEFAULT 0,
    error_message          text,
    queued_at              timestamptz,
    processing_started_at  timestamptz,
    processed_at           timestamptz,
    failed_at              timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT course_documents_pkey PRIMARY KEY (id),
    CONSTRAINT course_documents_s3_object_key UNIQUE (s3_bucket, s3_key),
    CONSTRAINT course_documents_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT course_documents_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES public.users (id) ON DELETE SET NULL,
    CONSTRAINT course_documents_s3_bucket_check CHECK (s3_bucket ~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'),
    CONSTRAINT course_documents_s3_key_check CHECK (btrim(s3_key) <> '' AND length(s3_key) <= 1024),
    CONSTRAINT course_documents_original_filename_check CHECK (btrim(original_filename) <> '' AND length(original_filename) <= 255),
    CONSTRAINT course_documents_content_type_check CHECK (content_type ~ '^[a-z]+/[a-z0-9][a-z0-9.+-]*$'),
    CONSTRAINT course_documents_size_bytes_check CHECK (size_bytes > 0 AND size_bytes <= 524288000),
    CONSTRAINT course_documents_checksum_sha256_check CHECK (checksum_sha256 IS NULL OR checksum_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT course_documents_page_count_check CHECK (page_count IS NULL OR page_count BETWEEN 1 AND 100000),
    CONSTRAINT course_documents_retry_count_check CHECK (retry_count BETWEEN 0 AND 100),
    CONSTRAINT course_documents_failed_has_error_check CHECK (status <> 'failed' OR error_message IS NOT NULL),
    CONSTRAINT course_documents_processed_at_check CHECK (status <> 'processed' OR processed_at IS NOT NULL),
    CONSTRAINT course_documents_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.course_documents IS 'Documents uploaded to S3 for a course and their processing state.';
COMMENT ON COLUMN public.course_documents.id IS 'Primary key.';
COMMENT ON COLUMN public.course_documents.course_id IS 'Course (courses.id); documents go with their course.';
COMMENT ON COLUMN public.course_documents.uploaded_by IS 'User who uploaded it; kept as NULL when that user is deleted.';
COMMENT ON COLUMN public.course_documents.s3_bucket IS 'S3 bucket holding the object.';
COMMENT ON COLUMN public.course_documents.s3_key IS 'S3 object key; (bucket, key) is unique.';
COMMENT ON COLUMN public.course_documents.original_filename IS 'File name as uploaded.';
COMMENT ON COLUMN public.course_documents.content_type IS 'MIME type such as application/pdf.';
COMMENT ON COLUMN public.course_documents.size_bytes IS 'Object size in bytes (1 byte .. 500 MiB).';
COMMENT ON COLUMN public.course_documents.checksum_sha256 IS 'Lower-case hex SHA-256 of the object, when known.';
COMMENT ON COLUMN public.course_documents.status IS
    'uploaded -> queued -> processing -> processed | failed; failed or processed -> queued to retry (trigger in 0003).';
COMMENT ON COLUMN public.course_documents.page_count IS 'Number of pages, when the format has pages.';
COMMENT ON COLUMN public.course_documents.retry_count IS 'Times the document was queued again after failing.';
COMMENT ON COLUMN public.course_documents.error_message IS 'Why processing failed; required while status is failed.';
COMMENT ON COLUMN public.course_documents.queued_at IS 'When it last entered queued (set by trigger).';
COMMENT ON COLUMN public.course_documents.processing_started_at IS 'When it last entered processing (set by trigger).';
COMMENT ON COLUMN public.course_documents.processed_at IS 'When processing succeeded (set by trigger).';
COMMENT ON COLUMN public.course_documents.failed_at IS 'When processing last failed (set by trigger).';
COMMENT ON COLUMN public.course_documents.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.course_documents.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- chapters: the structure extracted from a course's documents.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.chapters (
    id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
    course_id           uuid        NOT NULL,
    course_document_id  uuid,
    position            integer     NOT NULL,
    title               text        NOT NULL,
    summary             text,
    word_count          integer     NOT NULL DEFAULT 0,
    start_page          integer,
    end_page            integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chapters_pkey PRIMARY KEY (id),
    CONSTRAINT chapters_course_position_key UNIQUE (course_id, position),
    CONSTRAINT chapters_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT chapters_course_document_id_fkey FOREIGN KEY (course_document_id)
        REFERENCES public.course_documents (id) ON DELETE SET NULL,
    CONSTRAINT chapters_position_check CHECK (position >= 1),
    CONSTRAINT chapters_title_check CHECK (btrim(title) <> '' AND length(title) <= 300),
    CONSTRAINT chapters_summary_check CHECK (summary IS NULL OR length(summary) <= 20000),
    CONSTRAINT chapters_word_count_check CHECK (word_count >= 0),
    CONSTRAINT chapters_pages_check CHECK (
        (start_page IS NULL OR start_page >= 1)
        AND (end_page IS NULL OR (start_page IS NOT NULL AND end_page >= start_page))),
    CONSTRAINT chapters_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.chapters IS 'Chapters of a course, in reading order.';
COMMENT ON COLUMN public.chapters.id IS 'Primary key.';
COMMENT ON COLUMN public.chapters.course_id IS 'Course (courses.id); chapters go with their course.';
COMMENT ON COLUMN public.chapters.course_document_id IS 'Document the chapter was extracted from; NULL once that document is deleted.';
COMMENT ON COLUMN public.chapters.position IS 'Reading order within the course, from 1; unique per course.';
COMMENT ON COLUMN public.chapters.title IS 'Chapter title (1..300 characters, not blank).';
COMMENT ON COLUMN public.chapters.summary IS 'Generated summary.';
COMMENT ON COLUMN public.chapters.word_count IS 'Number of words in the chapter.';
COMMENT ON COLUMN public.chapters.start_page IS 'First page in the source document.';
COMMENT ON COLUMN public.chapters.end_page IS 'Last page in the source document (>= start_page).';
COMMENT ON COLUMN public.chapters.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.chapters.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- processed_documents: text chunks of a document with their embeddings.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.processed_documents (
    id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
    course_document_id  uuid        NOT NULL,
    chapter_id          uuid,
    chunk_index         integer     NOT NULL,
    content             text        NOT NULL,
    content_sha256      text        NOT NULL,
    token_count         integer     NOT NULL,
    page_number         integer,
    embedding           vector(768),
    embedding_model     text,
    metadata            jsonb       NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT processed_documents_pkey PRIMARY KEY (id),
    CONSTRAINT processed_documents_document_chunk_key UNIQUE (course_document_id, chunk_index),
    CONSTRAINT processed_documents_course_document_id_fkey FOREIGN KEY (course_document_id)
        REFERENCES public.course_documents (id) ON DELETE CASCADE,
    CONSTRAINT processed_documents_chapter_id_fkey FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) ON DELETE SET NULL,
    CONSTRAINT processed_documents_chunk_index_check CHECK (chunk_index >= 0),
    CONSTRAINT processed_documents_content_check CHECK (btrim(content) <> ''),
    CONSTRAINT processed_documents_content_sha256_check CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT processed_documents_token_count_check CHECK (token_count BETWEEN 1 AND 8192),
    CONSTRAINT processed_documents_page_number_check CHECK (page_number IS NULL OR page_number >= 1),
    CONSTRAINT processed_documents_embedding_model_check CHECK ((embedding IS NULL) = (embedding_model IS NULL)),
    CONSTRAINT processed_documents_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT processed_documents_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.processed_documents IS 'Text chunks of processed documents with their 768-dimension embeddings.';
COMMENT ON COLUMN public.processed_documents.id IS 'Primary key.';
COMMENT ON COLUMN public.processed_documents.course_document_id IS 'Source document; chunks go with their document.';
COMMENT ON COLUMN public.processed_documents.chapter_id IS 'Chapter the chunk belongs to; NULL once that chapter is deleted.';
COMMENT ON COLUMN public.processed_documents.chunk_index IS 'Position of the chunk in the document, from 0; unique per document.';
COMMENT ON COLUMN public.processed_documents.content IS 'Chunk text (not blank).';
COMMENT ON COLUMN public.processed_documents.content_sha256 IS 'Lower-case hex SHA-256 of content, for de-duplication.';
COMMENT ON COLUMN public.processed_documents.token_count IS 'Tokens in the chunk (1..8192).';
COMMENT ON COLUMN public.processed_documents.page_number IS 'Page the chunk starts on, when known.';
COMMENT ON COLUMN public.processed_documents.embedding IS 'Embedding vector(768); NULL until computed.';
COMMENT ON COLUMN public.processed_documents.embedding_model IS 'Model that produced the embedding; set exactly when embedding is.';
COMMENT ON COLUMN public.processed_documents.metadata IS 'Extraction metadata (JSON object).';
COMMENT ON COLUMN public.processed_documents.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.processed_documents.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- keywords: terms extracted from a course, with definitions and embeddings.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.keywords (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    course_id        uuid        NOT NULL,
    chapter_id       uuid,
    term             text        NOT NULL,
    normalized_term  text        GENERATED ALWAYS AS (lower(btrim(term))) STORED,
    definition       text,
    frequency        integer     NOT NULL DEFAULT 1,
    importance       real        NOT NULL DEFAULT 0.5,
    embedding        vector(768),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT keywords_pkey PRIMARY KEY (id),
    CONSTRAINT keywords_course_term_key UNIQUE (course_id, normalized_term),
    CONSTRAINT keywords_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT keywords_chapter_id_fkey FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) ON DELETE SET NULL,
    CONSTRAINT keywords_term_check CHECK (btrim(term) <> '' AND length(term) <= 200),
    CONSTRAINT keywords_definition_check CHECK (definition IS NULL OR (btrim(definition) <> '' AND length(definition) <= 5000)),
    CONSTRAINT keywords_frequency_check CHECK (frequency >= 0),
    CONSTRAINT keywords_importance_check CHECK (importance >= 0 AND importance <= 1),
    CONSTRAINT keywords_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.keywords IS 'Key terms of a course with definitions and embeddings.';
COMMENT ON COLUMN public.keywords.id IS 'Primary key.';
COMMENT ON COLUMN public.keywords.course_id IS 'Course (courses.id); keywords go with their course.';
COMMENT ON COLUMN public.keywords.chapter_id IS 'Chapter where the term is introduced; NULL once that chapter is deleted.';
COMMENT ON COLUMN public.keywords.term IS 'The term as written (1..200 characters, not blank); trigram-searchable.';
COMMENT ON COLUMN public.keywords.normalized_term IS 'lower(btrim(term)), generated; unique per course.';
COMMENT ON COLUMN public.keywords.definition IS 'Definition of the term.';
COMMENT ON COLUMN public.keywords.frequency IS 'Occurrences of the term in the course.';
COMMENT ON COLUMN public.keywords.importance IS 'Importance score from 0 to 1.';
COMMENT ON COLUMN public.keywords.embedding IS 'Embedding vector(768) of term and definition; NULL until computed.';
COMMENT ON COLUMN public.keywords.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.keywords.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- relationships: typed, weighted edges between keywords.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.relationships (
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    source_keyword_id  uuid        NOT NULL,
    target_keyword_id  uuid        NOT NULL,
    relationship_type  public.relationship_type NOT NULL,
    weight             real        NOT NULL DEFAULT 0.5,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT relationships_pkey PRIMARY KEY (id),
    CONSTRAINT relationships_edge_key UNIQUE (source_keyword_id, target_keyword_id, relationship_type),
    CONSTRAINT relationships_source_keyword_id_fkey FOREIGN KEY (source_keyword_id)
        REFERENCES public.keywords (id) ON DELETE CASCADE,
    CONSTRAINT relationships_target_keyword_id_fkey FOREIGN KEY (target_keyword_id)
        REFERENCES public.keywords (id) ON DELETE CASCADE,
    CONSTRAINT relationships_no_self_loop_check CHECK (source_keyword_id <> target_keyword_id),
    CONSTRAINT relationships_weight_check CHECK (weight > 0 AND weight <= 1),
    CONSTRAINT relationships_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.relationships IS 'Typed, weighted relationship from one keyword to another.';
COMMENT ON COLUMN public.relationships.id IS 'Primary key.';
COMMENT ON COLUMN public.relationships.source_keyword_id IS 'Keyword the edge starts from; the edge goes with it.';
COMMENT ON COLUMN public.relationships.target_keyword_id IS 'Keyword the edge points to (never the source); the edge goes with it.';
COMMENT ON COLUMN public.relationships.relationship_type IS 'Kind of relationship; one edge per (source, target, type).';
COMMENT ON COLUMN public.relationships.weight IS 'Strength in (0, 1].';
COMMENT ON COLUMN public.relationships.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.relationships.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- user_annotations: a learner's feedback on content (RLS-protected in 0004).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.user_annotations (
    id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id                uuid        NOT NULL,
    course_id              uuid        NOT NULL,
    chapter_id             uuid,
    processed_document_id  uuid,
    annotation_type        public.annotation_type NOT NULL,
    content                text        NOT NULL,
    anchor                 jsonb       NOT NULL DEFAULT '{}',
    rating                 smallint,
    is_resolved            boolean     NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_annotations_pkey PRIMARY KEY (id),
    CONSTRAINT user_annotations_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT user_annotations_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT user_annotations_chapter_id_fkey FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) ON DELETE CASCADE,
    CONSTRAINT user_annotations_processed_document_id_fkey FOREIGN KEY (processed_document_id)
        REFERENCES public.processed_documents (id) ON DELETE SET NULL,
    CONSTRAINT user_annotations_content_check CHECK (btrim(content) <> '' AND length(content) <= 10000),
    CONSTRAINT user_annotations_anchor_check CHECK (jsonb_typeof(anchor) = 'object'),
    CONSTRAINT user_annotations_rating_check CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    CONSTRAINT user_annotations_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.user_annotations IS 'Annotations and feedback a user leaves on content; isolated per user by RLS.';
COMMENT ON COLUMN public.user_annotations.id IS 'Primary key.';
COMMENT ON COLUMN public.user_annotations.user_id IS 'Author (users.id); annotations go with their author.';
COMMENT ON COLUMN public.user_annotations.course_id IS 'Course annotated; annotations go with the course.';
COMMENT ON COLUMN public.user_annotations.chapter_id IS 'Chapter annotated, if any; annotations go with the chapter.';
COMMENT ON COLUMN public.user_annotations.processed_document_id IS 'Chunk annotated, if any; NULL once the chunk is re-processed away.';
COMMENT ON COLUMN public.user_annotations.annotation_type IS 'highlight, note, question, correction or feedback.';
COMMENT ON COLUMN public.user_annotations.content IS 'Annotation text (1..10000 characters, not blank).';
COMMENT ON COLUMN public.user_annotations.anchor IS 'Where in the content the annotation sits (JSON object: offsets, selection).';
COMMENT ON COLUMN public.user_annotations.rating IS 'Optional rating 1..5.';
COMMENT ON COLUMN public.user_annotations.is_resolved IS 'True once a question or correction has been addressed.';
COMMENT ON COLUMN public.user_annotations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.user_annotations.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- analogy_feedback: ratings of generated analogies (RLS-protected in 0004).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.analogy_feedback (
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL,
    course_id          uuid        NOT NULL,
    chapter_id         uuid,
    keyword_id         uuid,
    analogy_hash       text        NOT NULL,
    analogy_text       text        NOT NULL,
    rating             smallint    NOT NULL,
    helpful            boolean     NOT NULL,
    comment            text,
    consensus_reached  boolean     NOT NULL DEFAULT false,
    consensus_helpful  boolean,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analogy_feedback_pkey PRIMARY KEY (id),
    CONSTRAINT analogy_feedback_analogy_user_key UNIQUE (analogy_hash, user_id),
    CONSTRAINT analogy_feedback_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT analogy_feedback_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT analogy_feedback_chapter_id_fkey FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) ON DELETE CASCADE,
    CONSTRAINT analogy_feedback_keyword_id_fkey FOREIGN KEY (keyword_id) REFERENCES public.keywords (id) ON DELETE SET NULL,
    CONSTRAINT analogy_feedback_analogy_hash_check CHECK (analogy_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT analogy_feedback_analogy_text_check CHECK (btrim(analogy_text) <> '' AND length(analogy_text) <= 5000),
    CONSTRAINT analogy_feedback_rating_check CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT analogy_feedback_comment_check CHECK (comment IS NULL OR length(comment) <= 2000),
    CONSTRAINT analogy_feedback_consensus_check CHECK (consensus_reached = (consensus_helpful IS NOT NULL)),
    CONSTRAINT analogy_feedback_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.analogy_feedback IS 'Feedback on generated analogies, one row per user and analogy; isolated per user by RLS.';
COMMENT ON COLUMN public.analogy_feedback.id IS 'Primary key.';
COMMENT ON COLUMN public.analogy_feedback.user_id IS 'User giving the feedback; feedback goes with the user.';
COMMENT ON COLUMN public.analogy_feedback.course_id IS 'Course the analogy was generated for; feedback goes with the course.';
COMMENT ON COLUMN public.analogy_feedback.chapter_id IS 'Chapter the analogy explains, if any; feedback goes with the chapter.';
COMMENT ON COLUMN public.analogy_feedback.keyword_id IS 'Keyword the analogy explains, if any; NULL once the keyword is deleted.';
COMMENT ON COLUMN public.analogy_feedback.analogy_hash IS 'Lower-case hex SHA-256 identifying the analogy; one row per (analogy, user).';
COMMENT ON COLUMN public.analogy_feedback.analogy_text IS 'Analogy text as shown to the user.';
COMMENT ON COLUMN public.analogy_feedback.rating IS 'Rating 1..5.';
COMMENT ON COLUMN public.analogy_feedback.helpful IS 'Whether the user found the analogy helpful.';
COMMENT ON COLUMN public.analogy_feedback.comment IS 'Optional free-text comment (at most 2000 characters).';
COMMENT ON COLUMN public.analogy_feedback.consensus_reached IS
    'True on every row of an analogy once >= 3 distinct users share the majority verdict (trigger in 0003).';
COMMENT ON COLUMN public.analogy_feedback.consensus_helpful IS 'The agreed verdict when consensus_reached, else NULL.';
COMMENT ON COLUMN public.analogy_feedback.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.analogy_feedback.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- user_progress: a learner's progress through one course (RLS-protected in 0004).
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.user_progress (
    id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id                uuid        NOT NULL,
    course_id              uuid        NOT NULL,
    status                 public.progress_status NOT NULL DEFAULT 'not_started',
    completion_percent     numeric(5,2) NOT NULL DEFAULT 0,
    completed_chapter_ids  uuid[]      NOT NULL DEFAULT '{}',
    chapter_completed_at   jsonb       NOT NULL DEFAULT '{}',
    current_streak         integer     NOT NULL DEFAULT 0,
    longest_streak         integer     NOT NULL DEFAULT 0,
    last_activity_at       timestamptz,
    last_activity_date     date,
    badges                 jsonb       NOT NULL DEFAULT '[]',
    total_time_seconds     bigint      NOT NULL DEFAULT 0,
    started_at             timestamptz,
    completed_at           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_progress_pkey PRIMARY KEY (id),
    CONSTRAINT user_progress_user_course_key UNIQUE (user_id, course_id),
    CONSTRAINT user_progress_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT user_progress_course_id_fkey FOREIGN KEY (course_id) REFERENCES public.courses (id) ON DELETE CASCADE,
    CONSTRAINT user_progress_completion_percent_check CHECK (completion_percent >= 0 AND completion_percent <= 100),
    CONSTRAINT user_progress_chapter_completed_at_check CHECK (jsonb_typeof(chapter_completed_at) = 'object'),
    CONSTRAINT user_progress_streaks_check CHECK (current_streak >= 0 AND longest_streak >= current_streak),
    CONSTRAINT user_progress_activity_check CHECK ((last_activity_at IS NULL) = (last_activity_date IS NULL)),
    CONSTRAINT user_progress_badges_check CHECK (jsonb_typeof(badges) = 'array'),
    CONSTRAINT user_progress_total_time_check CHECK (total_time_seconds >= 0),
    CONSTRAINT user_progress_completed_check CHECK (status <> 'completed' OR completed_at IS NOT NULL),
    CONSTRAINT user_progress_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.user_progress IS 'Progress of one user through one course, with streaks and badges; isolated per user by RLS.';
COMMENT ON COLUMN public.user_progress.id IS 'Primary key.';
COMMENT ON COLUMN public.user_progress.user_id IS 'Learner (users.id); progress goes with the learner.';
COMMENT ON COLUMN public.user_progress.course_id IS 'Course (courses.id); one row per (user, course); goes with the course.';
COMMENT ON COLUMN public.user_progress.status IS 'not_started, in_progress or completed (completed when completion_percent reaches 100).';
COMMENT ON COLUMN public.user_progress.completion_percent IS 'Completion from 0 to 100.';
COMMENT ON COLUMN public.user_progress.completed_chapter_ids IS 'Chapters completed (de-duplicated by trigger).';
COMMENT ON COLUMN public.user_progress.chapter_completed_at IS
    'JSON object chapter id -> first completion time; each entry is set once by trigger and never changed.';
COMMENT ON COLUMN public.user_progress.current_streak IS
    'Consecutive calendar days with activity (user time zone) up to last_activity_date; maintained by trigger.';
COMMENT ON COLUMN public.user_progress.longest_streak IS 'Longest streak ever reached; maintained by trigger.';
COMMENT ON COLUMN public.user_progress.last_activity_at IS 'Latest recorded activity; writing it records activity.';
COMMENT ON COLUMN public.user_progress.last_activity_date IS 'Calendar day of last_activity_at in the user time zone (trigger).';
COMMENT ON COLUMN public.user_progress.badges IS 'Badges earned (JSON array of objects).';
COMMENT ON COLUMN public.user_progress.total_time_seconds IS 'Total learning time in seconds.';
COMMENT ON COLUMN public.user_progress.started_at IS 'When progress first left not_started (set once by trigger).';
COMMENT ON COLUMN public.user_progress.completed_at IS 'When the course was first completed (set once by trigger, never cleared).';
COMMENT ON COLUMN public.user_progress.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.user_progress.updated_at IS 'Last update time (maintained by trigger).';

-- -----------------------------------------------------------------------------
-- chapter_complexity: computed difficulty metrics, one row per chapter.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.chapter_complexity (
    id                   uuid         NOT NULL DEFAULT gen_random_uuid(),
    chapter_id           uuid         NOT NULL,
    complexity_score     numeric(5,2) NOT NULL,
    reading_level        numeric(4,1),
    estimated_minutes    integer      NOT NULL,
    vocabulary_density   real,
    model_version        text         NOT NULL,
    computed_at          timestamptz  NOT NULL DEFAULT now(),
    created_at           timestamptz  NOT NULL DEFAULT now(),
    updated_at           timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT chapter_complexity_pkey PRIMARY KEY (id),
    CONSTRAINT chapter_complexity_chapter_id_key UNIQUE (chapter_id),
    CONSTRAINT chapter_complexity_chapter_id_fkey FOREIGN KEY (chapter_id) REFERENCES public.chapters (id) ON DELETE CASCADE,
    CONSTRAINT chapter_complexity_score_check CHECK (complexity_score >= 0 AND complexity_score <= 100),
    CONSTRAINT chapter_complexity_reading_level_check CHECK (reading_level IS NULL OR (reading_level >= 0 AND reading_level <= 30)),
    CONSTRAINT chapter_complexity_estimated_minutes_check CHECK (estimated_minutes BETWEEN 1 AND 1440),
    CONSTRAINT chapter_complexity_vocabulary_density_check
        CHECK (vocabulary_density IS NULL OR (vocabulary_density >= 0 AND vocabulary_density <= 1)),
    CONSTRAINT chapter_complexity_model_version_check CHECK (btrim(model_version) <> '' AND length(model_version) <= 100),
    CONSTRAINT chapter_complexity_updated_after_created_check CHECK (updated_at >= created_at)
);

COMMENT ON TABLE public.chapter_complexity IS 'Computed complexity metrics of a chapter (one row per chapter).';
COMMENT ON COLUMN public.chapter_complexity.id IS 'Primary key.';
COMMENT ON COLUMN public.chapter_complexity.chapter_id IS 'Chapter measured; unique; metrics go with the chapter.';
COMMENT ON COLUMN public.chapter_complexity.complexity_score IS 'Overall complexity from 0 to 100.';
COMMENT ON COLUMN public.chapter_complexity.reading_level IS 'Reading grade level (0..30).';
COMMENT ON COLUMN public.chapter_complexity.estimated_minutes IS 'Estimated reading time in minutes (1..1440).';
COMMENT ON COLUMN public.chapter_complexity.vocabulary_density IS 'Share of domain vocabulary, 0..1.';
COMMENT ON COLUMN public.chapter_complexity.model_version IS 'Version of the model or heuristic that computed the metrics.';
COMMENT ON COLUMN public.chapter_complexity.computed_at IS 'When the metrics were computed.';
COMMENT ON COLUMN public.chapter_complexity.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.chapter_complexity.updated_at IS 'Last update time (maintained by trigger).';
