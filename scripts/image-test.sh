#!/usr/bin/env bash
# Builds Hermod's image (scripts/image-build.sh) and runs it against the local control
# plane and the local Slack (test/integration/image.test.ts), through the cluster lock the
# integration tests share on this machine. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/image-build.sh >/dev/null
built=$(date +%s)
echo "image-test: image built in $((built - start)) s" >&2
flock /tmp/hermod-cluster.lock node --import tsx --conditions=development --test --test-concurrency=1 \
  --test-reporter=spec test/integration/image.test.ts
echo "image-test: built and tested in $(($(date +%s) - start)) s" >&2
