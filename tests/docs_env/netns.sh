#!/usr/bin/env bash
# Runs inside `unshare --net --mount` (tests/docs_env/harness.py starts it):
# a private network with only loopback, where the documentation's example
# hosts (idp.example.com, api.example.com, ...) resolve to an address on
# loopback, and a private D-Bus session with a throw-away keyring.  Nothing of
# this reaches the machine's own network, /etc/hosts or keyring.
#   netns.sh HOSTS_FILE ADDRESS COMMAND [ARG...]
set -euo pipefail
hosts=$1 address=$2
shift 2
ip link set lo up
# A public-looking address, so that the tool's warning about private and
# loopback hosts stays out of the examples, as it would for a real provider.
ip addr add "$address/32" dev lo
mount --bind "$hosts" /etc/hosts
here=$(cd "$(dirname "$0")/../.." && pwd)
# The daemons' own chatter (dbus-daemon's fd-limit notice) would land in the
# examples' output: they get /dev/null as stderr, the command gets ours back.
exec 3>&2 2>/dev/null
exec dbus-run-session -- bash "$here/tests/with-keyring.sh" \
    bash -c 'exec 2>&3 3>&-; exec "$@"' netns "$@"
