# A throw-away PostgreSQL server for the tests (sourced, not run).
#
#   pg_start DIR   initdb into DIR/pg as an unprivileged user, start it on a
#                  free loopback port, set PG_URI (trust auth on loopback only)
#   pg_stop        stop it
#
# Needs Debian's postgresql package (initdb, pg_ctl).  pg_start returns 77
# when they are missing.

pg_bin() {
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

pg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
	PG_BIN=$(pg_bin) || return 77
	PG_DIR=$1/pg
	PG_PORT=$(pg_free_port)
	mkdir -p "$PG_DIR"
	# initdb refuses to run as root: run the server as postgres then.
	if [ "$(id -u)" = 0 ]; then
		PG_USER=postgres
		chown postgres "$PG_DIR"
		chmod 755 "$1"
		PG_RUN="runuser -u postgres --"
	else
		PG_USER=$(id -un)
		PG_RUN=
	fi
	$PG_RUN "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --auth=trust \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || return 1
	$PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=on" \
		start >/dev/null 2>&1 || return 1
	PG_URI="postgresql://$PG_USER@127.0.0.1:$PG_PORT/postgres"
	export PG_URI
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	$PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}
