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


# What a consumer of the collection gets, at the top of the tarball. Anything else (the
# Makefile, scripts, tests, Molecule, local state, pins for our own test runs) is workshop.
SHIPPED_TOP_LEVEL = {
    "MANIFEST.json", "FILES.json", "README.md", "COPYING", "CHANGELOG.md", "changelogs", "docs",
    "files", "meta", "plugins", "playbooks", "roles", "inventories", "site.yml",
    "requirements.txt", "execution-environment.yml", "ee",
}
REQUIRED = ("COPYING", "README.md", "plugins/modules/pg_migrate.py", "files/sql/migrations/", "meta/runtime.yml")


def test_tarball_ships_only_the_allow_list(installed_collection):
    _dest, tarball = installed_collection
    listing = subprocess.run(["tar", "-tzf", tarball], capture_output=True, text=True, check=True).stdout.split()
    top_level = {name.split("/")[0] for name in listing if name not in (".", "./")}
    assert top_level - SHIPPED_TOP_LEVEL == set(), "development-only files in the tarball"
    for required in REQUIRED:
        assert any(name == required or name.startswith(required) for name in listing), required
    assert not [name for name in listing if "/collections/" in "/" + name or name.endswith(".tfplan")]


def test_license_file_is_the_one_galaxy_declares(repo_root):
    galaxy = open(os.path.join(repo_root, "galaxy.yml")).read()
    assert "GPL-3.0-or-later" in galaxy
    text = open(os.path.join(repo_root, "COPYING")).read()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text


def test_fresh_clone_resolves_the_collection_without_bootstrap(tmp_path, repo_root):
    """A plain clone (no .local link, no installed sensa.infra) syntax-checks every playbook."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", repo_root, str(clone)], check=True)
    # Only committed files count: the working tree's uncommitted changes are not in the clone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["HOME"] = str(tmp_path)  # no ~/.ansible/collections from an earlier install
    playbooks = ["site.yml"] + sorted(os.path.relpath(p, repo_root)
                                      for p in glob.glob(os.path.join(repo_root, "playbooks", "*.yml")))
    for playbook in playbooks:
        run = subprocess.run([os.path.join(BIN, "ansible-playbook"), playbook, "--syntax-check", "-i",
                              "inventories/local"], cwd=clone, env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, (playbook, run.stdout + run.stderr)


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
