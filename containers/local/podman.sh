#!/usr/bin/env bash
# podman as it works on a machine without systemd or a cgroup manager (CI, these sandboxes): runc,
# cgroupfs, and no default ulimits (containers/local/containers.conf). Any podman arguments follow.
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
exec podman --runtime runc --cgroup-manager cgroupfs "$@"
