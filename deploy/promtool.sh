#!/usr/bin/env bash
# Prints the path of a pinned promtool (Prometheus's checker of rules files and expositions),
# built from its Go module the first time and cached in <repo>/var/tools, like kustomize.sh.
# The deploy and metrics tests use it: `check rules` on deploy/monitoring/prometheus/alerts.yaml
# and on the dashboard's queries, `check config` on prometheus.yml as the deployments mount it,
# `check metrics` on a scrape. Its version is the Prometheus image's (tests/deploy).
#
# Usage: deploy/promtool.sh              # build if needed, print the binary's path
#        "$(deploy/promtool.sh)" check rules deploy/monitoring/prometheus/alerts.yaml
set -euo pipefail

VERSION=v0.316.0 # the Go module's version of Prometheus 3.x
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/var/tools/promtool-$VERSION
BIN=$DIR/promtool

if [[ ! -x $BIN ]]; then
	command -v go >/dev/null || {
		echo "promtool.sh: 'go' not found on PATH; install Go 1.24+ (https://go.dev/doc/install)" >&2
		exit 1
	}
	echo "promtool.sh: building promtool $VERSION into $DIR" >&2
	mkdir -p "$DIR"
	# A build dir of its own, so that a half-built binary is never taken for a whole one.
	tmp=$(mktemp -d "$DIR/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Without the service discoveries of the clouds (remove_all_sd): promtool checks files, and
	# the AWS, Azure and Google SDKs would be most of a cold build.
	GOBIN=$tmp GOFLAGS=-mod=mod go install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$VERSION" >&2
	mv "$tmp/promtool" "$BIN"
fi
echo "$BIN"
