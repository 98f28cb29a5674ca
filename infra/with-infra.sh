#!/usr/bin/env bash
# Run CMD with Kafka and a MongoDB-wire server available:  infra/with-infra.sh CMD [ARGS...]
#
# If MEDOFFICE_KAFKA_BOOTSTRAP and MEDOFFICE_MONGO_URL are both set (CI services, or your own
# `make infra-up`: `export $(cat var/infra/env)`), CMD just runs against those.
# Otherwise this starts a private set with infra/infra.sh in its own state dir (Kafka, FerretDB
# and the PostgreSQL cluster FerretDB stores in), so it never clashes with an `infra-up` set, on
# the default ports when free and on free ones otherwise; it always stops them afterwards and
# exits with CMD's exit code.
set -euo pipefail

if (($# == 0)); then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi
if [[ -n ${MEDOFFICE_KAFKA_BOOTSTRAP:-} && -n ${MEDOFFICE_MONGO_URL:-} ]]; then
	exec "$@"
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || PY=python3

# Prints "broker controller mongo postgres" ports: the preferred ones (env or 9092/9093/27017,
# any for PostgreSQL) if bindable, else ports the kernel hands out as free. Sockets stay bound
# until all four are chosen, so the picks are distinct.
read -r kafka_port controller_port mongo_port postgres_port < <(
	"$PY" - "${MEDOFFICE_KAFKA_PORT:-9092}" "${MEDOFFICE_KAFKA_CONTROLLER_PORT:-9093}" \
		"${MEDOFFICE_MONGO_PORT:-27017}" <<-'EOF'
		import socket, sys
		held = []

		def grab(port):
		    s = socket.socket()
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		    try:
		        s.bind(("127.0.0.1", port))
		    except OSError:
		        return None
		    held.append(s)
		    return s.getsockname()[1]

		kafka, controller, mongo = map(int, sys.argv[1:])
		kafka, controller = grab(kafka), grab(controller)
		if kafka is None or controller is None:
		    kafka, controller = grab(0), grab(0)
		print(kafka, controller, grab(mongo) or grab(0), grab(0))
	EOF
)

state=$ROOT/var/infra/runs/$$
infra() {
	MEDOFFICE_INFRA_DIR=$state MEDOFFICE_KAFKA_PORT=$kafka_port \
		MEDOFFICE_KAFKA_CONTROLLER_PORT=$controller_port MEDOFFICE_MONGO_PORT=$mongo_port \
		MEDOFFICE_POSTGRES_PORT=$postgres_port "$ROOT/infra/infra.sh" "$@"
}

# Runs on every exit (CMD done, `up` failed, Ctrl-C): stop the servers, drop their data, and
# keep the logs only when something failed.
# shellcheck disable=SC2317,SC2329 # invoked by the trap (the code differs by version)
cleanup() {
	local rc=$?
	infra down || true
	if ((rc == 0)); then
		rm -rf "$state"
		rmdir "$ROOT/var/infra/runs" 2>/dev/null || true # if no other run is using it
	else
		rm -rf "$state/kafka/data" "$state/ferretdb/data" "$state/postgresql"
		echo "with-infra: exit code $rc; server logs kept in $state" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `up` prints the MEDOFFICE_*=... lines for clients; export exactly those.
env_lines=$(infra up)
while IFS= read -r line; do
	export "${line?}" # the line is NAME=value
done <<<"$env_lines"
echo "with-infra: Kafka $MEDOFFICE_KAFKA_BOOTSTRAP, MongoDB $MEDOFFICE_MONGO_URL" >&2

# The test running now, kept by tests/conftest.py: a run killed by a signal (a crash, a kill)
# reports nothing of its own, and this says where it was.
export MEDOFFICE_TEST_RUNNING_FILE="$state/running-test"
rc=0
"$@" || rc=$?
if ((rc > 128)) && [[ -s $MEDOFFICE_TEST_RUNNING_FILE ]]; then
	echo "with-infra: the command died by signal $((rc - 128)) during $(<"$MEDOFFICE_TEST_RUNNING_FILE")" >&2
fi
exit "$rc"
