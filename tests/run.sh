#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need
# (Debian packages for a real Secret Service, a virtualenv with the project and
# its test extras), starts a private D-Bus session with an unlocked
# gnome-keyring, and runs pytest inside it.  Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v secret-tool >/dev/null || missing+=(libsecret-tools)
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        sudo=(false)
    fi
    echo "tests/run.sh: installing ${missing[*]} (Debian packages)" >&2
    if ! { "${sudo[@]}" apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
               --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "tests/run.sh: could not install ${missing[*]}; the real-keyring tests" \
             "will be skipped (and fail under CI=true)" >&2
    fi
fi

# A real OpenID provider for the discovery tests: panva's oidc-provider (npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [[ $(id -u) == 0 ]]; then
        echo "tests/run.sh: installing nodejs and npm (Debian packages)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends nodejs npm >/dev/null || true
    fi
fi
if command -v npm >/dev/null; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "tests/run.sh: npm ci in tests/oidc failed; the discovery tests will be" \
             "skipped (and fail under CI=true)" >&2
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    exec dbus-run-session -- bash tests/with-keyring.sh .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest "$@"
