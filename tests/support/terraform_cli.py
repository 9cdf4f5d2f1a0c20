"""The real Terraform CLI for tests: find it, find the provider mirror, run it offline.

Nothing here is a stand-in: `terraform` is the CLI on PATH (or SENSA_TERRAFORM_BIN) and
the providers come from a filesystem mirror laid out as
``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/`` (SENSA_TF_PROVIDER_MIRROR,
or found by searching a few usual places). A CLI configuration written into a temporary
directory points TF_CLI_CONFIG_FILE at that mirror and forbids the network registry, so
`terraform init` works without internet. No machine path is ever written into the repo.

Run as a script (``python -m support.terraform_cli``) it prints one line saying which
Terraform and provider versions the real-Terraform stage will use, or exactly why it
cannot run (exit status 3).
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import time

from support import moto_server
from support.collection import REPO_ROOT

TF_DIR = os.path.join(REPO_ROOT, "files", "terraform")
ROOTS = ("development", "production")
PROVIDER = "registry.terraform.io/hashicorp/aws"
# Where mirrors usually live; searched only when SENSA_TF_PROVIDER_MIRROR is unset.
MIRROR_SEARCH_ROOTS = ("/opt", "/usr/local/share", "/usr/share", "/var/lib", os.path.expanduser("~"))
MIRROR_SEARCH_DEPTH = 4


class Unavailable(Exception):
    """Real Terraform cannot run here; the message says why."""


def terraform_binary():
    override = os.environ.get("SENSA_TERRAFORM_BIN")
    if override:
        if not os.access(override, os.X_OK):
            raise Unavailable("SENSA_TERRAFORM_BIN=%s is not an executable" % override)
        return override
    found = shutil.which("terraform")
    if not found:
        raise Unavailable("no terraform CLI on PATH (set SENSA_TERRAFORM_BIN to use another one)")
    return found


def _is_mirror(path):
    return bool(glob.glob(os.path.join(path, PROVIDER, "*", "linux_amd64")))


def provider_mirror():
    override = os.environ.get("SENSA_TF_PROVIDER_MIRROR")
    if override:
        if not _is_mirror(override):
            raise Unavailable("SENSA_TF_PROVIDER_MIRROR=%s has no %s/<version>/linux_amd64 tree" % (override, PROVIDER))
        return override
    for top in MIRROR_SEARCH_ROOTS:
        if not os.path.isdir(top):
            continue
        base_depth = top.rstrip(os.sep).count(os.sep)
        for dirpath, dirnames, _files in os.walk(top):
            if os.path.basename(dirpath) == "registry.terraform.io" and os.path.isdir(os.path.join(dirpath, "hashicorp", "aws")):
                mirror = os.path.dirname(dirpath)
                if _is_mirror(mirror):
                    return mirror
            if dirpath.count(os.sep) - base_depth >= MIRROR_SEARCH_DEPTH or os.path.basename(dirpath) in (".venv", "node_modules", ".git"):
                dirnames[:] = []
    raise Unavailable("no %s provider mirror found (set SENSA_TF_PROVIDER_MIRROR to a filesystem mirror directory)" % PROVIDER)


def locked_provider_version():
    """The hashicorp/aws version both roots' .terraform.lock.hcl pin."""
    versions = set()
    for root in ROOTS:
        with open(os.path.join(TF_DIR, root, ".terraform.lock.hcl")) as handle:
            text = handle.read()
        start = text.index('provider "%s"' % PROVIDER)
        line = [ln for ln in text[start:].splitlines() if ln.strip().startswith("version")][0]
        versions.add(line.split("=", 1)[1].strip().strip('"'))
    if len(versions) != 1:
        raise Unavailable("the roots lock different hashicorp/aws versions: %s" % sorted(versions))
    return versions.pop()


def write_cli_config(directory, mirror):
    path = os.path.join(directory, "terraform.tfrc")
    with open(path, "w") as handle:
        handle.write(
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            "    path    = %s\n"
            '    include = ["registry.terraform.io/hashicorp/*"]\n'
            "  }\n"
            "  direct {\n"
            '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
            "  }\n"
            "}\n" % json.dumps(mirror)
        )
    return path


def probe():
    """(terraform_version, provider_version, binary, mirror), or Unavailable."""
    binary = terraform_binary()
    mirror = provider_mirror()
    proc = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Unavailable("%s version failed: %s" % (binary, proc.stderr.strip()))
    tf_version = json.loads(proc.stdout)["terraform_version"]
    provider_version = locked_provider_version()
    if not os.path.isdir(os.path.join(mirror, PROVIDER, provider_version, "linux_amd64")):
        raise Unavailable("the mirror has no hashicorp/aws %s (the version the lock files pin)" % provider_version)
    return tf_version, provider_version, binary, mirror


class Terraform:
    """One root module in one workspace, with its own data directory, against moto."""

    def __init__(self, binary, cli_config, root, data_dir, moto_url, workspace="default"):
        self.binary = binary
        self.root = root
        self.cwd = os.path.join(TF_DIR, root)
        self.data_dir = data_dir
        self.workspace = workspace
        self.timings = {}
        self.env = dict(os.environ)
        self.env.update(moto_server.AWS_TEST_ENV)
        self.env.update(
            TF_CLI_CONFIG_FILE=cli_config,
            TF_DATA_DIR=data_dir,
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            AWS_ENDPOINT_URL=moto_url,
        )
        self.env.pop("TF_WORKSPACE", None)

    def run(self, *args, check=True, timeout=1200, workspace=True):
        env = dict(self.env)
        if workspace:
            env["TF_WORKSPACE"] = self.workspace
        start = time.monotonic()
        proc = subprocess.run([self.binary, *args], cwd=self.cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        self.timings.setdefault(args[0], []).append(round(time.monotonic() - start, 1))
        if check and proc.returncode != 0:
            raise AssertionError(
                "terraform %s failed (exit %d) in %s:\n%s\n%s" % (" ".join(args), proc.returncode, self.root, proc.stdout[-4000:], proc.stderr[-4000:])
            )
        return proc

    def init(self, backend_config):
        argv = ["init", "-input=false", "-no-color"] + ["-backend-config=%s=%s" % item for item in backend_config.items()]
        self.run(*argv, workspace=False)
        if self.workspace != "default":
            listed = self.run("workspace", "list", "-no-color", workspace=False).stdout
            if self.workspace not in [w.strip(" *") for w in listed.splitlines()]:
                self.run("workspace", "new", self.workspace, "-no-color", workspace=False)

    def plan(self, var_file, out=None, extra=()):
        argv = ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-var-file=" + var_file, *extra]
        if out:
            argv.append("-out=" + out)
        proc = self.run(*argv, check=False)
        if proc.returncode not in (0, 2):
            raise AssertionError("terraform plan failed in %s:\n%s" % (self.root, proc.stderr[-6000:]))
        return proc

    def show_json(self, plan_file):
        return json.loads(self.run("show", "-json", plan_file).stdout)


def main():
    try:
        tf_version, provider_version, _binary, _mirror = probe()
    except Unavailable as reason:
        print("real Terraform not run: %s" % reason)
        return 3
    print("real Terraform: Terraform %s, hashicorp/aws %s (filesystem mirror), AWS emulated by moto" % (tf_version, provider_version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
