# Shared pieces of the benchmarks (sourced by bench/ingest and bench/soak;
# bench/run calls those).  Built on tests/integration/lib.sh: the same
# throw-away instance (temporary directory, copied programs, `stackhook
# init`, servers on loopback, all stopped and removed on exit).
#
# The caller sets BENCH_NAME (for messages) and may set top_srcdir and
# top_builddir; PIN (auto, on, off) says whether wrk gets a core of its own.

: "${BENCH_NAME:=bench}"
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
: "${PIN:=auto}"

. "$top_srcdir/tests/integration/lib.sh"

# lib.sh's bail and skip_all speak TAP; a benchmark just stops.
bail() {
	echo "$BENCH_NAME: $1" >&2
	exit 1
}
skip_all() {
	bail "$1"
}

FIXTURE=$top_srcdir/tests/fixtures/gitlab/webhooks/push.json
FIXTURE_SHA=da1560886d4f094c3e6c9ef40349f7d38b5d27d7

# bench_install PROGRAM [DEBIAN-PACKAGE]: apt-get install when missing.
# PROGRAM may be a file's absolute path (e.g. an Apache module).
bench_install() {
	local prog=$1 pkg=${2:-$1} sudo=
	bench_have "$prog" && return 0
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	echo "$BENCH_NAME: installing $pkg (Debian)" >&2
	{ $sudo apt-get install -y "$pkg" ||
	  { $sudo apt-get update && $sudo apt-get install -y "$pkg"; }; } >/dev/null 2>&1
	bench_have "$prog" || bail "cannot install $pkg (apt-get install $pkg)"
}

bench_have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

bench_require() {
	local p
	bench_install wrk
	for p in nginx spawn-fcgi curl sqlite3 python3; do
		command -v "$p" >/dev/null 2>&1 ||
			bail "$p is not installed (scripts/install-deps)"
	done
}

# ------------------------------------------------------------ cores ----

# bench_cpus: SERVER_CPUS and WRK_CPUS (taskset lists; empty = not
# pinned) and WRK_THREADS_DEFAULT.  With PIN=auto (the default) and at
# least 2 usable CPUs, wrk gets the last one and every server the others:
# the load generator never takes CPU from what it measures.
bench_cpus() {
	local cpus n
	cpus=$(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
	n=$(echo "$cpus" | wc -w)
	SERVER_CPUS='' WRK_CPUS=''
	CPU_COUNT=$n
	ALL_CPUS=$(echo "$cpus" | tr ' ' ',')
	if [ "$PIN" = off ] || ! command -v taskset >/dev/null 2>&1 ||
	   { [ "$n" -lt 2 ] && [ "$PIN" = auto ]; }; then
		WRK_THREADS_DEFAULT=2
		return 0
	fi
	[ "$n" -ge 2 ] || bail "--pin needs at least 2 CPUs"
	WRK_CPUS=${cpus##* }
	SERVER_CPUS=$(echo "${cpus% *}" | tr ' ' ',')
	WRK_THREADS_DEFAULT=1
}

# on_servers CMD...: CMD on the servers' CPUs.
on_servers() {
	if [ -n "$SERVER_CPUS" ]; then
		taskset -c "$SERVER_CPUS" "$@"
	else
		"$@"
	fi
}

# pin_tree PID: PID and its children (nginx's workers) on the servers' CPUs.
pin_tree() {
	local p
	[ -n "$SERVER_CPUS" ] || return 0
	for p in "$1" $(pgrep -P "$1"); do
		taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null 2>&1
	done
}

pin_note() {
	if [ -n "$WRK_CPUS" ]; then
		echo "wrk on CPU $WRK_CPUS, servers on CPU $SERVER_CPUS"
	else
		echo "not pinned"
	fi
}

# ------------------------------------------------------------ nginx ----

# bench_nginx DIR PORT SOCKET CONNECTIONS: the tests' nginx config (the
# repository's nginx/stackhook.conf, socket substituted), one worker,
# without the access log (the benchmarks measure the responder, not
# nginx's disk).
bench_nginx() {
	local dir=$1
	nginx_conf "$dir" "$2" "$3" 1 $(($4 * 4 + 64)) ||
		bail "cannot make an nginx config from nginx/stackhook.conf"
	sed -i "s#access_log $dir/access.log;#access_log off;#; s#error_log $dir/error.log info;#error_log $dir/error.log warn;#" \
		"$dir/nginx.conf"
}

# bench_nginx_start DIR URL: starts it, pinned.
bench_nginx_start() {
	nginx_start "$1" "$2" || bail "nginx did not start: $(tail -n 5 "$1/error.log")"
	pin_tree "$NGINX_PID"
}

# ------------------------------------------------------- responders ----

# bench_spawn SOCKET PIDFILE PROCESSES CMD...: spawn-fcgi -F PROCESSES of
# CMD on SOCKET (as the service user when root), pinned; waits for them.
bench_spawn() {
	local sock=$1 pidfile=$2 procs=$3 user_opts=()
	shift 3
	[ -n "$RUN_USER" ] && user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
	rm -f "$pidfile"
	track_pidfile "$pidfile"
	on_servers spawn-fcgi -s "$sock" -M 0660 -F "$procs" "${user_opts[@]}" -P "$pidfile" \
		-- "$@" >>"$T/log/spawn-fcgi.out" 2>&1 ||
		bail "spawn-fcgi failed: $(cat "$T/log/spawn-fcgi.out")"
	wait_for "[ -S '$sock' ] && [ \$(grep -c . '$pidfile') -ge $procs ]" 10 ||
		bail "the responders did not start: $(tail -n 5 "$T/log/spawn-fcgi.out")"
}

# ---------------------------------------------------------- stackhook ----

# cgi_api METHOD PATH BODY: one admin API call through the responder run
# as a CGI program (no server needed); the answer is in $T/http.body.
cgi_api() {
	printf '%s' "$3" >"$T/api.in"
	chmod 644 "$T/api.in"
	CGI_STDIN=$T/api.in
	cgi REQUEST_METHOD="$1" PATH_INFO="$2" SCRIPT_NAME=/stackhook \
		REQUEST_URI="/stackhook$2" CONTENT_TYPE=application/json \
		CONTENT_LENGTH="$(wc -c <"$T/api.in")" HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
	CGI_STDIN=/dev/null
}

# stackhook_instance PUBLIC_URL [API_HOST_URL]: a fresh instance with the
# default integration (slug gitlab, $SECRET its webhook secret, token
# glpat-test-token) and the stack `diaspora` following mike/diaspora on
# master -- the project and branch of push.json.
stackhook_instance() {
	new_instance "$1" >/dev/null
	DB=$T/var/lib/stackhook.db
	cgi_api POST /api/v1/integrations "{\"name\":\"GitLab\",\"type\":\"default\",\"api_host_url\":\"${2:-https://gitlab.example.com}\",\"api_token\":\"glpat-test-token\"}"
	[ "$HTTP_STATUS" = 201 ] || bail "cannot create the integration ($HTTP_STATUS): $(cat "$T/http.body")"
	SECRET=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["webhook_secret"])' "$T/http.body")
	cgi_api POST /api/v1/stacks '{"id":"diaspora","name":"Diaspora","kind":"stack","integration":"gitlab","namespace":"mike","repository":"diaspora","branch":"master"}'
	[ "$HTTP_STATUS" = 201 ] || bail "cannot create the stack ($HTTP_STATUS): $(cat "$T/http.body")"
}

# seed_stacks TOTAL DELIVERIES: more stacks (bench/repo-N on other
# projects, so the push still matches one) up to TOTAL, and DELIVERIES
# past deliveries, each with the run it made, spread over those stacks --
# straight into the database with the columns core/schema.c defines.
seed_stacks() {
	local total=$1 deliveries=$2 extra
	extra=$((total - 1))
	[ "$extra" -gt 0 ] || [ "$deliveries" -gt 0 ] || return 0
	[ "$extra" -ge 1 ] || extra=1
	as_run_user sqlite3 -bail -cmd '.timeout 5000' "$DB" >"$T/log/seed.out" 2>&1 <<SQL || bail "cannot seed the database: $(cat "$T/log/seed.out")"
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $((total - 1)))
INSERT INTO stacks (id, name, kind, space, integration_id, namespace, repository,
                    project_key, project_id, branch, created_at, updated_at)
SELECT printf('seed-%d', i), printf('Seed %d', i), 'stack', 'root', 1, 'bench',
       printf('repo-%d', i), printf('bench/repo-%d', i), 100000 + i, 'master',
       strftime('%s','now') - 86400, strftime('%s','now') - 86400
FROM n WHERE $total > 1;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $deliveries)
INSERT INTO deliveries (integration_id, key, event_uuid, event_header, kind, project_id,
                        project_path, ref, before_sha, after_sha, outcome,
                        suspected_duplicate_hook, remote_addr, received_at)
SELECT 1, printf('seed-%d', i), lower(hex(randomblob(16))), 'Push Hook', 'push',
       100000 + 1 + i % $extra, printf('bench/repo-%d', 1 + i % $extra), 'refs/heads/master',
       lower(hex(randomblob(20))), printf('%040x', i), 'accepted', 0, '127.0.0.1',
       strftime('%s','now') - 86400 + i / 10
FROM n WHERE $deliveries > 0;
INSERT INTO runs (id, stack, kind, trigger, sha, ref, state, delivery_id, integration_id,
                  project_id, project_path, created_at, updated_at)
SELECT printf('seed%012d', id), printf('seed-%d', project_id - 100000), 'tracked', 'push',
       after_sha, 'master', 'finished', id, 1, project_id, project_path, received_at, received_at
FROM deliveries WHERE key LIKE 'seed-%' AND $total > 1;
COMMIT;
SQL
}

# stackhook_up PROCESSES THREADS CONNECTIONS [WRAPPER...]: the instance
# (already made by stackhook_instance) served through nginx by
# spawn-fcgi'd responders (`-t THREADS` each), WRAPPER (e.g. eatmydata)
# in front of the responder; then one push by hand must be a 202.
# URL is the webhook's address, PIDFILE the responders'.
stackhook_up() {
	local procs=$1 threads=$2 conns=$3
	shift 3
	SOCK=$T/run/stackhook.sock
	PIDFILE=$T/run/stackhook.pid
	bench_nginx "$T/nginx" "$PORT" "$SOCK" "$conns"
	bench_spawn "$SOCK" "$PIDFILE" "$procs" "$@" "$SH_FCGI" -c "$CONF" -t "$threads"
	bench_nginx_start "$T/nginx" "$BASE/healthz"
	URL=$BASE/webhooks/gitlab/gitlab
	probe_push
}

# probe_push: one push to URL by hand must be a 202.
probe_push() {
	local code
	code=$(curl -sS -o "$T/probe.out" -w '%{http_code}' -X POST "$URL" \
		-H 'Content-Type: application/json' -H 'X-Gitlab-Event: Push Hook' \
		-H "X-Gitlab-Token: $SECRET" -H "Idempotency-Key: probe-$$" --data-binary "@$FIXTURE")
	[ "$code" = 202 ] || bail "a push is answered $code, not 202: $(cat "$T/probe.out")"
}

# ------------------------------------------------- Apache mod_fcgid ----

# fcgid_up CONNECTIONS: the instance (already made by stackhook_instance)
# served by Apache with mod_fcgid, which starts the responders itself:
# the tests' Apache (tests/integration/lib.sh apache_conf_head: event
# MPM, its own ServerRoot, as the service user when root) with the
# repository's apache/stackhook-fcgid.conf in a VirtualHost, only the
# responder's and the config's paths substituted.  How many responders
# is what that snippet leaves it at: mod_fcgid's defaults (spawned on
# demand, up to FcgidMaxProcessesPerClass 100, FcgidMaxProcesses 1000;
# FcgidSpawnScoreUpLimit 10 paces the spawning), one request at a time
# each.  The event MPM as Debian's mpm_event.conf sets it (2 servers to
# start, 25 threads each, up to 150 workers; more for more than 75
# connections): with no idle worker it closes keep-alive connections,
# which wrk counts as read errors.  The access log is off, as for nginx.
# Pinned: Apache is started with this shell on the
# servers' CPUs, so its children, mod_fcgid's process manager and every
# responder it spawns later inherit them (fcgid_check_pinned checks).
# Then one push by hand must be a 202.  URL is the webhook's address,
# APACHE_DIR Apache's directory.
fcgid_up() {
	local conns=$1 a=$T/apache servers rc
	bench_install apache2
	bench_install "$APACHE_MODULES/mod_fcgid.so" libapache2-mod-fcgid
	apache_has_modules fcgid
	APACHE_DIR=$a
	mkdir -p "$a/fcgid"
	[ -n "$RUN_USER" ] && chown "$RUN_USER:$RUN_GROUP" "$a/fcgid"
	sed -e "s#/usr/local/sbin#$T/bin#g" \
		-e "s#/usr/local/etc/stackhook/stackhook.conf#$CONF#g" \
		"$top_srcdir/apache/stackhook-fcgid.conf" >"$a/stackhook-fcgid.conf"
	if ! grep -q "^FcgidInitialEnv STACKHOOK_CONFIG $CONF\$" "$a/stackhook-fcgid.conf" ||
	   ! grep -q -- "$T/bin/stackhook.fcgi" "$a/stackhook-fcgid.conf"; then
		bail "apache/stackhook-fcgid.conf does not use the default paths"
	fi
	servers=$(((2 * conns + 24) / 25))
	[ "$servers" -ge 6 ] || servers=6
	{
		# Its StartServers ... MaxRequestWorkers lines give way to Debian's.
		apache_conf_head "$a" |
			sed '/^CustomLog /d; /^\(StartServers\|ServerLimit\|ThreadsPerChild\|MaxRequestWorkers\) /d'
		cat <<EOF
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
ServerLimit $servers
MaxRequestWorkers $((servers * 25))
MaxConnectionsPerChild 0
LoadModule fcgid_module $APACHE_MODULES/mod_fcgid.so
FcgidIPCDir "$a/fcgid"
FcgidProcessTableFile "$a/fcgid/shm"
Listen 127.0.0.1:$PORT
<VirtualHost 127.0.0.1:$PORT>
    Include "$a/stackhook-fcgid.conf"
</VirtualHost>
EOF
	} >"$a/httpd.conf"
	apache2 -f "$a/httpd.conf" -t >"$a/t.out" 2>&1 ||
		bail "apache2 refuses the config: $(cat "$a/t.out")"
	[ -n "$SERVER_CPUS" ] && taskset -cp "$SERVER_CPUS" $$ >/dev/null
	apache_start "$a"
	rc=$?
	[ -n "$SERVER_CPUS" ] && taskset -cp "$ALL_CPUS" $$ >/dev/null
	[ "$rc" = 0 ] || bail "apache2 did not start: $(cat "$a/start.out") $(tail -n 5 "$a/error.log")"
	wait_http "$BASE/healthz" 10 || bail "Apache does not answer: $(tail -n 5 "$a/error.log")"
	URL=$BASE/webhooks/gitlab/gitlab
	probe_push
}

# fcgid_pids: the responders mod_fcgid runs now (also through a
# STACKHOOK_TEST_WRAPPER, which execs $T/bin/real/stackhook.fcgi).
fcgid_pids() {
	pgrep -f "^$T/bin/(real/)?stackhook\.fcgi( |\$)" | tr '\n' ' ' | sed 's/ $//'
}

# fcgid_warm SECONDS CONNECTIONS THREADS NEW_COMMITS: mod_fcgid spawns
# responders on demand, and slowly: a request that finds none idle sleeps
# a second (fcgid_bridge.c) and asks for one only if there is still none,
# and the spawn score allows about one a second after the first ten.
# Until there are as many as connections, some requests wait that second.
# wrk in 2-second rounds, up to SECONDS, until there are CONNECTIONS
# responders: the state of a server that has been taking this load a
# while.  FCGID_WARM is the seconds it took.
fcgid_warm() {
	local secs=$1 conns=$2
	FCGID_WARM=0
	while [ "$FCGID_WARM" -lt "$secs" ] && [ "$(fcgid_pids | wc -w)" -lt "$conns" ]; do
		run_wrk 2 "$conns" "$3" "$4"
		FCGID_WARM=$((FCGID_WARM + 2))
	done
	return 0
}

# fcgid_check_pinned: bails unless Apache, its children and every
# responder are on the servers' CPUs.
fcgid_check_pinned() {
	local main pids
	[ -n "$SERVER_CPUS" ] || return 0
	main=$(cat "$APACHE_DIR/run/httpd.pid")
	pids="$main $(pgrep -P "$main" | tr '\n' ' ') $(fcgid_pids)"
	# shellcheck disable=SC2086 # a list of pids
	python3 -c 'import os, sys
want = set(map(int, sys.argv[1].split(",")))
bad = [p for p in sys.argv[2:] if os.sched_getaffinity(int(p)) != want]
sys.exit("not on CPU %s: %s" % (sys.argv[1], " ".join(bad)) if bad else 0)' "$SERVER_CPUS" $pids ||
		bail "Apache or a responder is not on the servers' CPUs"
}

# count_rows TABLE [WHERE]
count_rows() {
	as_run_user sqlite3 -cmd '.timeout 5000' "$DB" "SELECT count(*) FROM $1 ${2:+WHERE $2}" 2>/dev/null
}

# settle: wrk stops counting at its deadline with requests still in
# flight; wait until the responders have stored them.
settle() {
	local prev='' now
	for _ in $(seq 50); do
		now=$(count_rows deliveries)
		[ "$now" = "$prev" ] && break
		prev=$now
		sleep 0.2
	done
}

# ------------------------------------------------- the peer, the ceiling ----

# ceiling_up PROCESSES THREADS CONNECTIONS: bench/ceiling.c (a libfcgi
# responder that reads the body and answers 202) behind the same nginx
# config, with as many processes and threads as stackhook gets.
ceiling_up() {
	local procs=$1 threads=$2 conns=$3
	cc -O2 -o "$T/bin/ceiling" "$top_srcdir/bench/ceiling.c" -lfcgi -lpthread \
		>"$T/log/cc.out" 2>&1 || bail "cannot build bench/ceiling.c: $(cat "$T/log/cc.out")"
	chmod 755 "$T/bin/ceiling"
	SOCK=$T/run/ceiling.sock
	PIDFILE=$T/run/ceiling.pid
	bench_nginx "$T/nginx" "$PORT" "$SOCK" "$conns"
	bench_spawn "$SOCK" "$PIDFILE" "$procs" "$T/bin/ceiling" "$threads"
	bench_nginx_start "$T/nginx" "$BASE/healthz"
	URL=$BASE/webhooks/gitlab/gitlab
	SECRET=ceiling-needs-no-token
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "@$FIXTURE" "$URL")
	[ "$code" = 202 ] || bail "the ceiling answers $code, not 202"
}

# peer_up CONNECTIONS: Debian's webhook (adnanh/webhook) with one hook,
# `gitlab`, that checks X-Gitlab-Token and runs /bin/true; nginx proxies
# the same URL to it (an upstream with keep-alive connections, the
# peer's best case).
peer_up() {
	local conns=$1 wport code
	bench_install webhook
	make_tmpdir
	SECRET=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	wport=$(free_port) || bail "no free port"
	cat >"$T/etc/hooks.json" <<EOF
[
  {
    "id": "gitlab",
    "execute-command": "/bin/true",
    "response-message": "accepted",
    "success-http-response-code": 202,
    "trigger-rule-mismatch-http-response-code": 401,
    "trigger-rule": {
      "match": {
        "type": "value",
        "value": "$SECRET",
        "parameter": {"source": "header", "name": "X-Gitlab-Token"}
      }
    }
  }
]
EOF
	chmod 644 "$T/etc/hooks.json"
	# As the service user when root (webhook's own -setuid is not
	# supported on Linux); setpriv execs, so $! is webhook's pid.
	# Started directly (not through a shell function, whose subshell
	# would be the pid to stop): taskset and setpriv exec.
	local cmd=(webhook -hooks "$T/etc/hooks.json" -ip 127.0.0.1 -port "$wport" -http-methods POST)
	[ -n "$RUN_USER" ] && cmd=(setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --init-groups "${cmd[@]}")
	[ -n "$SERVER_CPUS" ] && cmd=(taskset -c "$SERVER_CPUS" "${cmd[@]}")
	"${cmd[@]}" >"$T/log/webhook.out" 2>&1 &
	track_pid $!
	wait_for "curl -s -o /dev/null 'http://127.0.0.1:$wport/'" 10 ||
		bail "webhook did not start: $(tail -n 5 "$T/log/webhook.out")"
	# The stackhook nginx config with the location swapped for a proxy.
	bench_nginx "$T/nginx" "$PORT" "$T/run/unused.sock" "$conns"
	cat >"$T/nginx/peer.conf" <<EOF
location = /stackhook/webhooks/gitlab/gitlab {
    client_max_body_size 10m;
    proxy_request_buffering on;
    client_body_timeout 15s;
    proxy_connect_timeout 5s;
    proxy_send_timeout 30s;
    proxy_read_timeout 30s;
    proxy_buffering on;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_pass http://peer/hooks/gitlab;
}
location = /stackhook/healthz {
    return 200 "ok\n";
}
EOF
	sed -i "s#include $T/nginx/stackhook.conf;#include $T/nginx/peer.conf;#; s#^http {#http {\n    upstream peer { server 127.0.0.1:$wport; keepalive 32; }#" \
		"$T/nginx/nginx.conf"
	bench_nginx_start "$T/nginx" "$BASE/healthz"
	URL=$BASE/webhooks/gitlab/gitlab
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H 'X-Gitlab-Token: wrong' --data-binary "@$FIXTURE" "$URL")
	[ "$code" = 401 ] || bail "the peer answers a wrong token with $code, not 401"
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H "X-Gitlab-Token: $SECRET" --data-binary "@$FIXTURE" "$URL")
	[ "$code" = 202 ] || bail "the peer answers a good token with $code, not 202"
}

# ------------------------------------------------------------- wrk ----

# wrk_script FILE: the Lua script.  Arguments after `--`: token, body
# file, key prefix, new-commits (1: a fresh commit id per request),
# deliveries per wrk thread (0: no limit, run for the duration), the path
# asked (GET, a 404) once a thread's deliveries are all sent -- so a
# limited run stops with every delivery answered and none in flight --,
# a file the finished threads write to, the number of wrk threads and a
# number that makes this run's commit ids differ from earlier runs'.
wrk_script() {
	cat >"$1" <<'LUA'
local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

function init(args)
	token, prefix, new_commits = args[1], args[3], args[4] == "1"
	quota, idle_path = tonumber(args[5] or "0"), args[6]
	done_file, nthreads = args[7], tonumber(args[8] or "1")
	salt = tonumber(args[9] or "0")
	local f = assert(io.open(args[2], "rb"))
	template = f:read("*a")
	f:close()
	sha = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
	counter, answered, accepted, other2xx, non2xx = 0, 0, 0, 0, 0
	-- wrk calls request() once more on its first thread before the run
	-- (script_verify_request) and throws the answer away: that call
	-- must not use up a delivery.
	verify_pending = tid == 1
	headers = {
		["Content-Type"] = "application/json",
		["User-Agent"] = "GitLab/17.1.0-pre",
		["X-Gitlab-Event"] = "Push Hook",
		["X-Gitlab-Token"] = token,
	}
end

function request()
	if verify_pending or (quota > 0 and counter >= quota) then
		verify_pending = false
		return wrk.format("GET", idle_path)
	end
	counter = counter + 1
	headers["Idempotency-Key"] = string.format("%s-%d-%d", prefix, tid, counter)
	local body = template
	if new_commits then
		local commit = string.format("%08x%08x%08x", salt, tid, counter) .. string.rep("0", 16)
		body = string.gsub(template, sha, commit)
	end
	return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
	if quota > 0 and status == 404 then
		return -- the idle GET
	end
	answered = answered + 1
	if status == 202 then
		accepted = accepted + 1
	elseif status >= 200 and status < 300 then
		other2xx = other2xx + 1
	else
		non2xx = non2xx + 1
	end
	if quota > 0 and answered == quota then
		-- This thread is done.  wrk's main thread sleeps for the whole
		-- duration whatever the threads do: the last thread to finish
		-- wakes it with the SIGINT it takes as "stop now" (its
		-- shell's parent, $PPID, is wrk).
		local f = assert(io.open(done_file, "a"))
		f:write(tid, "\n")
		f:close()
		local n = 0
		for _ in io.lines(done_file) do n = n + 1 end
		if n >= nthreads then
			-- system() ignores SIGINT while its command runs: send
			-- it from the background, after system() has returned.
			os.execute("(sleep 0.2; kill -INT $PPID) >/dev/null 2>&1 &")
		end
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local a, o, n, s = 0, 0, 0, 0
	for _, t in ipairs(threads) do
		a = a + t:get("accepted")
		o = o + t:get("other2xx")
		n = n + t:get("non2xx")
		s = s + t:get("counter")
	end
	local e = summary.errors
	io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d accepted=%d other2xx=%d non2xx=%d sent=%d socket_errors=%d\n",
		summary.requests, summary.duration, latency:percentile(50),
		latency:percentile(99), latency.max, a, o, n, s,
		e.connect + e.read + e.write + e.timeout))
end
LUA
	chmod 644 "$1"
}

# run_wrk SECONDS CONNECTIONS THREADS NEW_COMMITS [DELIVERIES]: wrk on
# URL (pinned to its core), with SECRET; sets the RESULT variables
# (requests, duration_us, p50_us, p99_us, max_us, accepted, other2xx,
# non2xx, sent, socket_errors).  With DELIVERIES, stops once that many
# deliveries are answered (SECONDS is then only a cap).
WRK_RUN=0
run_wrk() {
	local secs=$1 conns=$2 threads=$3 newc=$4 limit=${5:-0} quota result wrk_pin=()
	[ "$threads" -le "$conns" ] || threads=$conns
	quota=0
	if [ "$limit" -gt 0 ]; then
		[ $((limit % threads)) = 0 ] || bail "$limit deliveries do not split evenly over $threads wrk threads"
		quota=$((limit / threads))
	fi
	[ -f "$T/bench.lua" ] || wrk_script "$T/bench.lua"
	[ -n "$WRK_CPUS" ] && wrk_pin=(taskset -c "$WRK_CPUS")
	WRK_RUN=$((WRK_RUN + 1))
	rm -f "$T/wrk.done"
	"${wrk_pin[@]}" wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 15s -s "$T/bench.lua" \
		"$URL" -- "$SECRET" "$FIXTURE" "bench$$.$WRK_RUN" "$newc" "$quota" /stackhook/bench-idle \
		"$T/wrk.done" "$threads" $(( ($$ * 1000 + WRK_RUN) % 2147483647 )) \
		>"$T/wrk.out" 2>&1 || bail "wrk failed: $(cat "$T/wrk.out")"
	result=$(sed -n 's/^RESULT //p' "$T/wrk.out")
	[ -n "$result" ] || bail "no result from wrk: $(cat "$T/wrk.out")"
	eval "$result"
}

# ------------------------------------------------------------ memory ----

# uss_kib PID: private memory (USS: Private_Clean + Private_Dirty) in KiB.
uss_kib() {
	awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"
}

# dirty_kib PID: Private_Dirty alone, in KiB -- what the process wrote
# (heap, stacks, anonymous maps, copied-on-write pages).  USS also counts
# the clean pages of files that no other process maps at the moment: a
# library page the responder shares with a curl or a sqlite3 that is
# running turns private when that process exits, so USS moves with what
# else runs on the machine; Private_Dirty does not.
dirty_kib() {
	awk '/^Private_Dirty:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"
}

# responder_pids: the pids in PIDFILE, sorted.
responder_pids() {
	sort -n "$PIDFILE" | tr '\n' ' ' | sed 's/ $//'
}
