"""Stand-in for the pip bootstrap script ansible-test downloads.

`ansible-test sanity --requirements` builds virtualenvs and bootstraps pip in them with a
script it downloads from a host outside the package registries this project may reach,
so it fails here as shipped. It first looks for that script in
~/.ansible/test/cache/get_pip_<version>.py; scripts/test.sh copies this file there.

It installs pip from the interpreter's own bundled wheel (ensurepip), then runs
`pip install` with the arguments ansible-test gave, minus --no-setuptools/--no-wheel,
keeping the machine's pip configuration (index, certificates), which ensurepip would
otherwise hide by pointing PIP_CONFIG_FILE at /dev/null.
"""

import ensurepip
import os
import subprocess
import sys

saved_environ = dict(os.environ)
ensurepip.bootstrap()
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
if args:
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args], env=saved_environ))
