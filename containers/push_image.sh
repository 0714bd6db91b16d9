#!/usr/bin/env bash
# Publish one image to ECR once: create its repository if missing (scan on push, immutable tags),
# then build and push IMAGE_URI unless that tag is already there (a rebuilt commit is not pushed again;
# immutable tags would refuse it anyway). Run from the repository root (the build context).
#
#   containers/push_image.sh DOCKERFILE IMAGE_URI [docker build arguments...]
#   containers/push_image.sh containers/transcription/Dockerfile \
#       111122223333.dkr.ecr.eu-west-1.amazonaws.com/callscope-transcription:abc123-gpu --build-arg GPU=1
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DOCKERFILE IMAGE_URI [docker build arguments...]" >&2
  exit 2
fi
dockerfile="$1"
image="$2"
shift 2
path="${image#*/}"          # callscope-transcription:abc123-gpu
repository="${path%:*}"
tag="${path##*:}"

if ! aws ecr describe-repositories --repository-names "$repository" > /dev/null 2>&1; then
  aws ecr create-repository --repository-name "$repository" \
    --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE > /dev/null
  echo "created ECR repository $repository (scan on push, immutable tags)"
fi
if aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" > /dev/null 2>&1; then
  echo "$image is already in ECR: not built or pushed again"
  exit 0
fi
docker build -f "$dockerfile" -t "$image" "$@" .
docker push "$image"
