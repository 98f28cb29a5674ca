#!/usr/bin/env bash
# Test infrastructure without Docker: a single-node Kafka 4.x broker (KRaft; jars from Maven
# Central) and FerretDB 1.24 (MongoDB wire protocol; built from infra/ferretdb) on a private
# PostgreSQL cluster (Debian's `postgresql` package, installed when missing). All listen on
# 127.0.0.1 only.
#
# Why PostgreSQL: FerretDB on SQLite answers no query from an index (its EXPLAIN says SCAN, `_id`
# equality included), so every stream load or read-model query scanned its collection. On
# PostgreSQL, with infra/ferretdb/indexes.sql (GIN indexes beside FerretDB's btree ones) and
# infra/ferretdb/pushdown.patch (`_id` equality, `$in` and numeric ranges pushed down as
# index-friendly SQL), the hot queries are index scans. When PostgreSQL cannot be installed (no
# apt), FerretDB runs on SQLite as before, after a loud notice: slower, never red for that.
#
# Usage: infra/infra.sh install|up|down|status
#
# Environment:
#   MEDOFFICE_KAFKA_PORT             broker port (default 9092)
#   MEDOFFICE_KAFKA_CONTROLLER_PORT  KRaft controller port (default: broker port + 1)
#   MEDOFFICE_MONGO_PORT             FerretDB port (default 27017)
#   MEDOFFICE_POSTGRES_PORT          PostgreSQL's loopback port (default: a free one)
#   MEDOFFICE_FERRETDB_BACKEND       postgresql, sqlite, or auto (default: postgresql, falling
#                                    back to sqlite with a notice when it cannot be installed)
#   MEDOFFICE_INFRA_DIR              run state: PID files, logs, data (default <repo>/var/infra)
#   MEDOFFICE_INFRA_TIMEOUT          seconds `up` waits for both servers (default 90)
#
# The jars and the FerretDB binary always live in <repo>/var/infra, shared by all state dirs.
# `up` starts both servers on empty data every time: this infra is disposable, and a Kafka log
# kept while the event store is wiped (or the other way round) would only confuse tests.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$ROOT/var/infra
KAFKA_LIBS=$CACHE/kafka/libs
FERRETDB_BIN=$CACHE/bin/medoffice-ferretdb

# Absolute, because it ends up in the servers' command lines, which `down` checks.
STATE=$(mkdir -p "${MEDOFFICE_INFRA_DIR:-$CACHE}" && cd "${MEDOFFICE_INFRA_DIR:-$CACHE}" && pwd)
BACKEND=${MEDOFFICE_FERRETDB_BACKEND:-auto}
PG_PORT='' # chosen in `up` when FerretDB runs on PostgreSQL
PG_BIN=''
KAFKA_PORT=${MEDOFFICE_KAFKA_PORT:-9092}
CONTROLLER_PORT=${MEDOFFICE_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
MONGO_PORT=${MEDOFFICE_MONGO_PORT:-27017}
TIMEOUT=${MEDOFFICE_INFRA_TIMEOUT:-90}

# The project venv has aiokafka (for the readiness check); any python3 does for the rest.
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || PY=$(command -v python3 || true)

log() { echo "infra: $*" >&2; }
die() { echo "infra: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "'$1' not found on PATH; $2"; }

sha() { # of the files' concatenation; sha256sum on Linux, shasum on macOS
	if command -v sha256sum >/dev/null; then cat "$@" | sha256sum; else cat "$@" | shasum -a 256; fi |
		cut -d' ' -f1
}

# ---------------------------------------------------------------------------------- install

need_java() {
	need java "install a JDK 17+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
	local v
	v=$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
	# Kafka 4 brokers need Java 17; Java 8 reports "1.8", hence the ${v%%.*}.
	if [[ ! ${v%%.*} =~ ^[0-9]+$ ]] || ((${v%%.*} < 17)); then
		die "Kafka 4 needs Java 17+, found java.specification.version=$v"
	fi
}

install_kafka() {
	local pom=$ROOT/infra/kafka/pom.xml stamp=$CACHE/kafka/libs.stamp want
	want=$(sha "$pom")
	# The stamp is written only after a complete download, so a half-filled libs dir is redone.
	if [[ -d $KAFKA_LIBS && -f $stamp && $(<"$stamp") == "$want" ]]; then return; fi
	need mvn "install Maven 3 (Debian/Ubuntu: apt-get install maven); it fetches the Kafka jars"
	log "fetching Kafka jars from Maven Central into $KAFKA_LIBS"
	rm -rf "$KAFKA_LIBS" "$KAFKA_LIBS.tmp" "$stamp"
	# Output only matters on failure (even -q -B prints stray ANSI codes on success).
	if ! mvn -q -B -f "$pom" dependency:copy-dependencies \
		-DoutputDirectory="$KAFKA_LIBS.tmp" -DincludeScope=runtime >"$CACHE/kafka/mvn.log" 2>&1; then
		cat "$CACHE/kafka/mvn.log" >&2
		die "mvn could not fetch the Kafka jars (output above)"
	fi
	mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
	echo "$want" >"$stamp"
}

# FerretDB from the Go module proxy, with infra/ferretdb/pushdown.patch applied to a copy of its
# module in $CACHE/ferretdb-build (a `replace` points the build there); both backends built in.
install_ferretdb() {
	local src=$ROOT/infra/ferretdb stamp=$FERRETDB_BIN.stamp want build=$CACHE/ferretdb-build dir
	want=$(sha "$src/go.mod" "$src/go.sum" "$src/main.go" "$src/pushdown.patch")
	if [[ -x $FERRETDB_BIN && -f $stamp && $(<"$stamp") == "$want" ]]; then return; fi
	need go "install Go 1.24+ (https://go.dev/doc/install); it builds FerretDB from source"
	need git "install git; it applies infra/ferretdb/pushdown.patch"
	log "building FerretDB into $FERRETDB_BIN (about 90 s the first time)"
	mkdir -p "$(dirname "$FERRETDB_BIN")"
	rm -rf "$build" && mkdir -p "$build"
	cp "$src/go.mod" "$src/go.sum" "$src/main.go" "$build/"
	dir=$(cd "$build" && go mod download github.com/FerretDB/FerretDB &&
		go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
	cp -R "$dir" "$build/FerretDB" && chmod -R u+w "$build/FerretDB"
	# The ceiling keeps git from taking this repo for the patch's root: it applies in place.
	(cd "$build/FerretDB" && GIT_CEILING_DIRECTORIES=$build git apply "$src/pushdown.patch")
	(cd "$build" && go mod edit -replace github.com/FerretDB/FerretDB=./FerretDB &&
		go build -o "$FERRETDB_BIN.tmp" .)
	mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
	echo "$want" >"$stamp"
}

# The newest PostgreSQL server of Debian's packages (/usr/lib/postgresql/<major>/bin), if any.
pg_bin() {
	local dir
	dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n $dir && -x $dir/initdb && -x $dir/postgres && -x $dir/psql ]] && echo "$dir"
}

# Installs Debian's `postgresql` when missing (root with apt-get only), quietly; prints the
# server's bin dir, or fails with the reason on stdout.
install_postgresql() {
	local log=$CACHE/apt-postgresql.log
	pg_bin && return
	command -v apt-get >/dev/null || { echo "no apt-get"; return 1; }
	((EUID == 0)) || { echo "not root, cannot apt-get install postgresql"; return 1; }
	command -v setpriv >/dev/null || { echo "no setpriv (util-linux)"; return 1; }
	log "installing PostgreSQL (apt-get install postgresql)"
	mkdir -p "$CACHE"
	# No "main" cluster of the package's own, started on 5432: ours is initdb'd per run.
	if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
		mkdir -p /etc/postgresql-common
		echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
	fi
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
		-o Dpkg::Options::=--force-confold postgresql)
	if ! "${apt[@]}" >"$log" 2>&1; then
		apt-get update -q >>"$log" 2>&1 || true
		"${apt[@]}" >>"$log" 2>&1 || { echo "apt-get install postgresql failed, see $log"; return 1; }
	fi
	pg_bin || { echo "no server in /usr/lib/postgresql after installing, see $log"; return 1; }
}

cmd_install() {
	need_java
	mkdir -p "$CACHE/kafka"
	install_kafka
	install_ferretdb
	if [[ $BACKEND != sqlite ]]; then
		install_postgresql >/dev/null || true # `up` says why if it matters
	fi
}

# ---------------------------------------------------------------------------------- processes

# What each server's command line must contain for a PID file to count as ours; `down` checks it
# so that a stale PID file never gets a recycled PID (someone else's process) killed.
marker() {
	case $1 in
	kafka) echo "$STATE/kafka/server.properties" ;;
	ferretdb) echo "$STATE/ferretdb/data" ;;
	postgresql) echo "-D $(pg_dir)/data" ;;
	esac
}

alive() { # a zombie (our own child that already died) is not alive
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]
}

# Prints the PID of a server this state dir started, if it still runs.
running_pid() {
	local f=$STATE/$1.pid pid
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	ps -ww -o args= -p "$pid" 2>/dev/null | grep -qF -- "$(marker "$1")" || return 1
	echo "$pid"
}

stop() {
	local svc=$1 pid i signal=TERM
	# PostgreSQL's TERM waits for its clients to leave; INT is its fast shutdown.
	[[ $svc == postgresql ]] && signal=INT
	if pid=$(running_pid "$svc"); then
		log "stopping $svc (pid $pid)"
		kill "-$signal" "$pid" 2>/dev/null || true
		# Kafka's controlled shutdown takes a few seconds; give up after 30.
		for ((i = 0; i < 120; i++)); do
			alive "$pid" || break
			sleep 0.25
		done
		if alive "$pid"; then
			log "$svc (pid $pid) ignored SIGTERM for 30 s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$STATE/$svc.pid"
}

cmd_down() {
	stop kafka
	stop ferretdb
	stop postgresql
	# A cluster put outside the state dir (see pg_dir) is ours to remove.
	if [[ -f $STATE/postgresql.dir ]]; then
		local dir
		dir=$(<"$STATE/postgresql.dir")
		[[ $dir == */medoffice-pg.* ]] && rm -rf "$dir"
		rm -f "$STATE/postgresql.dir"
	fi
	rm -f "$STATE/env"
}

port_free() { # bindable? SO_REUSEADDR, so TIME_WAIT leftovers of the last run don't count
	"$PY" - "$1" <<-'EOF'
		import socket, sys
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		try:
		    s.bind(("127.0.0.1", int(sys.argv[1])))
		except OSError:
		    sys.exit(1)
	EOF
}

free_port() { # one the kernel hands out as free on loopback
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Same format as `kafka-storage.sh random-uuid` (base64url of 16 random bytes, no leading "-"),
# without paying for a JVM start.
cluster_id() {
	"$PY" -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

# setsid puts the servers in their own session, so a Ctrl-C or hang-up in the terminal that ran
# `up` does not take them down half-way; `down` stops them. Without job control, setsid execs in
# place, so $! is the server's own PID. (macOS has no setsid; nohup at least ignores SIGHUP.)
if command -v setsid >/dev/null; then DETACH=(setsid); else DETACH=(nohup); fi

# Where this run's PostgreSQL cluster lives: $STATE/postgresql, or a private dir under /tmp when
# the postgres user cannot reach the state dir (a clone under /root) or the path is too long for
# a unix socket.
pg_dir() {
	if [[ -f $STATE/postgresql.dir ]]; then cat "$STATE/postgresql.dir"; else echo "$STATE/postgresql"; fi
}

as_postgres() { setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; }

# initdb a fresh cluster and start it, in the background. Settings for a disposable test server.
start_postgresql() {
	local dir=$STATE/postgresql
	rm -rf "$dir" "$STATE/postgresql.dir" && mkdir -p "$dir" && chown postgres: "$dir"
	if ((${#dir} > 80)) || ! as_postgres test -w "$dir"; then
		rm -rf "$dir"
		dir=$(mktemp -d "${TMPDIR:-/tmp}/medoffice-pg.XXXXXX") && chown postgres: "$dir"
		echo "$dir" >"$STATE/postgresql.dir"
	fi
	if ! as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
		--no-sync >"$STATE/postgresql.log" 2>&1; then
		cat "$STATE/postgresql.log" >&2
		die "initdb failed"
	fi
	# plan_cache_mode: FerretDB's driver reuses prepared statements, whose generic plans
	# (`_jsonb -> $1`) match no index. fsync=off and synchronous_commit=off: this cluster is
	# thrown away after the run, so its durability buys nothing; NEVER settings for real data.
	"${DETACH[@]}" setpriv --reuid=postgres --regid=postgres --clear-groups -- \
		"$PG_BIN/postgres" -D "$dir/data" -p "$PG_PORT" -k "$dir" \
		-c listen_addresses=127.0.0.1 -c plan_cache_mode=force_custom_plan \
		-c synchronous_commit=off -c fsync=off -c full_page_writes=off \
		-c shared_buffers=128MB -c max_connections=200 \
		>>"$STATE/postgresql.log" 2>&1 </dev/null &
	echo $! >"$STATE/postgresql.pid"
}

# Once PostgreSQL answers: FerretDB's database, with the GIN trigger in it before any table.
setup_postgresql() {
	local dir deadline=$((SECONDS + TIMEOUT))
	dir=$(pg_dir)
	until "$PG_BIN/pg_isready" -q -h "$dir" -p "$PG_PORT" -U postgres; do
		running_pid postgresql >/dev/null || startup_failed "postgresql exited during startup"
		((SECONDS < deadline)) || startup_failed "PostgreSQL not ready after ${TIMEOUT}s"
		sleep 0.1
	done
	local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$PG_PORT" -U postgres)
	if ! { "${psql[@]}" -d postgres -c 'CREATE DATABASE ferretdb' &&
		"${psql[@]}" -d ferretdb -f "$ROOT/infra/ferretdb/indexes.sql"; } >>"$STATE/postgresql.log" 2>&1; then
		startup_failed "could not create FerretDB's database in PostgreSQL"
	fi
}

start_ferretdb() {
	local dir=$STATE/ferretdb backend=()
	rm -rf "$dir/data" && mkdir -p "$dir/data"
	if [[ $BACKEND == postgresql ]]; then
		backend=(-postgresql-url "postgres://postgres@/ferretdb?host=$(pg_dir)&port=$PG_PORT")
	fi
	# -data-dir also marks the process as this state dir's (see marker).
	"${DETACH[@]}" "$FERRETDB_BIN" -listen "127.0.0.1:$MONGO_PORT" -data-dir "$dir/data" \
		"${backend[@]}" -log-level warn >"$dir/ferretdb.log" 2>&1 </dev/null &
	echo $! >"$STATE/ferretdb.pid"
}

start_kafka() {
	local dir=$STATE/kafka
	local java=(java -cp "$KAFKA_LIBS/*"
		-Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties")
	# Only data/: with the default state dir, $dir also holds the downloaded libs/.
	rm -rf "$dir/data" && mkdir -p "$dir/data"
	# Single node acting as broker and KRaft controller. Internal topics get one replica (there is
	# one broker) and one partition (first consumer-group join is faster than with 50).
	cat >"$dir/server.properties" <<-EOF
		process.roles=broker,controller
		node.id=1
		controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
		listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
		advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
		controller.listener.names=CONTROLLER
		listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
		inter.broker.listener.name=PLAINTEXT
		log.dirs=$dir/data
		num.partitions=3
		auto.create.topics.enable=true
		group.initial.rebalance.delay.ms=0
		offsets.topic.replication.factor=1
		offsets.topic.num.partitions=1
		transaction.state.log.replication.factor=1
		transaction.state.log.min.isr=1
		transaction.state.log.num.partitions=1
		share.coordinator.state.topic.replication.factor=1
		share.coordinator.state.topic.min.isr=1
	EOF
	# A fresh log dir must be formatted (KRaft) before the first start.
	if ! "${java[@]}" kafka.tools.StorageTool format --standalone -t "$(cluster_id)" \
		-c "$dir/server.properties" >"$dir/kafka.log" 2>&1; then
		cat "$dir/kafka.log" >&2
		die "formatting the Kafka log dir failed"
	fi
	"${DETACH[@]}" "${java[0]}" -Xmx512m "${java[@]:1}" kafka.Kafka "$dir/server.properties" \
		>>"$dir/kafka.log" 2>&1 </dev/null &
	echo $! >"$STATE/kafka.pid"
}

# Kafka accepts connections a moment before it can serve requests, so besides the port and the
# "started" log line, ask for cluster metadata when the venv has aiokafka.
kafka_answers() {
	[[ -n $HAVE_AIOKAFKA ]] || return 0
	"$PY" - "127.0.0.1:$KAFKA_PORT" <<-'EOF' 2>/dev/null
		import asyncio, sys
		from aiokafka.admin import AIOKafkaAdminClient

		async def main() -> None:
		    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
		    await admin.start()
		    try:
		        assert (await admin.describe_cluster())["brokers"]
		    finally:
		        await admin.close()

		asyncio.run(main())
	EOF
}

startup_failed() {
	log "$1"
	local f
	for f in "$STATE/kafka/kafka.log" "$STATE/ferretdb/ferretdb.log" "$STATE/postgresql.log"; do
		[[ -s $f ]] && { echo "--- last lines of $f" >&2; tail -n 25 "$f" >&2; }
	done
	exit 1 # the EXIT trap in cmd_up stops whatever did start
}

wait_ready() {
	local deadline=$((SECONDS + TIMEOUT)) kafka_ok='' mongo_ok='' svc
	while [[ -z $kafka_ok || -z $mongo_ok ]]; do
		for svc in kafka ferretdb; do
			running_pid "$svc" >/dev/null || startup_failed "$svc exited during startup"
		done
		if [[ $BACKEND == postgresql ]]; then
			running_pid postgresql >/dev/null || startup_failed "postgresql exited during startup"
		fi
		if [[ -z $mongo_ok ]] && port_open "$MONGO_PORT"; then
			mongo_ok=1
			log "FerretDB ready on 127.0.0.1:$MONGO_PORT"
		fi
		if [[ -z $kafka_ok ]] && port_open "$KAFKA_PORT" &&
			grep -q 'Kafka Server started' "$STATE/kafka/kafka.log" && kafka_answers; then
			kafka_ok=1
			log "Kafka ready on 127.0.0.1:$KAFKA_PORT"
		fi
		((SECONDS < deadline)) || startup_failed "not ready after ${TIMEOUT}s"
		[[ -n $kafka_ok && -n $mongo_ok ]] || sleep 0.25
	done
}

cmd_up() {
	[[ -n $PY ]] || die "python3 not found on PATH"
	cmd_install
	local svc pid port why
	if [[ $BACKEND != sqlite ]]; then
		if why=$(install_postgresql) && PG_BIN=$why; then
			BACKEND=postgresql
		elif [[ $BACKEND == postgresql ]]; then
			die "PostgreSQL unavailable ($why) and MEDOFFICE_FERRETDB_BACKEND=postgresql"
		else
			echo "infra: PostgreSQL unavailable ($why); FerretDB on SQLite: queries scan" >&2
			BACKEND=sqlite
		fi
	fi
	if [[ $BACKEND == postgresql ]]; then
		PG_PORT=${MEDOFFICE_POSTGRES_PORT:-$(free_port)}
	fi
	for svc in kafka ferretdb postgresql; do
		if pid=$(running_pid "$svc"); then
			die "$svc already running from $STATE (pid $pid); run '$0 down' first"
		fi
	done
	local ports=("$KAFKA_PORT" "$CONTROLLER_PORT" "$MONGO_PORT" ${PG_PORT:+"$PG_PORT"})
	if (($(printf '%s\n' "${ports[@]}" | sort -u | wc -l) != ${#ports[@]})); then
		die "ports must differ: Kafka $KAFKA_PORT, controller $CONTROLLER_PORT," \
			"FerretDB $MONGO_PORT${PG_PORT:+, PostgreSQL $PG_PORT}"
	fi
	for port in "${ports[@]}"; do
		port_free "$port" || die "port 127.0.0.1:$port is in use (set MEDOFFICE_KAFKA_PORT," \
			"MEDOFFICE_KAFKA_CONTROLLER_PORT, MEDOFFICE_MONGO_PORT or MEDOFFICE_POSTGRES_PORT," \
			"or use infra/with-infra.sh)"
	done
	HAVE_AIOKAFKA=$("$PY" -c 'import aiokafka' 2>/dev/null && echo 1 || true)

	# Whatever goes wrong from here (timeout, crash, Ctrl-C), don't leave half the infra running.
	trap 'cmd_down' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local t0=$SECONDS
	if [[ $BACKEND == postgresql ]]; then
		start_postgresql # first: its start overlaps with Kafka's format step
		start_kafka
		setup_postgresql
		start_ferretdb
	else
		start_ferretdb
		start_kafka
	fi
	wait_ready
	trap - EXIT INT TERM

	printf 'MEDOFFICE_KAFKA_BOOTSTRAP=127.0.0.1:%s\nMEDOFFICE_MONGO_URL=mongodb://127.0.0.1:%s\n' \
		"$KAFKA_PORT" "$MONGO_PORT" | tee "$STATE/env"
	local logs=kafka/kafka.log,ferretdb/ferretdb.log
	[[ $BACKEND == postgresql ]] && logs+=,postgresql.log
	log "up in $((SECONDS - t0)) s, FerretDB on $BACKEND; logs in $STATE/{$logs}"
}

cmd_status() {
	local svc pid rc=0
	for svc in kafka ferretdb postgresql; do
		if pid=$(running_pid "$svc"); then
			echo "$svc: running (pid $pid)"
		elif [[ $svc == postgresql ]]; then
			echo "$svc: stopped" # not needed on the SQLite fallback
		else
			echo "$svc: stopped"
			rc=3
		fi
	done
	[[ -f $STATE/env ]] && cat "$STATE/env"
	return $rc
}

case ${1:-} in
install) cmd_install ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
	echo "usage: $0 install|up|down|status" >&2
	exit 2
	;;
esac
