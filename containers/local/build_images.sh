#!/usr/bin/env bash
# Build both images on this machine with podman, offline from any image registry:
#   1. the Dockerfiles' base image (python:3.11.13-slim-bookworm) made from Debian's packages
#      (debootstrap from the machine's apt mirror, Python 3.11 in a venv at /usr/local as in the
#      official image, the machine's CA bundle), imported under that name, about 2 minutes, once;
#   2. localhost/callscope-diarization:dev and localhost/callscope-transcription:dev from the
#      repository (packages from PyPI; torch from the machine's local wheels where pip has some).
# Then tests/test_images.py runs both (`make test-images`). Prints each image's size.
set -euo pipefail
cd "$(dirname "$0")/../.."
PODMAN=containers/local/podman.sh
BASE=docker.io/library/python:3.11.13-slim-bookworm
TAG="${CALLSCOPE_IMAGE_TAG:-dev}"

if ! command -v podman > /dev/null || ! command -v debootstrap > /dev/null || ! command -v runc > /dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "build_images.sh: needs podman, runc and debootstrap (apt-get install podman runc debootstrap)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap > /dev/null
fi

if ! $PODMAN image exists "$BASE"; then
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2> /dev/null | head -n 1)"
  mirror="${mirror:-$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2> /dev/null)}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  echo "base image: debootstrap bookworm from $mirror"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-dev,python3-pip \
    bookworm "$root" "$mirror" > "$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; exit 1; }
  chroot "$root" python3 -m venv /usr/local
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | $PODMAN import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$BASE" > /dev/null
fi

# Wheels pip finds on this machine (its find-links), mounted into the build: torch's CPU build here.
build_options=(--pull=never --network host --build-arg TORCH_INDEX_URL=)
links="$(pip config get global.find-links 2> /dev/null || true)"
if [ -n "$links" ] && [ -d "$links" ]; then
  build_options+=(--volume "$links:$links:ro" --build-arg "PIP_FIND_LINKS=$links")
fi

for kind in diarization transcription; do
  started=$SECONDS
  $PODMAN build "${build_options[@]}" -f "containers/$kind/Dockerfile" -t "localhost/callscope-$kind:$TAG" . \
    > "/tmp/callscope-image-$kind.log" 2>&1 || { tail -n 30 "/tmp/callscope-image-$kind.log" >&2; exit 1; }
  size="$($PODMAN image inspect --format '{{.Size}}' "localhost/callscope-$kind:$TAG")"
  echo "localhost/callscope-$kind:$TAG: $((size / 1000000)) MB, built in $((SECONDS - started)) s"
done
