#!/usr/bin/env bash
# Builds the test control plane (the multi-call `kube` binary: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler; and `kwok`) into a
# content-keyed cache directory, once per machine:
#
#   ${HERMOD_CACHE_DIR:-$HOME/.cache/hermod}/cluster/<key>/bin/{kube,kwok}
#
# <key> is the sha256 of go.mod, go.sum, main.go, this script and the KWOK
# version, so any change to the inputs builds into a fresh directory.
#
# Progress goes to stderr; the bin directory is printed on stdout as the last
# line, so callers can do:  bin=$(test/cluster/build.sh)
set -euo pipefail

KWOK_VERSION=v0.8.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root="${HERMOD_CACHE_DIR:-${HOME:?HOME is not set}/.cache/hermod}/cluster"

log() { printf '[cluster build %4ds] %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'control plane build FAILED: %s\n' "$*" >&2; exit 1; }

key=$(
	cd "$here"
	{
		for f in go.mod go.sum main.go build.sh; do
			printf '== %s\n' "$f"
			cat "$f"
		done
		printf '== kwok %s\n' "$KWOK_VERSION"
	} | sha256sum | cut -d' ' -f1
)
dir="$cache_root/$key"
bin="$dir/bin"

cached() { [ -x "$bin/kube" ] && [ -x "$bin/kwok" ]; }

if cached; then
	echo "control plane: cached at $dir" >&2
	echo "$bin"
	exit 0
fi

# --- preconditions ------------------------------------------------------------
export GOTOOLCHAIN=local CGO_ENABLED=0
if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		export PATH="/usr/local/go/bin:$PATH"
	else
		die "'go' was not found on PATH (Go >= 1.26 is needed to build the control plane;
  or set HERMOD_CLUSTER_BIN to a directory holding prebuilt kube and kwok binaries,
  or HERMOD_TEST_KUBECONFIG to use an existing cluster)"
	fi
fi
go_version=$(go env GOVERSION)
case "$go_version" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "Go >= 1.26 is needed (found $go_version)" ;;
esac

mkdir -p "$cache_root"

# Serialise concurrent builds (two test processes starting at once): the
# second one waits here and then finds the cache filled.
exec 9>"$cache_root/.build.lock"
if ! flock -n 9; then
	log "another build of the control plane is running; waiting for it"
	flock 9
fi
if cached; then
	echo "control plane: cached at $dir" >&2
	echo "$bin"
	exit 0
fi

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$here/go.mod")
[ -n "$k8s_version" ] || die "cannot read the k8s.io/kubernetes version from $here/go.mod"
log "building the control plane (k8s.io/kubernetes $k8s_version, kwok $KWOK_VERSION) with $go_version"
log "cache dir: $dir"
log "a cold build takes about 7 minutes and 3 GB of memory on 2 cores; later runs reuse the cache"

# --- modules ------------------------------------------------------------------
log "downloading Go modules (GOPROXY=$(go env GOPROXY))"
if ! (cd "$here" && go mod download) >"$cache_root/.download.log" 2>&1; then
	cat "$cache_root/.download.log" >&2
	die "could not download the Go modules: is the Go module proxy ($(go env GOPROXY)) reachable?"
fi

# --- version stamps -------------------------------------------------------------
# Without these the components report v0.0.0. The build date is the release's
# publication time, which keeps the binary independent of when it was built.
ver=${k8s_version#v}
major=${ver%%.*}
minor=${ver#*.}
minor=${minor%%.*}
build_date=$(cd "$here" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
build_date=${build_date:-1970-01-01T00:00:00Z}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version"
	ldflags+=" -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

tmp="$dir.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp/bin"

# --- kube (etcd + apiserver + controller-manager + scheduler) -----------------
log "compiling kube (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)"
start=$SECONDS
(cd "$here" && nice go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp/bin/kube" .) ||
	die "go build of $here failed (see above)"
log "kube built in $((SECONDS - start))s"
reported=$("$tmp/bin/kube" version) || die "the built kube binary does not run"
[ "$reported" = "$k8s_version" ] || die "kube reports version '$reported', expected $k8s_version"

# --- kwok -----------------------------------------------------------------------
log "compiling kwok $KWOK_VERSION"
start=$SECONDS
(cd "$tmp" && GOBIN="$tmp/bin" nice go install -p 2 -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") ||
	die "go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION failed (see above)"
log "kwok built in $((SECONDS - start))s"

# --- publish atomically -----------------------------------------------------------
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
log "done in ${SECONDS}s: $bin"

# Builds for other inputs (older checkouts) are ~200 MB each: drop those
# unused for a week. Running clusters keep working (their files stay open).
find "$cache_root" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{64}' \
	! -name "$key" -mtime +7 -exec rm -rf {} + 2>/dev/null || true
echo "$bin"
