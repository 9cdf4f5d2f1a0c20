-- =============================================================================
-- 20250122_0003_triggers.sql
--
-- What: the rules the database enforces by itself when rows change:
--   * updated_at maintained on every table that has it;
--   * user_progress: streaks (consecutive calendar days in the user's time zone),
--     chapter completion timestamps set once, course completion set once;
--   * analogy_feedback: consensus once >= 3 distinct users share the verdict;
--   * course_documents: processing status only along valid transitions, with
--     the matching timestamps;
--   * user_profiles: interests trimmed, lower-cased, de-duplicated and bounded;
--   * an optional generic audit log: table audit_log, trigger function
--     audit_row_change(), switched on per table with enable_audit(regclass).
-- Why:  every client (API, workers, admin scripts) gets the same behaviour and no
--       client can forget it.
--
-- Idempotent: CREATE OR REPLACE FUNCTION / TRIGGER, CREATE ... IF NOT EXISTS.
-- Runs inside pg_migrate's transaction. Rollback: 20250122_0003_rollback.sql.
--
-- Security: only two functions are SECURITY DEFINER (audit_row_change, which
-- writes audit_log the application cannot write directly, and
-- analogy_feedback_consensus, which must see every user's verdict); both pin
-- search_path and have EXECUTE revoked from PUBLIC (triggers fire without it).
-- -----------------------------------------------------------------------------
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

-- -----------------------------------------------------------------------------
-- updated_at
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    -- now() is the transaction start: every row touched by one transaction gets the
    -- same stamp; GREATEST keeps updated_at >= created_at for rows created earlier
    -- in the same transaction.
    NEW.updated_at := GREATEST(now(), NEW.created_at);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.set_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at to the transaction time.';

CREATE OR REPLACE TRIGGER users_set_updated_at BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON public.user_profiles
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER courses_set_updated_at BEFORE UPDATE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER course_documents_set_updated_at BEFORE UPDATE ON public.course_documents
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER chapters_set_updated_at BEFORE UPDATE ON public.chapters
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER processed_documents_set_updated_at BEFORE UPDATE ON public.processed_documents
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER keywords_set_updated_at BEFORE UPDATE ON public.keywords
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER relationships_set_updated_at BEFORE UPDATE ON public.relationships
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER user_annotations_set_updated_at BEFORE UPDATE ON public.user_annotations
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER analogy_feedback_set_updated_at BEFORE UPDATE ON public.analogy_feedback
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER user_progress_set_updated_at BEFORE UPDATE ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE OR REPLACE TRIGGER chapter_complexity_set_updated_at BEFORE UPDATE ON public.chapter_complexity
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- -----------------------------------------------------------------------------
-- users.time_zone must name a time zone the server knows (the streak trigger
-- converts with it). A CHECK cannot do this: the time zone list is not immutable.
--
-- Cost: pg_timezone_names reads the whole time zone directory (15-41 ms per
-- row measured at s=1), so it is only the fallback. The usual value, an
-- IANA area/location name such as Europe/Lisbon or America/Argentina/Salta
-- (or UTC), is checked by converting with it (about 0.5 ms per row): a name of that shape
-- can only resolve to a zone file, so a successful conversion proves the zone
-- exists (the lookup ignores case: europe/lisbon is accepted and behaves the
-- same). Anything else (GMT, Japan, EST5EDT) must be listed in
-- pg_timezone_names, which keeps refusing what AT TIME ZONE would also take but
-- a stored IANA name must not be: abbreviations (PST: their meaning depends on
-- each session's timezone_abbreviations, so the streak trigger could fail in
-- another session) and POSIX specifications (UTC+3 means three hours WEST of
-- Greenwich: silently wrong streak days).
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.users_validate_time_zone()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.time_zone = 'UTC' OR NEW.time_zone ~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)+$' THEN
        BEGIN
            PERFORM now() AT TIME ZONE NEW.time_zone;
            RETURN NEW;
        EXCEPTION WHEN invalid_parameter_value THEN
            NULL;  -- not a zone: refused below
        END;
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.time_zone) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'unknown time zone "%" for user %', NEW.time_zone, NEW.id
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use an IANA time zone name such as Europe/Lisbon or UTC.';
END
$$;
COMMENT ON FUNCTION public.users_validate_time_zone() IS
    'Refuses a users.time_zone the server does not know, and abbreviations or POSIX specifications (IANA names only).';

CREATE OR REPLACE TRIGGER users_validate_time_zone BEFORE INSERT OR UPDATE OF time_zone ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.users_validate_time_zone();

-- -----------------------------------------------------------------------------
-- user_profiles.interests normalisation
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.user_profiles_normalize_interests()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    max_interests constant integer := 50;
    max_length    constant integer := 64;
    normalized    text[];
    too_long      text;
BEGIN
    -- Trim (any white space), collapse inner white space, lower-case, drop empty
    -- entries and NULLs, keep the first occurrence of each value in input order.
    SELECT coalesce(array_agg(v ORDER BY first_pos), '{}')
      INTO normalized
      FROM (SELECT v, min(pos) AS first_pos
              FROM (SELECT lower(btrim(regexp_replace(x, '\s+', ' ', 'g'))) AS v, pos
                      FROM unnest(NEW.interests) WITH ORDINALITY AS u(x, pos)
                     WHERE x IS NOT NULL) AS cleaned
             WHERE v <> ''
             GROUP BY v) AS uniq;

    IF cardinality(normalized) > max_interests THEN
        RAISE EXCEPTION 'too many interests: % (at most %)', cardinality(normalized), max_interests
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT v INTO too_long FROM unnest(normalized) AS v WHERE length(v) > max_length LIMIT 1;
    IF too_long IS NOT NULL THEN
        RAISE EXCEPTION 'interest "%" is longer than % characters', left(too_long, 80), max_length
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.interests := normalized;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.user_profiles_normalize_interests() IS
    'Trims, lower-cases and de-duplicates user_profiles.interests; refuses more than 50 or any longer than 64 characters.';

CREATE OR REPLACE TRIGGER user_profiles_normalize_interests
    BEFORE INSERT OR UPDATE OF interests ON public.user_profiles
    FOR EACH ROW EXECUTE FUNCTION public.user_profiles_normalize_interests();

-- -----------------------------------------------------------------------------
-- user_progress: streaks
--
-- Time zone semantics: an activity counts for the calendar day it falls on in
-- the user's time zone (users.time_zone, an IANA name, 'UTC' by default or when
-- the user row cannot be read). Days are stored in last_activity_date at the time
-- the activity is recorded, so a later time zone change does not rewrite history.
--   * first activity                 -> current_streak = 1
--   * same day as the last activity  -> unchanged (a day counts once)
--   * the next calendar day          -> current_streak + 1
--   * a gap of one day or more       -> current_streak = 1 (reset)
--   * an activity older than the last recorded day (late event) -> ignored for
--     streaks; last_activity_at keeps the newest value.
-- longest_streak is the maximum current_streak ever reached. Writing
-- last_activity_at records an activity; the streak columns themselves are owned
-- by this trigger (values written directly are replaced). current_streak is the
-- streak as of last_activity_date: readers treat it as broken when that date is
-- before yesterday (get_user_progress_summary does).
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.user_progress_maintain_streak()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    tz           text;
    activity_day date;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.current_streak := OLD.current_streak;
        NEW.longest_streak := OLD.longest_streak;
        NEW.last_activity_date := OLD.last_activity_date;
        IF NEW.last_activity_at IS NOT DISTINCT FROM OLD.last_activity_at THEN
            RETURN NEW;
        END IF;
        IF NEW.last_activity_at IS NULL THEN
            -- Activity cannot be un-recorded.
            NEW.last_activity_at := OLD.last_activity_at;
            RETURN NEW;
        END IF;
    ELSE
        NEW.current_streak := 0;
        NEW.longest_streak := 0;
        NEW.last_activity_date := NULL;
        IF NEW.last_activity_at IS NULL THEN
            RETURN NEW;
        END IF;
    END IF;

    SELECT u.time_zone INTO tz FROM public.users AS u WHERE u.id = NEW.user_id;
    activity_day := (NEW.last_activity_at AT TIME ZONE coalesce(tz, 'UTC'))::date;

    IF TG_OP = 'INSERT' OR OLD.last_activity_date IS NULL THEN
        NEW.current_streak := 1;
    ELSIF activity_day = OLD.last_activity_date THEN
        NEW.last_activity_at := GREATEST(OLD.last_activity_at, NEW.last_activity_at);
    ELSIF activity_day = OLD.last_activity_date + 1 THEN
        NEW.current_streak := OLD.current_streak + 1;
    ELSIF activity_day > OLD.last_activity_date + 1 THEN
        NEW.current_streak := 1;
    ELSE
        -- A late event for an earlier day: streaks and the clock stay as they were.
        NEW.last_activity_at := OLD.last_activity_at;
        RETURN NEW;
    END IF;
    NEW.last_activity_date := activity_day;
    NEW.longest_streak := GREATEST(NEW.longest_streak, NEW.current_streak);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.user_progress_maintain_streak() IS
    'Maintains current/longest streak from last_activity_at: consecutive calendar days in the user time zone (UTC default).';

CREATE OR REPLACE TRIGGER user_progress_maintain_streak
    BEFORE INSERT OR UPDATE ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.user_progress_maintain_streak();

-- -----------------------------------------------------------------------------
-- user_progress: completion. Reaching 100 percent (or status completed) marks the
-- course completed and sets completed_at once; it is never cleared or moved, even
-- if progress is later reset. Each chapter id added to completed_chapter_ids gets
-- its first completion time in chapter_completed_at, set once as well.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.user_progress_track_completion()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
    old_started   timestamptz;
    old_completed timestamptz;
    old_chapters  jsonb := '{}';
    added         jsonb;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_started := OLD.started_at;
        old_completed := OLD.completed_at;
        old_chapters := OLD.chapter_completed_at;
    END IF;

    -- De-duplicate chapter ids, keeping first occurrence order.
    SELECT coalesce(array_agg(c ORDER BY first_pos), '{}')
      INTO NEW.completed_chapter_ids
      FROM (SELECT c, min(pos) AS first_pos
              FROM unnest(NEW.completed_chapter_ids) WITH ORDINALITY AS u(c, pos)
             WHERE c IS NOT NULL
             GROUP BY c) AS uniq;

    -- New entries for chapters completed for the first time; existing entries win.
    SELECT coalesce(jsonb_object_agg(c::text, to_jsonb(now())), '{}')
      INTO added
      FROM unnest(NEW.completed_chapter_ids) AS c;
    NEW.chapter_completed_at := added || old_chapters;

    IF NEW.completion_percent >= 100 THEN
        NEW.status := 'completed';
    ELSIF NEW.status = 'completed' THEN
        NEW.completion_percent := 100;
    ELSIF NEW.status = 'not_started' AND (NEW.completion_percent > 0 OR cardinality(NEW.completed_chapter_ids) > 0) THEN
        NEW.status := 'in_progress';
    END IF;

    NEW.started_at := coalesce(old_started, CASE WHEN NEW.status <> 'not_started' THEN now() END);
    NEW.completed_at := coalesce(old_completed, CASE WHEN NEW.status = 'completed' THEN now() END);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.user_progress_track_completion() IS
    'Sets started_at, completed_at and per-chapter completion times once; completes the course at 100 percent.';

CREATE OR REPLACE TRIGGER user_progress_track_completion
    BEFORE INSERT OR UPDATE ON public.user_progress
    FOR EACH ROW EXECUTE FUNCTION public.user_progress_track_completion();

-- -----------------------------------------------------------------------------
-- course_documents: processing status transitions
--   uploaded   -> queued | failed
--   queued     -> processing | failed
--   processing -> processed | failed
--   failed     -> queued          (retry; retry_count + 1)
--   processed  -> queued          (re-process)
-- A new row starts as uploaded or queued. Entering a state stamps its timestamp;
-- entering queued clears the previous run's processing/processed/failed stamps
-- and error; entering processed clears the error.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.course_documents_check_status()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('uploaded', 'queued') THEN
            RAISE EXCEPTION 'a new document must start as uploaded or queued, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        NEW.queued_at := CASE WHEN NEW.status = 'queued' THEN now() END;
        NEW.processing_started_at := NULL;
        NEW.processed_at := NULL;
        NEW.failed_at := NULL;
        RETURN NEW;
    END IF;

    IF NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;

    IF NOT ((OLD.status, NEW.status) IN (
            ('uploaded', 'queued'), ('uploaded', 'failed'),
            ('queued', 'processing'), ('queued', 'failed'),
            ('processing', 'processed'), ('processing', 'failed'),
            ('failed', 'queued'), ('processed', 'queued'))) THEN
        RAISE EXCEPTION 'invalid document status transition: % -> %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = format('document %s', OLD.id);
    END IF;

    CASE NEW.status
        WHEN 'queued' THEN
            NEW.queued_at := now();
            NEW.processing_started_at := NULL;
            NEW.processed_at := NULL;
            NEW.failed_at := NULL;
            NEW.error_message := NULL;
            IF OLD.status = 'failed' THEN
                NEW.retry_count := OLD.retry_count + 1;
            END IF;
        WHEN 'processing' THEN
            NEW.processing_started_at := now();
        WHEN 'processed' THEN
            NEW.processed_at := now();
            NEW.error_message := NULL;
        WHEN 'failed' THEN
            NEW.failed_at := now();
        ELSE
            NULL;
    END CASE;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.course_documents_check_status() IS
    'Allows only valid processing status transitions and stamps queued_at, processing_started_at, processed_at, failed_at.';

CREATE OR REPLACE TRIGGER course_documents_check_status
    BEFORE INSERT OR UPDATE OF status ON public.course_documents
    FOR EACH ROW EXECUTE FUNCTION public.course_documents_check_status();

-- -----------------------------------------------------------------------------
-- analogy_feedback: consensus. An analogy (analogy_hash) reaches consensus when at
-- least 3 distinct users gave the same helpful verdict and that verdict has
-- strictly more users than the other; every row of the analogy then carries
-- consensus_reached = true and consensus_helpful = the verdict (and loses it if
-- feedback changes so the condition no longer holds).
--
-- SECURITY DEFINER because it must count and update every user's rows of the
-- analogy while the caller's row-level security shows only their own. It runs as
-- the owner of the schema (sensa_migrator), for which 0004 adds an owner policy
-- on analogy_feedback. Per-analogy advisory lock: concurrent feedback on the same
-- analogy is counted serially, so no verdict is missed.
-- -----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.analogy_feedback_consensus()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    min_users constant integer := 3;
    h         text;
    yes_users bigint;
    no_users  bigint;
    verdict   boolean;
BEGIN
    FOR h IN
        SELECT DISTINCT x FROM (VALUES
            (CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD.analogy_hash END),
            (CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW.analogy_hash END)) AS v(x)
         WHERE x IS NOT NULL
    LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('analogy_feedback_consensus:' || h));
        SELECT count(DISTINCT f.user_id) FILTER (WHERE f.helpful),
               count(DISTINCT f.user_id) FILTER (WHERE NOT f.helpful)
          INTO yes_users, no_users
          FROM public.analogy_feedback AS f
         WHERE f.analogy_hash = h;
        verdict := CASE
            WHEN yes_users >= min_users AND yes_users > no_users THEN true
            WHEN no_users >= min_users AND no_users > yes_users THEN false
        END;
        UPDATE public.analogy_feedback AS f
           SET consensus_reached = (verdict IS NOT NULL),
               consensus_helpful = verdict
         WHERE f.analogy_hash = h
           AND (f.consensus_reached, f.consensus_helpful) IS DISTINCT FROM (verdict IS NOT NULL, verdict);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.analogy_feedback_consensus() IS
    'AFTER trigger: flags consensus on an analogy once >= 3 distinct users share the majority helpful verdict.';
REVOKE ALL ON FUNCTION public.analogy_feedback_consensus() FROM PUBLIC;

-- Fires only when the verdict or the analogy of a row changes, so its own UPDATE
-- of the consensus columns does not fire it again.
CREATE OR REPLACE TRIGGER analogy_feedback_consensus
    AFTER INSERT OR DELETE OR UPDATE OF helpful, analogy_hash ON public.analogy_feedback
    FOR EACH ROW EXECUTE FUNCTION public.analogy_feedback_consensus();

-- -----------------------------------------------------------------------------
-- Optional audit log. Off by default; SELECT public.enable_audit('public.courses')
-- switches it on for one table (disable_audit switches it off). Each change
-- records who (database session user and the application user from
-- sensa.current_user_id), when, the operation, and the old and new row as jsonb.
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS public.audit_log (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    table_schema    text        NOT NULL,
    table_name      text        NOT NULL,
    operation       text        NOT NULL,
    row_id          text,
    db_user         text        NOT NULL,
    app_user_id     uuid,
    transaction_id  bigint      NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    old_row         jsonb,
    new_row         jsonb,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    CONSTRAINT audit_log_rows_check CHECK (
        (operation = 'INSERT' AND old_row IS NULL AND new_row IS NOT NULL)
        OR (operation = 'UPDATE' AND old_row IS NOT NULL AND new_row IS NOT NULL)
        OR (operation = 'DELETE' AND old_row IS NOT NULL AND new_row IS NULL))
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS audit_log_table_changed_at_idx ON public.audit_log (table_name, changed_at);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS audit_log_app_user_changed_at_idx ON public.audit_log (app_user_id, changed_at)
    WHERE app_user_id IS NOT NULL;

COMMENT ON TABLE public.audit_log IS
    'Row changes of audited tables (enable_audit). Written only by audit_row_change(); grant it to no application role.';
COMMENT ON COLUMN public.audit_log.id IS 'Primary key, increasing in commit-independent insertion order.';
COMMENT ON COLUMN public.audit_log.table_schema IS 'Schema of the changed table.';
COMMENT ON COLUMN public.audit_log.table_name IS 'Name of the changed table.';
COMMENT ON COLUMN public.audit_log.operation IS 'INSERT, UPDATE or DELETE.';
COMMENT ON COLUMN public.audit_log.row_id IS 'The changed row''s id column as text, when it has one.';
COMMENT ON COLUMN public.audit_log.db_user IS 'Database session user that made the change.';
COMMENT ON COLUMN public.audit_log.app_user_id IS 'Application user (sensa.current_user_id) when set.';
COMMENT ON COLUMN public.audit_log.transaction_id IS 'Transaction that made the change.';
COMMENT ON COLUMN public.audit_log.changed_at IS 'When the change was made (clock time).';
COMMENT ON COLUMN public.audit_log.old_row IS 'Row before the change (UPDATE, DELETE).';
COMMENT ON COLUMN public.audit_log.new_row IS 'Row after the change (INSERT, UPDATE).';

-- SECURITY DEFINER so the application role needs no privilege on audit_log (and
-- so cannot forge or erase entries); search_path pinned, EXECUTE revoked.
CREATE OR REPLACE FUNCTION public.audit_row_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old_doc jsonb;
    new_doc jsonb;
    app_user text := nullif(current_setting('sensa.current_user_id', true), '');
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_doc := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_doc := to_jsonb(NEW);
    END IF;
    INSERT INTO public.audit_log
        (table_schema, table_name, operation, row_id, db_user, app_user_id, transaction_id, old_row, new_row)
    VALUES
        (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, coalesce(new_doc, old_doc) ->> 'id', session_user,
         CASE WHEN app_user ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN app_user::uuid END,
         txid_current(), old_doc, new_doc);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION public.audit_row_change() IS 'Generic AFTER ROW trigger writing one audit_log entry per change.';
REVOKE ALL ON FUNCTION public.audit_row_change() FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.enable_audit(target regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF target = 'public.audit_log'::regclass THEN
        RAISE EXCEPTION 'audit_log cannot audit itself' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('CREATE OR REPLACE TRIGGER audit_row_change AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION public.audit_row_change()', target);
END
$$;
COMMENT ON FUNCTION public.enable_audit(regclass) IS
    'Switches the audit log on for a table (idempotent). Needs the table owner; EXECUTE is not granted to PUBLIC.';
REVOKE ALL ON FUNCTION public.enable_audit(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.disable_audit(target regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS audit_row_change ON %s', target);
END
$$;
COMMENT ON FUNCTION public.disable_audit(regclass) IS 'Switches the audit log off for a table (idempotent).';
REVOKE ALL ON FUNCTION public.disable_audit(regclass) FROM PUBLIC;
