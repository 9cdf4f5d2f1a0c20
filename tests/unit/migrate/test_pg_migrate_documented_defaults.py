"""pg_migrate's DOCUMENTATION must state the defaults its code takes from module_utils.

DOCUMENTATION is a literal (ansible-doc reads it without running the module), so it repeats
the value; ansible-test sanity compares it with the argument spec, and this test compares it
with the one home the argument spec reads it from.
"""

import ast
import os

import yaml

from ansible_collections.sensa.infra.plugins.module_utils.migration_lint import DEFAULT_EXCLUDED_RULES
from support.collection import REPO_ROOT

MODULE = os.path.join(REPO_ROOT, "plugins", "modules", "pg_migrate.py")


def documentation():
    with open(MODULE) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DOCUMENTATION"]:
            return yaml.safe_load(node.value.value)
    raise AssertionError("pg_migrate.py has no DOCUMENTATION")


def test_documented_lint_exclusions_are_migration_lints_defaults():
    assert documentation()["options"]["lint_exclude"]["default"] == list(DEFAULT_EXCLUDED_RULES)


def test_argument_spec_reads_the_lint_exclusions_from_migration_lint():
    with open(MODULE) as handle:
        source = handle.read()
    assert "default=list(DEFAULT_EXCLUDED_RULES)" in source
    for rule in DEFAULT_EXCLUDED_RULES:
        assert source.count('"%s"' % rule) == 0, "%s is written out in the argument spec again" % rule
