#!/bin/sh
# Runs "$@" in a network namespace of its own (a user namespace maps us to root there), with its
# own loopback: a test that binds the demo's fixed ports (8000, 8080, 9901) neither meets a demo
# or another test run on this machine nor blocks one. Where unprivileged user namespaces are not
# allowed (some containers), runs "$@" on the host's loopback and says so.
if unshare -rn true 2>/dev/null; then
  exec unshare -rn sh -c 'ip link set lo up && export DPUGUARD_PRIVATE_NET=1 && exec "$@"' sh "$@"
fi
echo "in_private_net.sh: no user namespaces here: running on the host's loopback" >&2
exec "$@"
