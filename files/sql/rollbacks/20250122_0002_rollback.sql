-- =============================================================================
-- 20250122_0002_rollback.sql
--
-- What: drops every index 20250122_0002_indexes.sql created, in reverse order.
-- Why:  returns the schema to its 0001 state; primary keys and unique
--       constraints belong to 0001 and stay.
-- Idempotent: DROP INDEX IF EXISTS. Runs inside pg_migrate's transaction, so
-- no CONCURRENTLY (the drop holds its lock briefly; see the 0002 header).
-- squawk-ignore-file require-concurrent-index-deletion
-- squawk: require-lock-timeout and require-statement-timeout are waived: pg_migrate
-- sets lock_timeout and statement_timeout (SET LOCAL) before every file it runs.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout
-- =============================================================================

DROP INDEX IF EXISTS public.keywords_embedding_hnsw;
DROP INDEX IF EXISTS public.processed_documents_embedding_hnsw;
DROP INDEX IF EXISTS public.keywords_term_trgm;
DROP INDEX IF EXISTS public.courses_description_trgm;
DROP INDEX IF EXISTS public.courses_title_trgm;
DROP INDEX IF EXISTS public.user_annotations_anchor_gin;
DROP INDEX IF EXISTS public.processed_documents_metadata_gin;
DROP INDEX IF EXISTS public.user_progress_badges_gin;
DROP INDEX IF EXISTS public.user_profiles_interests_gin;
DROP INDEX IF EXISTS public.user_profiles_personalisation_gin;
DROP INDEX IF EXISTS public.user_profiles_learning_preferences_gin;
DROP INDEX IF EXISTS public.chapter_complexity_computed_at_idx;
DROP INDEX IF EXISTS public.chapter_complexity_score_idx;
DROP INDEX IF EXISTS public.user_progress_active_streak_idx;
DROP INDEX IF EXISTS public.user_progress_course_completed_idx;
DROP INDEX IF EXISTS public.user_progress_course_id_status_idx;
DROP INDEX IF EXISTS public.user_progress_user_id_last_activity_at_idx;
DROP INDEX IF EXISTS public.analogy_feedback_consensus_idx;
DROP INDEX IF EXISTS public.analogy_feedback_keyword_id_idx;
DROP INDEX IF EXISTS public.analogy_feedback_chapter_id_idx;
DROP INDEX IF EXISTS public.analogy_feedback_course_id_analogy_hash_idx;
DROP INDEX IF EXISTS public.analogy_feedback_user_id_created_at_idx;
DROP INDEX IF EXISTS public.user_annotations_unresolved_idx;
DROP INDEX IF EXISTS public.user_annotations_processed_document_id_idx;
DROP INDEX IF EXISTS public.user_annotations_chapter_id_idx;
DROP INDEX IF EXISTS public.user_annotations_course_id_created_at_idx;
DROP INDEX IF EXISTS public.user_annotations_user_id_type_idx;
DROP INDEX IF EXISTS public.user_annotations_user_id_course_id_created_at_idx;
DROP INDEX IF EXISTS public.relationships_type_weight_idx;
DROP INDEX IF EXISTS public.relationships_target_keyword_id_type_idx;
DROP INDEX IF EXISTS public.keywords_pending_embedding_idx;
DROP INDEX IF EXISTS public.keywords_normalized_term_idx;
DROP INDEX IF EXISTS public.keywords_chapter_id_importance_idx;
DROP INDEX IF EXISTS public.keywords_course_id_importance_idx;
DROP INDEX IF EXISTS public.processed_documents_embedding_model_idx;
DROP INDEX IF EXISTS public.processed_documents_pending_embedding_idx;
DROP INDEX IF EXISTS public.processed_documents_content_sha256_idx;
DROP INDEX IF EXISTS public.processed_documents_chapter_id_chunk_index_idx;
DROP INDEX IF EXISTS public.chapters_updated_at_idx;
DROP INDEX IF EXISTS public.chapters_course_document_id_position_idx;
DROP INDEX IF EXISTS public.course_documents_checksum_sha256_idx;
DROP INDEX IF EXISTS public.course_documents_failed_at_idx;
DROP INDEX IF EXISTS public.course_documents_processing_started_at_idx;
DROP INDEX IF EXISTS public.course_documents_in_flight_idx;
DROP INDEX IF EXISTS public.course_documents_uploaded_by_idx;
DROP INDEX IF EXISTS public.course_documents_course_id_status_idx;
DROP INDEX IF EXISTS public.course_documents_course_id_created_at_idx;
DROP INDEX IF EXISTS public.courses_created_at_idx;
DROP INDEX IF EXISTS public.courses_language_difficulty_idx;
DROP INDEX IF EXISTS public.courses_published_at_idx;
DROP INDEX IF EXISTS public.courses_owner_id_updated_at_idx;
DROP INDEX IF EXISTS public.courses_owner_id_created_at_idx;
DROP INDEX IF EXISTS public.user_profiles_learning_style_idx;
DROP INDEX IF EXISTS public.user_profiles_updated_at_idx;
DROP INDEX IF EXISTS public.users_time_zone_idx;
DROP INDEX IF EXISTS public.users_active_last_login_at_idx;
DROP INDEX IF EXISTS public.users_created_at_idx;
DROP INDEX IF EXISTS public.users_role_created_at_idx;
