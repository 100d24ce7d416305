#!/usr/bin/env bash
# Inside a private D-Bus session: start gnome-keyring's Secret Service with a
# throw-away, unlocked login keyring kept in a temporary folder (never the
# user's own keyring), then run the command given.
set -euo pipefail
data_home=$(mktemp -d)
trap 'rm -rf "$data_home"' EXIT
export XDG_DATA_HOME=$data_home
# The password only protects the throw-away keyring above.
eval "$(printf 'astra-auth-tests' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
