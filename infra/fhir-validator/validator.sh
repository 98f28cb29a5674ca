#!/usr/bin/env bash
# The HL7 FHIR R4 validator (HAPI FHIR) for tests, offline: jars from Maven Central only.
#
# Usage: infra/fhir-validator/validator.sh build
#        infra/fhir-validator/validator.sh run [DEFINITION.json ...]
#
# `build` fetches the runtime classpath into var/fhir-validator/libs (mvn, once per change of
# pom.xml) and compiles FhirValidatorServer.java into var/fhir-validator/classes (javac, once
# per change of the source); a stamp of both makes a second build a no-op. `run` builds if
# needed, then becomes the validator: FHIR JSON resources, one per line, on stdin; one JSON
# array of issues per line on stdout, after a first line "ready". The DEFINITION files are
# conformance resources (StructureDefinitions, CodeSystems) loaded next to R4 core.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$ROOT/infra/fhir-validator
CACHE=$ROOT/var/fhir-validator
LIBS=$CACHE/libs
CLASSES=$CACHE/classes
MAIN=$SRC/src/main/java/medoffice/FhirValidatorServer.java

log() { echo "fhir-validator: $*" >&2; }
die() { echo "fhir-validator: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "'$1' not found on PATH; $2"; }

sha() {
	if command -v sha256sum >/dev/null; then cat "$@" | sha256sum; else cat "$@" | shasum -a 256; fi |
		cut -d' ' -f1
}

build() {
	local stamp=$CACHE/build.stamp want
	want=$(sha "$SRC/pom.xml" "$MAIN")
	# Written only after a complete build, so a half-done one is redone.
	if [[ -d $LIBS && -d $CLASSES && -f $stamp && $(<"$stamp") == "$want" ]]; then return; fi
	need java "install a JDK 17+ (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless)"
	need javac "install a JDK 17+, not only a JRE"
	need mvn "install Maven 3 (Debian/Ubuntu: apt-get install maven); it fetches HAPI FHIR"
	mkdir -p "$CACHE"
	rm -f "$stamp"
	if [[ ! -d $LIBS || ! -f $CACHE/libs.stamp || $(<"$CACHE/libs.stamp") != $(sha "$SRC/pom.xml") ]]; then
		log "fetching HAPI FHIR jars from Maven Central into $LIBS"
		rm -rf "$LIBS" "$LIBS.tmp" "$CACHE/libs.stamp"
		if ! mvn -q -B -f "$SRC/pom.xml" dependency:copy-dependencies \
			-DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1; then
			cat "$CACHE/mvn.log" >&2
			die "mvn could not fetch the HAPI FHIR jars (output above)"
		fi
		mv "$LIBS.tmp" "$LIBS"
		sha "$SRC/pom.xml" >"$CACHE/libs.stamp"
	fi
	rm -rf "$CLASSES" "$CLASSES.tmp"
	javac -nowarn -d "$CLASSES.tmp" -cp "$LIBS/*" "$MAIN"
	mv "$CLASSES.tmp" "$CLASSES"
	echo "$want" >"$stamp"
}

case ${1:-} in
build) build ;;
run)
	shift
	build
	# HAPI logs its warnings to stderr (slf4j-simple); stdout is the protocol only.
	exec java -Xss4m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
		-cp "$CLASSES:$LIBS/*" medoffice.FhirValidatorServer "$@"
	;;
*)
	echo "usage: $0 build | run [DEFINITION.json ...]" >&2
	exit 2
	;;
esac
