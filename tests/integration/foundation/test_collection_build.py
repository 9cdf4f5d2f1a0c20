"""`ansible-galaxy collection build` -> `install` -> `ansible-doc` for every module of ours."""

import glob
import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def installed_collection(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("build")
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", repo_root, "--output-path",
                            str(out), "--force"], capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarballs = glob.glob(str(out / "sensa-infra-*.tar.gz"))
    assert len(tarballs) == 1
    dest = tmp_path_factory.mktemp("collections")
    install = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", tarballs[0], "-p",
                              str(dest), "--no-deps", "--force"], capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    root = dest / "ansible_collections" / "sensa" / "infra"
    assert (root / "MANIFEST.json").exists()
    return dest, tarballs[0]


def test_tarball_leaves_out_local_state(installed_collection):
    _dest, tarball = installed_collection
    listing = subprocess.run(["tar", "-tzf", tarball], capture_output=True, text=True, check=True).stdout.split()
    assert not [n for n in listing if n.startswith((".venv", ".local", ".git/", "tests/output"))]
    assert "plugins/modules/pg_migrate.py" in listing and "files/sql/migrations" in " ".join(listing)


def module_names(repo_root):
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(repo_root, "plugins", "modules", "*.py")))


def test_ansible_doc_renders_every_module(installed_collection, repo_root):
    dest, _tarball = installed_collection
    empty_cfg = dest / "ansible.cfg"
    empty_cfg.write_text("[defaults]\n")
    # Only the installed copy: the checkout's own ansible.cfg (which links the repo) is not used.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_CONFIG=str(empty_cfg))
    names = module_names(repo_root)
    assert "pg_migrate" in names
    for name in names:
        doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "sensa.infra." + name], capture_output=True,
                             text=True, env=env, check=False)
        assert doc.returncode == 0, (name, doc.stderr)
        assert "sensa.infra." + name in doc.stdout and "EXAMPLES" in doc.stdout and "OPTIONS" in doc.stdout, name
