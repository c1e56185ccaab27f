#!/usr/bin/env bash
# Everything the test suite needs beyond npm packages, installed or built only when missing:
#   - the test control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#     KWOK), built from Go modules and cached by content (test/cluster/build.sh);
#   - promtool (Debian package prometheus), to lint Hermod's metrics;
#   - Chromium (Debian package chromium), to test the demo page in a real browser;
#   - helm, built from Go modules, to render the chart in tests;
#   - buildah, podman, runc and mmdebstrap (Debian), to build and run the real image
#     (scripts/image-build.sh, test/integration/image.test.ts).
# Run by `npm test` (pretest). Skips the control plane when HERMOD_TEST_KUBECONFIG names an
# existing cluster. Never fails for a missing optional tool: the tests that need it say why.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $1 is missing and cannot be installed here (not root, or no apt-get); tests that need it will fail with a clear message" >&2
    return 0
  fi
  echo "setup: installing Debian package(s): $*" >&2
  if [ ! -f /tmp/.hermod-apt-updated ]; then
    apt-get update -qq >&2 && touch /tmp/.hermod-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

command -v promtool >/dev/null 2>&1 || apt_install prometheus
command -v chromium >/dev/null 2>&1 || apt_install chromium
# Emoji in Slack messages render as boxes in the demo page screenshot without a colour emoji font.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || apt_install fonts-noto-color-emoji
# The image test: buildah builds, podman runs (with runc: crun fails on hybrid cgroups), mmdebstrap makes the bases.
for tool in buildah podman runc mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || { apt_install buildah podman runc mmdebstrap; break; }
done

# helm is in no registry here but Go modules: build it once (about 1.5 min) into ~/go/bin.
HELM_VERSION=v3.22.0
if ! command -v helm >/dev/null 2>&1 && [ ! -x "${HOME}/go/bin/helm" ]; then
  if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
    echo "setup: building helm $HELM_VERSION from the Go module proxy" >&2
    PATH="$PATH:/usr/local/go/bin" GOTOOLCHAIN=local CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2 ||
      echo "setup: helm could not be built; the chart rendering tests will be skipped" >&2
  fi
fi

if [ -z "${HERMOD_TEST_KUBECONFIG:-}" ] && [ -z "${HERMOD_CLUSTER_BIN:-}" ]; then
  bash test/cluster/build.sh >/dev/null
fi
