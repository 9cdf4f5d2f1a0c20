"""Make this checkout importable and runnable as the collection ``sensa.infra``.

The repository root *is* the collection. Ansible and Python find it through
``collections/ansible_collections/sensa/infra``, a committed symlink to the root (so a fresh
clone resolves ``sensa.infra`` with no set-up step); ``playbooks/collections`` links to it
for the playbooks in ``playbooks/``.
"""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_DIR = os.path.join(REPO_ROOT, "collections")


def ensure_collection_link():
    namespace_dir = os.path.join(COLLECTIONS_DIR, "ansible_collections", "sensa")
    link = os.path.join(namespace_dir, "infra")
    os.makedirs(namespace_dir, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(os.path.relpath(REPO_ROOT, namespace_dir), link)
    if COLLECTIONS_DIR not in sys.path:
        sys.path.insert(0, COLLECTIONS_DIR)
    return link
