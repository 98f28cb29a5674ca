#!/usr/bin/env bash
# The browser the console's tests drive: Debian's chromium and its chromedriver (Selenium talks
# to the driver). Installed from apt when missing (as root, or through sudo); nothing is
# downloaded when both are on PATH already.
#
# Usage: infra/browser.sh install    # install if missing, print the two binaries' paths
#        infra/browser.sh check      # exit 1, saying what is missing, without installing
set -euo pipefail

PACKAGES=(chromium chromium-driver)

# Prints what is not on PATH; fails when anything is missing.
all_present() {
	local ok=0
	command -v chromium >/dev/null || { echo "chromium"; ok=1; }
	command -v chromedriver >/dev/null || { echo "chromedriver"; ok=1; }
	return $ok
}

case ${1:-install} in
check)
	if ! gone=$(all_present); then
		echo "browser.sh: missing: $gone (run infra/browser.sh install)" >&2
		exit 1
	fi
	;;
install)
	if ! all_present >/dev/null; then
		command -v apt-get >/dev/null || {
			echo "browser.sh: no apt-get here; install chromium and chromedriver yourself" >&2
			exit 1
		}
		sudo=()
		[[ $(id -u) -eq 0 ]] || sudo=(sudo)
		echo "browser.sh: installing ${PACKAGES[*]} from apt" >&2
		"${sudo[@]}" apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
			"${PACKAGES[@]}" >&2
	fi
	;;
*)
	echo "usage: $0 install|check" >&2
	exit 2
	;;
esac
command -v chromium
command -v chromedriver
