# Shared helpers for the integration tests (sourced, not run).
#
# Each test makes a throw-away instance in a fresh temporary directory: a
# config, database, spool, secret key and a COPY of the built programs (the
# build tree may sit where the web server's user cannot read it).  Servers
# run from minimal config files of their own in that directory, include the
# repository's snippets with only addresses and paths substituted, and are
# stopped -- and the directory removed -- on any exit.
#
# Output is TAP for automake's tap-driver.sh.  The plan is printed at the end
# (done_testing), so a script that dies half-way is reported as an error.
#
# Environment: top_srcdir and top_builddir (absolute; automake sets them).
# STACKHOOK_TEST_KEEP=1 keeps the temporary directory for a post-mortem.

set -u

: "${top_srcdir:?top_srcdir must be set (absolute path of the source tree)}"
: "${top_builddir:?top_builddir must be set (absolute path of the build tree)}"

# Owner of the instance when the tests run as root: init hands the files to
# it and the servers drop to it, as in a real deployment.
if [ "$(id -u)" = 0 ]; then
	RUN_USER=www-data
	RUN_GROUP=$(id -gn "$RUN_USER" 2>/dev/null || echo "$RUN_USER")
else
	RUN_USER=
	RUN_GROUP=
fi

# ---------------------------------------------------------------- TAP ----

T_NUM=0
T_FAILED=0

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

pass() {
	T_NUM=$((T_NUM + 1))
	printf 'ok %d - %s\n' "$T_NUM" "$1"
}

fail() {
	T_NUM=$((T_NUM + 1))
	T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d - %s\n' "$T_NUM" "$1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

# check DESC CMD...: one test point, ok when CMD succeeds.  On failure the
# last HTTP (or command) answer is shown as diagnostics and the status is 1
# (so `check ... || diag more`).
check() {
	local desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
		last_diag
		return 1
	fi
}

# check_eval DESC 'shell expression': like check, for && chains.
check_eval() {
	local desc=$1
	shift
	if eval "$1"; then
		pass "$desc"
	else
		fail "$desc" "failed: $1"
		last_diag
		return 1
	fi
}

# check_same DESC GOT WANT [DIAG...]: one test point, ok when the string GOT
# is WANT; when not, DIAG and both are shown and the status is 1.
check_same() {
	local desc=$1 got=$2 want=$3
	shift 3
	if [ "$got" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "$@" "got:  $got" "want: $want"
		return 1
	fi
}

# point DESC BUG RC [DIAG...]: one test point, ok when RC is 0 (DIAG shown
# when it is not).  While BUG is not empty (a reported stackhook bug the
# check shows) it is a TAP TODO naming BUG, and T_TODO counts the TODOs
# that failed.  A TODO that passes is an XPASS, which fails the suite (empty
# the variable once the bug is fixed) -- unless KNOWN_BUGS_MAY_PASS=1, for
# bugs that show only now and then (a kill landing in the wrong place): a
# pass is then a plain ok with a note.
KNOWN_BUGS_MAY_PASS=0
T_TODO=0
point() {
	local desc=$1 bug=$2 rc=$3 mark=
	shift 3
	[ -n "$bug" ] && mark=" # TODO $bug"
	T_NUM=$((T_NUM + 1))
	if [ "$rc" = 0 ]; then
		if [ -n "$bug" ] && [ "$KNOWN_BUGS_MAY_PASS" = 1 ]; then
			printf 'ok %d - %s\n' "$T_NUM" "$desc"
			diag "(known bug not shown this time: $bug)"
		else
			printf 'ok %d - %s%s\n' "$T_NUM" "$desc" "$mark"
		fi
	else
		printf 'not ok %d - %s%s\n' "$T_NUM" "$desc" "$mark"
		if [ -n "$bug" ]; then T_TODO=$((T_TODO + 1)); else T_FAILED=$((T_FAILED + 1)); fi
		[ $# -gt 0 ] && diag "$@"
	fi
	return 0
}

# todo_eval DESC BUG 'shell expression': check_eval as a point (a TAP TODO
# while BUG is not empty); on failure the diagnostics of $TODO_DIAG
# (last_diag: the last HTTP answer; cli_diag: the last CLI command).
TODO_DIAG=last_diag
todo_eval() {
	local rc
	eval "$3"
	rc=$?
	point "$1" "$2" "$rc" "failed: $3"
	[ "$rc" = 0 ] || "$TODO_DIAG"
	return 0
}

done_testing() {
	printf '1..%d\n' "$T_NUM"
	[ "$T_FAILED" = 0 ]
}

# The whole script is skipped (a required server is not installed).  Under
# automake's TAP driver a skip is the plan "1..0 # SKIP" with exit status 0:
# tap-driver.sh gives 77 no special meaning and would report it as an ERROR.
# STACKHOOK_TEST_SKIP_STATUS=77 gives the status the plain test-driver wants.
# skip DESC REASON: one test point skipped.
skip() {
	T_NUM=$((T_NUM + 1))
	printf 'ok %d - %s # SKIP %s\n' "$T_NUM" "$1" "$2"
}

skip_all() {
	printf '1..0 # SKIP %s\n' "$1"
	exit "${STACKHOOK_TEST_SKIP_STATUS:-0}"
}

bail() {
	printf 'Bail out! %s\n' "$1"
	exit 1
}

require_programs() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip_all "$p is not installed"
	done
}

# --------------------------------------------------- cleanup and procs ----

T=
CLEANUP_CMDS=()   # shell commands run first, newest first
CLEANUP_PIDS=()   # processes to stop afterwards
CLEANUP_PIDFILES=()

on_cleanup() {
	CLEANUP_CMDS+=("$1")
}

track_pid() {
	CLEANUP_PIDS+=("$1")
}

track_pidfile() {
	CLEANUP_PIDFILES+=("$1")
}

# stop_pid PID [SIGNAL] [SECONDS]: signals PID, waits up to SECONDS for it to
# go (reaping it when it is our child), then kills it.  0 when it went in time.
stop_pid() {
	local pid=$1 sig=${2:-TERM} secs=${3:-5} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"; then
			wait "$pid" 2>/dev/null
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

is_zombie() {
	[ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]
}

# wait_gone PID SECONDS: 0 when PID no longer exists (or is a zombie).
wait_gone() {
	local pid=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

cleanup() {
	local rc=$? i pid f
	trap - EXIT INT TERM HUP
	for ((i = ${#CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP_CMDS[$i]}" >/dev/null 2>&1
	done
	for f in "${CLEANUP_PIDFILES[@]}"; do
		[ -s "$f" ] || continue
		for pid in $(cat "$f" 2>/dev/null); do
			stop_pid "$pid" TERM 5
		done
	done
	for pid in "${CLEANUP_PIDS[@]}"; do
		stop_pid "$pid" TERM 5
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${STACKHOOK_TEST_KEEP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "${STACKHOOK_TEST_KEEP:-0}" = fail ]; }; then
			echo "# kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------ instance ----

# make_tmpdir: a fresh directory every user can traverse (the web server's
# user must reach the copied programs, config and sockets).
make_tmpdir() {
	local base=${TMPDIR:-/tmp}
	T=$(mktemp -d "$base/stackhook-it.XXXXXX" 2>/dev/null) || T=
	# mktemp makes it 0700: opened before the check, or the service user
	# could never reach it and any TMPDIR would be passed over for /tmp.
	[ -z "$T" ] || chmod 755 "$T"
	if [ -n "$T" ] && [ -n "$RUN_USER" ] &&
	   ! runuser -u "$RUN_USER" -- test -x "$T" 2>/dev/null; then
		rm -rf "$T"
		T=
	fi
	[ -n "$T" ] || T=$(mktemp -d /tmp/stackhook-it.XXXXXX) || bail "mktemp failed"
	chmod 755 "$T"
	mkdir -p "$T/bin" "$T/etc" "$T/var" "$T/run" "$T/log"
	chmod 755 "$T/bin" "$T/etc" "$T/var" "$T/run" "$T/log"
}

# copy_programs: the CLI and the responder into $T/bin.
copy_programs() {
	local p
	for p in cli/stackhook fcgi/stackhook.fcgi; do
		[ -x "$top_builddir/$p" ] || bail "$top_builddir/$p is not built (run make)"
		cp "$top_builddir/$p" "$T/bin/" || bail "cannot copy $p"
	done
	chmod 755 "$T/bin/stackhook" "$T/bin/stackhook.fcgi"
	# STACKHOOK_TEST_WRAPPER (e.g. "valgrind --log-file=DIR/%p.log"): every
	# start of either program, the web server's included, goes through it.
	# The real programs wait in $T/bin/real under their own names; the
	# wrapper scripts exec, so pids and pid files stay the programs' own.
	if [ -n "${STACKHOOK_TEST_WRAPPER:-}" ]; then
		mkdir -p "$T/bin/real" && chmod 755 "$T/bin/real" || bail "cannot make $T/bin/real"
		for p in stackhook stackhook.fcgi; do
			mv "$T/bin/$p" "$T/bin/real/$p" || bail "cannot move $p"
			printf '#!/bin/sh\nexec %s %s "$@"\n' "$STACKHOOK_TEST_WRAPPER" \
				"$T/bin/real/$p" >"$T/bin/$p"
			chmod 755 "$T/bin/$p"
		done
	fi
	"$T/bin/stackhook" version >/dev/null 2>&1 ||
		bail "cannot run programs in $T (mounted noexec?): set TMPDIR elsewhere"
	SH_CLI=$T/bin/stackhook
	SH_FCGI=$T/bin/stackhook.fcgi
}

# write_config FILE PUBLIC_URL [EXTRA LINES...]: a config for the instance
# in $T/var (database, spool) and $T/etc (key).
write_config() {
	local file=$1 url=$2 line
	shift 2
	{
		echo "# stackhook integration test instance"
		# bench/ingest --target postgres points the instance at a server.
		echo "database        = ${STACKHOOK_TEST_DATABASE:-$T/var/lib/stackhook.db}"
		echo "spool           = $T/var/spool"
		echo "secret_key_file = $T/etc/secret.key"
		echo "public_url      = $url"
		echo "max_body        = 64K"
		echo "log             = stderr"
		[ -n "$RUN_USER" ] && echo "user            = $RUN_USER"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
	chmod 644 "$file"
}

# new_instance PUBLIC_URL: temp dir, programs, config ($CONF), init with an
# admin `alice` whose key is $ADMIN_KEY.
new_instance() {
	make_tmpdir
	copy_programs
	CONF=$T/etc/stackhook.conf
	write_config "$CONF" "$1"
	"$SH_CLI" -c "$CONF" init --admin alice >"$T/log/init.out" 2>"$T/log/init.err" ||
		bail "stackhook init failed: $(cat "$T/log/init.err")"
	ADMIN_KEY=$(tail -n 1 "$T/log/init.out")
	[ -n "$ADMIN_KEY" ] || bail "init --admin printed no key"
}

# web_instance: new_instance served at BASE=http://127.0.0.1:$PORT/stackhook
# on a free PORT (bails when there is none), with the paths the tests that
# put nginx + spawn-fcgi in front of it share: SOCK, PIDFILE, N (nginx's
# directory), DB, SPOOL and LOG (the responders' stderr).  Starts nothing.
# shellcheck disable=SC2034 # read by the tests
web_instance() {
	PORT=$(free_port) || bail "no free port"
	BASE=http://127.0.0.1:$PORT/stackhook
	new_instance "$BASE"
	SOCK=$T/run/stackhook.sock
	PIDFILE=$T/run/stackhook.pid
	N=$T/nginx
	DB=$T/var/lib/stackhook.db
	SPOOL=$T/var/spool
	LOG=$T/log/responder.err
}

# as_run_user CMD...: runs CMD as the service user when we are root.
as_run_user() {
	if [ -n "$RUN_USER" ]; then
		runuser -u "$RUN_USER" -- "$@"
	else
		"$@"
	fi
}

# ----------------------------------------------------------------- CLI ----

# cli ARGS...: one CLI command on $CONF; CLI_RC, CLI_CMD, output in
# $T/cli.out and .err (the errors also appended to $T/log/cli.err).
# CLI_FAILURES collects the commands that failed.
CLI_FAILURES=
cli() {
	CLI_CMD="stackhook $*"
	"$SH_CLI" -c "$CONF" "$@" >"$T/cli.out" 2>"$T/cli.err"
	CLI_RC=$?
	cat "$T/cli.err" >>"$T/log/cli.err"
	[ "$CLI_RC" = 0 ] || CLI_FAILURES="$CLI_FAILURES [$CLI_CMD: $CLI_RC]"
}

# cli_diag: the last CLI command as diagnostics, the first CLI_DIAG_LINES
# lines of its output and 10 of its errors.
CLI_DIAG_LINES=20
cli_diag() {
	diag "command: $CLI_CMD (exit status $CLI_RC)"
	[ -s "$T/cli.out" ] && diag "$(head -n "$CLI_DIAG_LINES" "$T/cli.out" | sed 's/^/out: /')"
	[ -s "$T/cli.err" ] && diag "$(head -n 10 "$T/cli.err" | sed 's/^/err: /')"
	return 0
}

# --------------------------------------------------------------- ports ----

# free_port: a TCP port on 127.0.0.1 that can be bound right now, taken
# below the kernel's ephemeral range (so no outgoing connection grabs it
# before the server binds it) and at random (tests run in parallel).
# Call it as PORT=$(free_port) || bail ...
free_port() {
	local lo=20000 hi=32767 p i range
	range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) &&
		[ "${range%%[[:space:]]*}" -gt 21000 ] 2>/dev/null && hi=$((${range%%[[:space:]]*} - 1))
	for ((i = 0; i < 200; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		if command -v python3 >/dev/null 2>&1; then
			python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$p" 2>/dev/null || continue
		elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		echo "$p"
		return 0
	done
	return 1
}

# wait_for COND SECONDS: polls the shell expression COND every 0.1 s.
wait_for() {
	local cond=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		eval "$cond" && return 0
		sleep 0.1
	done
	return 1
}

# wait_http URL SECONDS: until something answers HTTP at URL.
wait_http() {
	wait_for "curl -s -o /dev/null --max-time 2 '$1'" "${2:-10}"
}

# ---------------------------------------------------------- spawn-fcgi ----

# spawn_responder SOCKET PIDFILE CONFIG: starts the responder the way
# docs/deploy.md says (forking spawn-fcgi with a pid file), waits for it.
spawn_responder() {
	local sock=$1 pidfile=$2 conf=$3 user_opts=()
	[ -n "$RUN_USER" ] && user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
	rm -f "$pidfile"
	track_pidfile "$pidfile"
	spawn-fcgi -s "$sock" -M 0660 "${user_opts[@]}" -P "$pidfile" \
		-- "$SH_FCGI" -c "$conf" >>"$T/log/spawn-fcgi.out" 2>>"$T/log/responder.err" ||
		return 1
	wait_for "[ -s '$pidfile' ] && [ -S '$sock' ]" 5
}

# spawn_responder_point: spawn_responder on $SOCK for $CONF (pid file
# $PIDFILE) as one test point; PID is the responder's pid.
# shellcheck disable=SC2034 # read by the tests
spawn_responder_point() {
	if spawn_responder "$SOCK" "$PIDFILE" "$CONF"; then
		pass "spawn-fcgi starts the responder on a unix socket"
	else
		fail "spawn-fcgi starts the responder on a unix socket"
		show_log "$T/log/responder.err"
	fi
	PID=$(responder_pid "$PIDFILE")
}

# spawn_logged_responders COUNT: COUNT responders (spawn-fcgi -F) on $SOCK
# for $CONF, pids in $PIDFILE, their stderr appended to $LOG (kept when
# responders are started again).  A forking spawn-fcgi points a
# responder's stderr at /dev/null: a wrapper keeps it, and execs, so the
# pid file holds the responders' own pids.  RESPONDER_THREADS, when set, is
# each one's --threads (1: a process serves one request at a time, so the
# requests served at once are in as many processes).  Bails when they do
# not all start.
RESPONDER_THREADS=
spawn_logged_responders() {
	local count=$1 user_opts=() threads=
	[ -n "$RESPONDER_THREADS" ] && threads=" --threads $RESPONDER_THREADS"
	cat >"$T/bin/responder" <<EOF
#!/bin/sh
exec "$SH_FCGI" -c "$CONF"$threads 2>>"$LOG"
EOF
	chmod 755 "$T/bin/responder"
	touch "$LOG"
	if [ -n "$RUN_USER" ]; then
		chown "$RUN_USER" "$LOG"
		user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
	fi
	track_pidfile "$PIDFILE"
	spawn-fcgi -s "$SOCK" -M 0660 "${user_opts[@]}" -F "$count" -P "$PIDFILE" \
		-- "$T/bin/responder" >>"$T/log/spawn-fcgi.out" 2>&1 ||
		bail "spawn-fcgi failed: $(cat "$T/log/spawn-fcgi.out")"
	wait_for "[ \$(grep -c . '$PIDFILE' 2>/dev/null) = $count ] && [ -S '$SOCK' ]" 5 ||
		bail "spawn-fcgi -F $count did not start $count responder(s)"
}

# responder_pid PIDFILE
responder_pid() {
	head -n 1 "$1" 2>/dev/null
}

# --------------------------------------------------------------- HTTP ----

HTTP_STATUS=
HTTP_CMD=
HTTP_RC=0

# http METHOD URL [CURL ARGS...]: one request; HTTP_STATUS (000 when there
# was no answer), HTTP_RC (curl's exit status: an answer cut short counts as
# a failure even when its status line came), headers in $T/http.head, body
# in $T/http.body.
http() {
	local method=$1 url=$2
	shift 2
	HTTP_CMD="$method $url $*"
	: >"$T/http.head"
	: >"$T/http.body"
	HTTP_STATUS=$(curl -sS -X "$method" --max-time 15 -o "$T/http.body" \
		-D "$T/http.head" -w '%{http_code}' "$@" "$url" 2>"$T/http.err")
	HTTP_RC=$?
	[ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
}

last_diag() {
	[ -n "$HTTP_CMD" ] || return 0
	diag "request: $HTTP_CMD" "status: $HTTP_STATUS (exit status $HTTP_RC)"
	[ -s "$T/http.head" ] && diag "$(tr -d '\r' <"$T/http.head")"
	[ -s "$T/http.body" ] && diag "body: $(head -c 600 "$T/http.body")"
	[ -s "$T/http.err" ] && diag "curl: $(cat "$T/http.err")"
	return 0
}

status_is() {
	[ "$HTTP_RC" = 0 ] && [ "$HTTP_STATUS" = "$1" ]
}

# header_is NAME REGEX: a response header NAME whose value matches REGEX.
header_is() {
	tr -d '\r' <"$T/http.head" | grep -iqE "^$1:[[:space:]]*$2"
}

body_has() {
	grep -qE -- "$1" "$T/http.body"
}

# json_str KEY VALUE: the body has "KEY":"VALUE" (any spacing).
json_str() {
	body_has "\"$1\"[[:space:]]*:[[:space:]]*\"$2\""
}

is_json() {
	header_is Content-Type 'application/json' && body_has '^[[:space:]]*\{'
}

# json_error STATUS CODE
json_error() {
	status_is "$1" && is_json && body_has '"error"[[:space:]]*:[[:space:]]*\{' &&
		json_str code "$2"
}

# jv EXPR [FILE]: the Python expression EXPR over d, the JSON in FILE
# (default: the last answer's body); strings bare, the rest as JSON.
jv() {
	python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[2]))
    v = eval(sys.argv[1])
except Exception as e:
    print("<%s>" % e)
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))' "$1" "${2:-$T/http.body}"
}

# api_at MOUNT KEY METHOD PATH [CURL ARGS...]: http to MOUNT$PATH with the
# API key KEY; MOUNT is a stackhook's base URL, e.g.
# http://127.0.0.1:8080/stackhook
api_at() {
	local base=$1 key=$2 method=$3 path=$4
	shift 4
	http "$method" "$base$path" -H "Authorization: Bearer $key" "$@"
}

# api_json_at MOUNT KEY METHOD PATH JSON: api_at with JSON as the body.
api_json_at() {
	api_at "$1" "$2" "$3" "$4" -H 'Content-Type: application/json' --data-binary "$5"
}

# api METHOD PATH [CURL ARGS...]: api_at the test's mount $BASE as the
# admin ($ADMIN_KEY).
# shellcheck disable=SC2153
api() {
	api_at "$BASE" "$ADMIN_KEY" "$@"
}

# api_json METHOD PATH JSON: api with JSON as the request's body.
api_json() {
	api_json_at "$BASE" "$ADMIN_KEY" "$@"
}

# diaspora_stacks [BASE]: the stacks diaspora (master) and diaspora-dev
# (develop) following mike/diaspora -- the project of the push fixtures --
# through the default integration, created as the admin at BASE (default
# $BASE); 0 when both were created.
diaspora_stacks() {
	local s id branch
	for s in "diaspora master" "diaspora-dev develop"; do
		read -r id branch <<<"$s"
		api_json_at "${1:-$BASE}" "$ADMIN_KEY" POST /api/v1/stacks \
			"{\"id\":\"$id\",\"name\":\"$id\",\"integration\":\"gitlab\",\"namespace\":\"mike\",\"repository\":\"diaspora\",\"branch\":\"$branch\"}"
		status_is 201 || return 1
	done
}

# api_as KEY METHOD PATH [JSON]: api_at $BASE with the API key KEY, and
# JSON, when given, as the body (for the tests that act as several users).
api_as() {
	if [ $# -ge 4 ]; then api_json_at "$BASE" "$@"; else api_at "$BASE" "$@"; fi
}

# variant IN OUT PYTHON: OUT is the JSON file IN changed by PYTHON (on d).
variant() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))' "$1" "$2" "$3" || bail "cannot make $2"
}

# big_body FILE BYTES: a JSON object of about BYTES bytes.
big_body() {
	{
		printf '{"name":"big","description":"'
		head -c "$2" /dev/zero | tr '\0' 'x'
		printf '"}'
	} >"$1"
}

# web_checks BASE_URL LABEL: what every web server in front of the responder
# must get right.  BASE_URL is the mount, e.g. http://127.0.0.1:8080/stackhook
web_checks() {
	local base=$1 l=$2
	http GET "$base/healthz"
	check_eval "$l: GET /healthz is 200 JSON with status ok" \
		'status_is 200 && is_json && json_str status ok'
	http GET "$base/healthz?verbose=1"
	check "$l: a query string does not change the route" status_is 200
	http GET "$base/api/v1/whoami"
	check_eval "$l: whoami without a key is 401 with WWW-Authenticate: Bearer" \
		'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'
	http GET "$base/api/v1/whoami" -H "Authorization: Bearer shk_not-a-real-key"
	check_eval "$l: whoami with a bad key is 401" \
		'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'
	http GET "$base/api/v1/whoami" -H "Authorization: Bearer $ADMIN_KEY"
	check_eval "$l: whoami with a good key is 200 and names the user" \
		'status_is 200 && is_json && json_str user alice'
	http GET "$base/no/such/route"
	check "$l: an unknown route is a 404 JSON not_found" json_error 404 not_found
	http POST "$base/healthz" --data-binary '{}' -H 'Content-Type: application/json'
	check_eval "$l: POST /healthz is 405 with Allow: GET" \
		'json_error 405 method_not_allowed && header_is Allow "GET[[:space:]]*$"'
	big_body "$T/big.json" 100000
	http POST "$base/api/v1/spaces" -H "Authorization: Bearer $ADMIN_KEY" \
		-H 'Content-Type: application/json' --data-binary "@$T/big.json"
	check "$l: a 100 KB body over max_body (64K) is 413 payload_too_large" \
		json_error 413 payload_too_large
	# Above the servers' own defaults (nginx 1m, mod_fcgid 128K): the
	# snippet's limits must let it through to the responder's JSON 413.
	big_body "$T/big.json" 2000000
	http POST "$base/api/v1/spaces" -H "Authorization: Bearer $ADMIN_KEY" \
		-H 'Content-Type: application/json' --data-binary "@$T/big.json"
	check "$l: a 2 MB body reaches the responder too (its JSON 413, not the server's)" \
		json_error 413 payload_too_large
	# Chunked, a server may pass it on without CONTENT_LENGTH (Apache's
	# mod_proxy_fcgi does): max_body holds all the same.
	big_body "$T/big.json" 300000
	http POST "$base/api/v1/spaces" -H "Authorization: Bearer $ADMIN_KEY" \
		-H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
		--data-binary "@$T/big.json"
	check "$l: a 300 KB chunked body is 413 payload_too_large" \
		json_error 413 payload_too_large
	http GET "$base/healthz"
	check "$l: the responder still answers after the 413s" status_is 200
	http GET "$base/metrics"
	check_eval "$l: /metrics from 127.0.0.1 reaches the responder" \
		'[ "$HTTP_RC" = 0 ] && [ "$HTTP_STATUS" != 403 ] && [ "$HTTP_STATUS" -lt 500 ]'
	# Another source address on the loopback interface stands for a
	# remote client.
	http GET "$base/metrics" --interface 127.0.0.2
	if [ "$HTTP_RC" = 45 ]; then
		skip "$l: /metrics from another address is 403" "cannot send from 127.0.0.2"
	else
		check "$l: /metrics from another address (127.0.0.2) is 403" status_is 403
		http GET "$base/metrics/" --interface 127.0.0.2
		check "$l: /metrics/ (trailing slash) from 127.0.0.2 is 403 too" status_is 403
		http GET "$base/%6detrics" --interface 127.0.0.2
		check "$l: /%6detrics (percent-encoded) from 127.0.0.2 is 403 too" status_is 403
	fi
	HTTP_CMD=
}

# ----------------------------------------------- keys, stored state ----

# new_key USER: a fresh API key for USER (stackhook key create), printed.
new_key() {
	"$SH_CLI" -c "$CONF" key create --user "$1" 2>>"$T/log/keys.err" | tail -n 1
}

# count TABLE: the rows of TABLE in the instance's SQLite database $DB (read
# as the service user), ? when it cannot be read.
count() {
	as_run_user sqlite3 "$DB" "SELECT count(*) FROM $1" 2>/dev/null || echo "?"
}

# spool_count DIR: the entries in $SPOOL/DIR (new, tmp, deferred, failed)
# as the spool counts them: regular files not named .* (core/spool.c).
spool_count() {
	find "$SPOOL/$1" -mindepth 1 -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l
}

# spool_names DIR: every name in $SPOOL/DIR, whatever it is (what a refused
# request must not leave either).
spool_names() {
	find "$SPOOL/$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# db_lock [SECONDS]: another process (python3's sqlite3, as the service
# user) takes the write lock of $DB (BEGIN IMMEDIATE) and holds it until
# db_unlock, or SECONDS (default 30) at most; LOCKER is its pid.  1 when
# it did not say it holds the lock within 5 s.
db_lock() {
	rm -f "$T/run/release"
	as_run_user python3 -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
for _ in range(int(sys.argv[3]) * 10):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
c.execute("COMMIT")
print("released", flush=True)' "$DB" "$T/run/release" "${1:-30}" \
		>"$T/log/locker.out" 2>"$T/log/locker.err" &
	LOCKER=$!
	track_pid "$LOCKER"
	wait_for "grep -qs locked '$T/log/locker.out'" 5
}

# db_unlock: the holder of db_lock commits and exits; 0 when it said it
# let go.
db_unlock() {
	touch "$T/run/release"
	wait "$LOCKER"
	grep -q released "$T/log/locker.out"
}

# push_bodies FIXTURE DIR COUNT TAG: DIR/1.json ... DIR/COUNT.json, the push
# FIXTURE each on a commit of its own: TAG (hex) and the number, 40 hex
# digits in all (after, checkout_sha and the first commit's id).
push_bodies() {
	mkdir -p "$2"
	python3 -c '
import json, sys
fixture, out, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = json.load(open(fixture))
for i in range(1, count + 1):
    sha = tag + "%0*d" % (40 - len(tag), i)
    d["after"] = d["checkout_sha"] = d["commits"][0]["id"] = sha
    json.dump(d, open("%s/%d.json" % (out, i), "w"))' "$@" || bail "cannot make $2"
}

# send_hooks DIR COUNT CLIENTS KEY: DIR/1.json ... DIR/COUNT.json POSTed as
# Push Hooks to $BASE/webhooks/gitlab/$HOOK_SLUG (token $SECRET) by CLIENTS
# clients at once, each its share one after the other, DIR/i.json with
# the Idempotency-Key KEY-i.  Runs in the background: send_hooks_wait waits
# for the clients.  Each answer is a line "i status retry-after curl-rc" in
# DIR/answers (retry-after "-" when there is none); curl's --max-time
# ($HOOK_MAX_TIME) only keeps a hung request from hanging the test.
HOOK_SLUG=gitlab
HOOK_MAX_TIME=60
SEND_PIDS=()
send_hooks() {
	local dir=$1 count=$2 clients=$3 key=$4 c
	rm -f "$dir"/answers*
	SEND_PIDS=()
	SEND_DIR=$dir
	for ((c = 1; c <= clients; c++)); do
		(
			for ((i = c; i <= count; i += clients)); do
				: >"$dir/head.$c"
				status=$(curl -sS --max-time "$HOOK_MAX_TIME" -o /dev/null \
					-D "$dir/head.$c" -w '%{http_code}' -X POST \
					-H 'Content-Type: application/json' -H 'X-Gitlab-Event: Push Hook' \
					-H "X-Gitlab-Token: $SECRET" -H "Idempotency-Key: $key-$i" \
					--data-binary "@$dir/$i.json" \
					"$BASE/webhooks/gitlab/$HOOK_SLUG" 2>>"$dir/curl.err")
				rc=$?
				retry=$(tr -d '\r' <"$dir/head.$c" | sed -n 's/^[Rr]etry-[Aa]fter:[[:space:]]*//p' | head -n 1)
				echo "$i ${status:-000} ${retry:--} $rc"
			done >"$dir/answers.$c"
		) &
		SEND_PIDS+=($!)
	done
}

# send_hooks_wait: waits for send_hooks's clients; their answers, sorted,
# in $SEND_DIR/answers.
send_hooks_wait() {
	local p
	for p in "${SEND_PIDS[@]}"; do
		wait "$p"
	done
	SEND_PIDS=()
	sort -n "$SEND_DIR"/answers.* >"$SEND_DIR/answers"
}

# answered DIR [STATUS [RETRY-REGEX]]: how many of DIR/answers came back
# (curl exit status 0), or with STATUS too, or with a Retry-After matching
# RETRY-REGEX too.
answered() {
	awk -v s="${2:-}" -v r="${3:-}" '$4 == 0 && (s == "" || $2 == s) && (r == "" || $3 ~ r) { n++ }
		END { print n + 0 }' "$1/answers"
}

# ingest_state KEY: what the database $DB and $SPOOL/new hold of the deliveries
# whose Idempotency-Key starts with KEY, as JSON in $T/stored.json (read
# it with jv EXPR "$T/stored.json"): deliveries, keys (distinct), accepted,
# runs (theirs), runs_min and runs_max (a delivery's); entries (the spool
# entries of their runs), runs_once (runs with exactly one entry), files
# (in new/ holding them), unrecorded (of those, files spool_batches does
# not name), most (the most deliveries one file serves); and across
# everything stored: orphan_runs (runs without their delivery),
# stray_entries (entries in new/ whose run does not exist), tmp (files in
# tmp/).  Read as the service user, waiting for a writer's lock.
ingest_state() {
	as_run_user python3 -c '
import json, os, sqlite3, sys
db, spool, key = sys.argv[1:4]
c = sqlite3.connect(db, timeout=30)
dels = dict(c.execute("SELECT id, outcome FROM deliveries WHERE substr(key, 1, ?) = ?",
                      (len(key), key)).fetchall())
keys = c.execute("SELECT count(DISTINCT key) FROM deliveries WHERE substr(key, 1, ?) = ?",
                 (len(key), key)).fetchone()[0]
runs = {}
for run, delivery in c.execute("SELECT id, delivery_id FROM runs"):
    runs[run] = delivery
ours = {r: d for r, d in runs.items() if d in dels}
per = [sum(1 for d in ours.values() if d == i) for i in dels]
orphans = c.execute("SELECT count(*) FROM runs WHERE delivery_id IS NULL OR "
                    "delivery_id NOT IN (SELECT id FROM deliveries)").fetchone()[0]
recorded = {n for (n,) in c.execute("SELECT name FROM spool_batches")}
seen, files, stray, most = {}, set(), 0, 0
for name in sorted(os.listdir(os.path.join(spool, "new"))):
    path = os.path.join(spool, "new", name)
    if name.startswith(".") or not os.path.isfile(path):
        continue
    served = set()
    for line in open(path):
        e = json.loads(line)
        if e.get("run") not in runs:
            stray += 1
        elif e["run"] in ours:
            seen[e["run"]] = seen.get(e["run"], 0) + 1
            served.add(ours[e["run"]])
    if served:
        files.add(name)
        most = max(most, len(served))
tmp = [n for n in os.listdir(os.path.join(spool, "tmp")) if not n.startswith(".")]
print(json.dumps({
    "deliveries": len(dels), "keys": keys,
    "accepted": sum(1 for o in dels.values() if o == "accepted"),
    "runs": len(ours), "runs_min": min(per, default=0), "runs_max": max(per, default=0),
    "entries": sum(seen.values()), "runs_once": sum(1 for n in seen.values() if n == 1),
    "files": len(files), "unrecorded": len(files - recorded), "most": most,
    "orphan_runs": orphans, "stray_entries": stray, "tmp": len(tmp)}))' \
		"$DB" "$SPOOL" "$1" >"$T/stored.json" 2>"$T/stored.err" ||
		echo '{}' >"$T/stored.json"
}

# sign TOKEN ID TIMESTAMP FILE: "v1,<base64>", the Standard Webhooks
# signature of FILE's bytes under TOKEN (whsec_<base64 key>).
sign() {
	python3 -c '
import base64, hashlib, hmac, sys
token, msg_id, ts, path = sys.argv[1:5]
key = base64.b64decode(token[len("whsec_"):])
body = open(path, "rb").read()
mac = hmac.new(key, b"%s.%s.%s" % (msg_id.encode(), ts.encode(), body), hashlib.sha256)
print("v1," + base64.b64encode(mac.digest()).decode())' "$@"
}

# pg_up: a PostgreSQL server of the test's own in $T/pg (pg_start of
# tests/pg/server.sh, which the test sources), stopped on exit; skips the
# whole test without PostgreSQL, bails when it does not start.  PSQL is its
# psql.
pg_up() {
	local rc
	pg_start "$T"
	rc=$?
	[ $rc = 77 ] && skip_all "PostgreSQL (Debian's postgresql package) is not installed"
	on_cleanup pg_stop
	[ $rc = 0 ] || bail "cannot start PostgreSQL: $(tail -n 5 "$PG_DIR/initdb.log" "$PG_DIR/server.log" 2>/dev/null)"
	PSQL=$PG_BIN/psql
	[ -x "$PSQL" ] || PSQL=psql
}

# ---------------------------------------------------------------- CGI ----

# cgi [VAR=VALUE...]: one CGI request with a clean environment (plus
# STACKHOOK_CONFIG=$CONF unless given); stdin from $CGI_STDIN.  Sets
# HTTP_STATUS from the Status: line, HTTP_RC to the exit status, the headers
# in $T/http.head and the body in $T/http.body.
CGI_STDIN=/dev/null
cgi() {
	local has_conf=no v
	for v in "$@"; do
		case $v in STACKHOOK_CONFIG=*) has_conf=yes ;; esac
	done
	[ $has_conf = yes ] || set -- "STACKHOOK_CONFIG=$CONF" "$@"
	HTTP_CMD="CGI $*"
	as_run_user timeout 10 env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 "$@" "$SH_FCGI" \
		<"$CGI_STDIN" >"$T/cgi.out" 2>"$T/http.err"
	HTTP_RC=$?
	cgi_answer "$T/cgi.out"
}

# cgi_answer FILE: the CGI answer in FILE (a responder's output) as the last
# answer: its headers in $T/http.head, its body in $T/http.body and
# HTTP_STATUS from its Status: line (000 without one).
cgi_answer() {
	# Headers end at the first empty line (CRLF or LF).
	awk 'BEGIN { h = 1 } h && /^\r?$/ { h = 0; next } h { print }' "$1" >"$T/http.head"
	awk 'BEGIN { h = 1 } h && /^\r?$/ { h = 0; next } !h { print }' "$1" >"$T/http.body"
	HTTP_STATUS=$(sed -n '1s/^Status: \([0-9][0-9][0-9]\).*/\1/p' "$1")
	[ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
}

# fcgi_wire_py DIR: DIR/fcgi_wire.py, the web server's side of FastCGI for
# the tests' own clients of a responder's socket (python3 scripts in DIR
# import it): record() and pair() to build a request, answer() to read the
# responder's.
fcgi_wire_py() {
	cat >"$1/fcgi_wire.py" <<'PY'
import struct

def record(kind, content, rid=1):
    """content as records of KIND for request RID: 65535 bytes at most
    each, and one empty record for no content."""
    out = b""
    for i in range(0, max(len(content), 1), 65535):
        chunk = content[i:i + 65535]
        out += struct.pack(">BBHHBB", 1, kind, rid, len(chunk), 0, 0) + chunk
    return out

def pair(name, value):
    """One name-value pair (bytes) of a PARAMS record."""
    enc = lambda n: bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return enc(len(name)) + enc(len(value)) + name + value

def answer(s):
    """What the responder wrote to its stdout on the socket s, and whether
    it ended the request (END_REQUEST) before closing."""
    buf, out, ended = b"", b"", False
    while not ended:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            _, kind, _, n, pad, _ = struct.unpack(">BBHHBB", buf[:8])
            if len(buf) < 8 + n + pad:
                break
            if kind == 6:
                out += buf[8:8 + n]
            elif kind == 3:
                ended = True
            buf = buf[8 + n + pad:]
    return out, ended
PY
}

# ------------------------------------------------------------- apache ----

APACHE_MODULES=/usr/lib/apache2/modules
# What every test Apache loads (apache_conf_head).
APACHE_BASE_MODULES="mpm_event authz_core authz_host alias env setenvif rewrite mime"

# apache_conf DIR PORT: the head of a minimal, self-contained httpd.conf
# (own ServerRoot, pid file, logs, runtime dir); callers append to it.
apache_conf_head() {
	local dir=$1
	mkdir -p "$dir/run" "$dir/htdocs"
	chmod 755 "$dir" "$dir/htdocs"
	cat <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
PidFile "$dir/run/httpd.pid"
DefaultRuntimeDir "$dir/run"
ErrorLog "$dir/error.log"
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog "$dir/access.log" common
Timeout 30
$(for m in $APACHE_BASE_MODULES; do echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"; done)
TypesConfig /dev/null
StartServers 1
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
DocumentRoot "$dir/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# Apache looks PATH_INFO up under the document root (PATH_TRANSLATED).
<Directory "$dir/htdocs">
    Require all granted
</Directory>
EOF
	[ -n "$RUN_USER" ] && printf 'User %s\nGroup %s\n' "$RUN_USER" "$RUN_GROUP"
	return 0
}

# apache_start DIR: starts apache2 -f DIR/httpd.conf -k start, registers the
# stop, waits for the pid file.
apache_start() {
	local dir=$1
	on_cleanup "apache_stop '$dir'"
	apache2 -f "$dir/httpd.conf" -k start >"$dir/start.out" 2>&1 || return 1
	wait_for "[ -s '$dir/run/httpd.pid' ]" 10
}

apache_stop() {
	local dir=$1 pid
	pid=$(cat "$dir/run/httpd.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	apache2 -f "$dir/httpd.conf" -k stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
	wait_gone "$pid" 2
}

# apache_has_modules NAME...: every mod_NAME.so is installed.
apache_has_modules() {
	local m
	for m in $APACHE_BASE_MODULES "$@"; do
		[ -f "$APACHE_MODULES/mod_$m.so" ] || skip_all "Apache module mod_$m is not installed"
	done
}

# show_log FILE: its tail as diagnostics (on failure).
show_log() {
	[ -s "$1" ] && diag "--- $1" "$(tail -n 20 "$1")"
	return 0
}

# -------------------------------------------------------------- nginx ----

# nginx_snippet FILE ADDRESS: the repository's nginx/stackhook.conf as FILE
# with its fastcgi_pass pointed at ADDRESS (unix:PATH, or an upstream's
# name); 1 when the snippet no longer names the default socket.
nginx_snippet() {
	sed "s#unix:/run/stackhook/stackhook.sock#$2#g" "$top_srcdir/nginx/stackhook.conf" >"$1"
	grep -q "fastcgi_pass $2;" "$1"
}

# nginx_main_conf DIR WORKERS CONNECTIONS HTTP-BLOCK: DIR/nginx.conf, a
# minimal nginx config of its own (pid, logs and temp paths in DIR) whose
# http block ends with HTTP-BLOCK (servers, upstreams), and nginx's
# fastcgi_params copied into DIR (the snippet includes it relative to the
# config).  1 when no fastcgi_params is found.
nginx_main_conf() {
	local dir=$1 workers=$2 conns=$3 block=$4 conf_dir
	mkdir -p "$dir"
	conf_dir=$(nginx -V 2>&1 | sed -n 's/.*--conf-path=\([^ ]*\)\/[^/ ]*.*/\1/p')
	cp "${conf_dir:-/etc/nginx}/fastcgi_params" "$dir/" 2>/dev/null ||
		cp /etc/nginx/fastcgi_params "$dir/" 2>/dev/null || return 1
	{
		[ -n "$RUN_USER" ] && echo "user $RUN_USER $RUN_GROUP;"
		cat <<NGINX
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections $conns; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    fastcgi_temp_path $dir/fastcgi;
    proxy_temp_path $dir/proxy;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    default_type application/octet-stream;
$block
}
NGINX
	} >"$dir/nginx.conf"
}

# nginx_conf DIR PORT SOCKET [WORKERS] [CONNECTIONS]: DIR/nginx.conf
# (nginx_main_conf) listening on 127.0.0.1:PORT whose server block includes
# the repository's nginx/stackhook.conf with only the socket substituted
# (copied to DIR/stackhook.conf).  1 when the snippet does not use the
# default socket or no fastcgi_params is found.
nginx_conf() {
	local dir=$1 port=$2 sock=$3 workers=${4:-1} conns=${5:-64}
	mkdir -p "$dir"
	nginx_snippet "$dir/stackhook.conf" "unix:$sock" || return 1
	nginx_main_conf "$dir" "$workers" "$conns" "    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        include $dir/stackhook.conf;
    }"
}

# nginx_start DIR URL: starts nginx (foreground, tracked for the cleanup) on
# DIR/nginx.conf; 0 once URL answers.  NGINX_PID is its pid.
nginx_start() {
	local dir=$1 url=$2
	nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout" 2>&1 &
	NGINX_PID=$!
	track_pid "$NGINX_PID"
	wait_http "$url" 10
}

# nginx_up DIR URL: nginx_start, bailing (with nginx's error log) when
# nginx does not come up.
nginx_up() {
	nginx_start "$1" "$2" || { show_log "$1/error.log"; bail "nginx did not start"; }
}

# nginx_responder DIR PORT SOCKET URL: one responder on SOCKET (with $CONF)
# and nginx in front of it (nginx_conf DIR PORT SOCKET), waiting until URL
# answers; bails when either does not start.  The responder runs in the
# foreground (spawn-fcgi -n execs it in its own process), so that its
# stderr -- its log, $T/log/responder.err -- is kept: a forking spawn-fcgi
# points it at /dev/null.  RESPONDER_PID is its pid.
nginx_responder() {
	local dir=$1 port=$2 sock=$3 url=$4 user_opts=()
	nginx_conf "$dir" "$port" "$sock" ||
		bail "cannot make an nginx config from nginx/stackhook.conf"
	[ -n "$RUN_USER" ] && user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
	spawn-fcgi -n -s "$sock" -M 0660 "${user_opts[@]}" -- "$SH_FCGI" -c "$CONF" \
		>>"$T/log/spawn-fcgi.out" 2>>"$T/log/responder.err" &
	RESPONDER_PID=$!
	track_pid "$RESPONDER_PID"
	wait_for "[ -S '$sock' ]" 5 ||
		{ show_log "$T/log/responder.err"; bail "spawn-fcgi did not start the responder"; }
	nginx_up "$dir" "$url"
}

# The instance web_instance made, served.  Each of these starts nginx
# (nginx_conf "$N" "$PORT" "$SOCK") in front of responder(s) on $SOCK for
# $CONF, waits until $BASE/healthz answers, and bails when anything does
# not start:
#
#   serve_instance             one responder in the foreground, its log in
#                              $T/log/responder.err (nginx_responder);
#                              RESPONDER_PID.
#   serve_deployed             one responder as docs/deploy.md starts it
#                              (forking spawn-fcgi, pid in $PIDFILE), then a
#                              test point "nginx + spawn-fcgi serve ...".
#   serve_responders COUNT [WORKERS] [CONNECTIONS]
#                              COUNT responders (spawn_logged_responders:
#                              pids in $PIDFILE, logs in $LOG, threads
#                              $RESPONDER_THREADS), nginx with WORKERS
#                              processes of CONNECTIONS each.
serve_instance() {
	nginx_responder "$N" "$PORT" "$SOCK" "$BASE/healthz"
}

serve_deployed() {
	nginx_conf "$N" "$PORT" "$SOCK" ||
		bail "cannot write an nginx config around nginx/stackhook.conf"
	spawn_responder "$SOCK" "$PIDFILE" "$CONF" ||
		bail "spawn-fcgi could not start the responder: $(tail -n 5 "$T/log/responder.err")"
	nginx_up "$N" "$BASE/healthz"
	pass "nginx + spawn-fcgi serve the instance at $BASE"
}

serve_responders() {
	nginx_conf "$N" "$PORT" "$SOCK" "${2:-1}" "${3:-64}" ||
		bail "cannot make an nginx config from nginx/stackhook.conf"
	spawn_logged_responders "$1"
	nginx_up "$N" "$BASE/healthz"
}
