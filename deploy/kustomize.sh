#!/usr/bin/env bash
# Prints the path of a pinned kustomize, built from its Go module the first time (about a minute;
# needs Go, like infra/infra.sh's FerretDB) and cached in <repo>/var/tools. The deploy tests use
# it to render deploy/k8s/overlays/*; `kubectl apply -k` does the same rendering.
#
# Usage: deploy/kustomize.sh              # build if needed, print the binary's path
#        "$(deploy/kustomize.sh)" build deploy/k8s/overlays/dev
set -euo pipefail

VERSION=v5.8.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/var/tools/kustomize-$VERSION
BIN=$DIR/kustomize

if [[ ! -x $BIN ]]; then
	command -v go >/dev/null || {
		echo "kustomize.sh: 'go' not found on PATH; install Go 1.24+ (https://go.dev/doc/install)" >&2
		exit 1
	}
	echo "kustomize.sh: building kustomize $VERSION into $DIR" >&2
	mkdir -p "$DIR"
	# A build dir of its own, so that a half-built binary is never taken for a whole one.
	tmp=$(mktemp -d "$DIR/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOBIN=$tmp GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >&2
	mv "$tmp/kustomize" "$BIN"
fi
echo "$BIN"
