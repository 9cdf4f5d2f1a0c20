"""Make this checkout importable and runnable as the collection ``sensa.infra``.

The repository root *is* the collection. Ansible and Python find it through
``.local/collections/ansible_collections/sensa/infra``, a symlink to the root that the
set-up scripts and the test session create (``.local/`` is git-ignored).
"""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_DIR = os.path.join(REPO_ROOT, ".local", "collections")


def ensure_collection_link():
    namespace_dir = os.path.join(COLLECTIONS_DIR, "ansible_collections", "sensa")
    link = os.path.join(namespace_dir, "infra")
    os.makedirs(namespace_dir, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(os.path.relpath(REPO_ROOT, namespace_dir), link)
    if COLLECTIONS_DIR not in sys.path:
        sys.path.insert(0, COLLECTIONS_DIR)
    return link
