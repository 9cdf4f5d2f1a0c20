"""The cluster directory the local modules (pg_local_cluster, pg_local_pooler) accept."""

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import relative_path_error


def test_an_absolute_directory_is_accepted():
    assert relative_path_error("/srv/sensa/.local/pg/local") is None


def test_a_relative_directory_is_refused_with_what_to_pass():
    message = relative_path_error(".local/x/pg/local")
    assert message == ("path must be absolute, got '.local/x/pg/local' (with sensa_local_dir, pass an absolute "
                       "directory, e.g. -e sensa_local_dir=$PWD/.local/x)")
