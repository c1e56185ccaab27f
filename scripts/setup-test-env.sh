#!/usr/bin/env bash
# Everything the test suite needs beyond npm packages, installed or built only when missing:
#   - the test control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#     KWOK), built from Go modules and cached by content (test/cluster/build.sh);
#   - promtool (Debian package prometheus), to lint Hermod's metrics;
#   - Chromium (Debian package chromium), to test the demo page in a real browser;
#   - helm (an approved version, scripts/test-tools.env), built from Go modules into
#     ~/.cache/hermod/tools/helm-<version>/, to render the chart in tests, and helm-unittest
#     beside it, to run the chart's unit suites (charts/hermod/tests);
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

# The chart-testing tools are in no registry here but Go modules: each is built once, into a
# directory per version under the tools cache (scripts/test-tools.env names the versions;
# test/support/helm.ts looks in the same places). A failed build leaves its reason in
# <dir>/build-failed.txt, which the tests that need the tool print as their skip reason.
# shellcheck source=scripts/test-tools.env
. scripts/test-tools.env
TOOLS_DIR="${HERMOD_CACHE_DIR:-${HOME:?HOME is not set}/.cache/hermod}/tools"
export PATH="$PATH:/usr/local/go/bin"

# build_tool NAME VERSION BINARY COMMAND...: runs COMMAND with $out set to a scratch directory it
# must leave BINARY in, then moves BINARY into $TOOLS_DIR/NAME-VERSION/ (so a half-built binary is
# never found). Prints how long the build took.
build_tool() {
  local name=$1 version=$2 binary=$3 dir="$TOOLS_DIR/$1-$2"
  shift 3
  mkdir -p "$dir"
  if ! command -v go >/dev/null 2>&1; then
    echo "go is not installed (it builds $name from Go modules)" >"$dir/build-failed.txt"
    echo "setup: $name $version cannot be built: go is not installed; the tests that need it will skip and say so" >&2
    return 0
  fi
  local start=$SECONDS log
  out=$(mktemp -d)
  log="$out/build.log"
  echo "setup: building $name $version from Go modules into $dir" >&2
  if ("$@") >"$log" 2>&1 && [ -x "$out/$binary" ]; then
    mv "$out/$binary" "$dir/$binary"
    rm -f "$dir/build-failed.txt"
    echo "setup: built $name $version in $((SECONDS - start)) s" >&2
  else
    { echo "$(go version): building $name $version failed:"; tail -n 5 "$log"; } >"$dir/build-failed.txt"
    cat "$log" >&2
    echo "setup: $name $version could not be built (reason in $dir/build-failed.txt); the tests that need it will skip and say so" >&2
  fi
  rm -rf "$out"
}

# helm, to render the chart (2.5 min cold on 2 idle cores). The version stamp is the one helm's own
# Makefile sets, so `helm version` names the exact release.
build_helm() {
  cd "$out" && GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$out" go install -buildvcs=false \
    -ldflags "-X $HELM_MODULE/internal/version.version=$HELM_VERSION" "$HELM_MODULE/cmd/helm@$HELM_VERSION"
}
helm_found() {
  [ -n "${HELM:-}" ] || [ -x "$TOOLS_DIR/helm-$HELM_VERSION/helm" ] ||
    [ "$(helm version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]
}

# helm-unittest, for the chart unit suites in charts/hermod/tests (about 3 min cold). Its go.mod
# has a replace directive, which `go install module@version` refuses, so the module's source is
# fetched from the Go module proxy and built as the main module, with its own go.mod and go.sum.
build_helm_unittest() {
  cd "$out" && GOTOOLCHAIN=local go mod download -json "$HELM_UNITTEST_MODULE@$HELM_UNITTEST_VERSION" >module.json ||
    { cat module.json; return 1; }
  local src
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' module.json)
  [ -d "$src" ] && cp -r "$src" "$out/src" && chmod -R u+w "$out/src" && cd "$out/src" &&
    GOTOOLCHAIN=local CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$out/helm-unittest" ./cmd/helm-unittest
}

mkdir -p "$TOOLS_DIR"
# One build at a time per machine: a second setup waits here and then finds the tools built.
exec 8>"$TOOLS_DIR/.build.lock"
flock 8 2>/dev/null || true
helm_found || build_tool helm "$HELM_VERSION" helm build_helm
[ -n "${HELM_UNITTEST:-}" ] || [ -x "$TOOLS_DIR/helm-unittest-$HELM_UNITTEST_VERSION/helm-unittest" ] ||
  build_tool helm-unittest "$HELM_UNITTEST_VERSION" helm-unittest build_helm_unittest
exec 8>&-

if [ -z "${HERMOD_TEST_KUBECONFIG:-}" ] && [ -z "${HERMOD_CLUSTER_BIN:-}" ]; then
  bash test/cluster/build.sh >/dev/null
fi
