#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need
# (Debian packages for a real Secret Service, a virtualenv with the project and
# its test extras), runs ruff and mypy, starts a private D-Bus session with an
# unlocked gnome-keyring, and runs pytest inside it.  Arguments go to pytest.
#
# npm ci and pip install run only when their inputs changed since the last
# successful install: a stamp file holds the hash of those inputs.  A fresh
# clone has no stamp, so it installs everything.
set -euo pipefail
cd "$(dirname "$0")/.."

# The hash of the named files (and of any extra text on stdin).
inputs_hash() {
    { cat; cat "$@"; } | sha256sum | cut -d' ' -f1
}
# True when the stamp file $1 holds the hash $2.
stamp_matches() {
    [[ -f $1 && $(cat "$1") == "$2" ]]
}

missing=()
command -v dbus-run-session >/dev/null || missing+=(dbus-daemon)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v secret-tool >/dev/null || missing+=(libsecret-tools)
command -v curl >/dev/null || missing+=(curl)  # tests/test_exec.py's one-liners
command -v lighttpd >/dev/null || missing+=(lighttpd)  # tests/test_signing_digest.py's SHA-256 server
# tests/test_docs.py runs the documentation's examples in a private network.
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
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
        echo "tests/run.sh: could not install ${missing[*]}; the tests that need them" \
             "will be skipped or fail (and fail under CI=true)" >&2
    fi
fi

# Node.js and npm, for the npm packages below (a real OpenID provider, Newman).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [[ $(id -u) == 0 ]]; then
        echo "tests/run.sh: installing nodejs and npm (Debian packages)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends nodejs npm >/dev/null || true
    fi
fi
if command -v npm >/dev/null; then
    # oidc-provider for the discovery tests; Postman's Newman for the scanner tests.
    # Postman's OpenAPI converter and collection SDK, and public OpenAPI descriptions,
    # for the import tests.
    for npm_dir in tests/oidc tests/newman tests/postman; do
        npm_stamp=$npm_dir/node_modules/.astra-auth-installed
        npm_hash=$(node --version | inputs_hash "$npm_dir/package-lock.json")
        if ! stamp_matches "$npm_stamp" "$npm_hash"; then
            if (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
                echo "$npm_hash" >"$npm_stamp"
            else
                echo "tests/run.sh: npm ci in $npm_dir failed; the tests that need it will" \
                     "be skipped (and fail under CI=true)" >&2
            fi
        fi
    done
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
pip_stamp=.venv/.astra-auth-installed
# The version lives in core/version.py and goes into the installed metadata.
pip_hash=$(.venv/bin/python --version | inputs_hash pyproject.toml src/astra_auth/core/version.py)
if ! stamp_matches "$pip_stamp" "$pip_hash"; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,docs]'
    echo "$pip_hash" >"$pip_stamp"
fi

# Lint, types and layers first: a minute of tests is wasted on code that does
# not pass these.  lint-imports checks pyproject's [tool.importlinter] contracts.
.venv/bin/python -m ruff check src tests
.venv/bin/python -m mypy
.venv/bin/lint-imports --no-cache --no-logo
# The documentation site: --strict fails on a broken link or anchor, or a page
# missing from the navigation (mkdocs.yml).  Not --quiet: it hides the
# warnings that --strict counts, and the build passes.
site_dir=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --site-dir "$site_dir"
rm -rf "$site_dir"

# Two workers (pytest-xdist), one per core of the CI machine; the arguments
# come after, so `-n0` runs everything in one process (for pdb or -s) and `-n 4`
# uses more.  Workers share the one keyring below: tests/README.md says how
# tests keep out of each other's way.
pytest=(.venv/bin/python -m pytest -n 2 "$@")
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    exec dbus-run-session -- bash tests/with-keyring.sh "${pytest[@]}"
fi
exec "${pytest[@]}"
