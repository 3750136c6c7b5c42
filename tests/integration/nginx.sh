#!/bin/bash
# nginx + spawn-fcgi in front of the responder, through the repository's
# nginx/stackhook.conf (only the socket address substituted): the common
# web checks, storage failures answered without losing the process, SIGTERM,
# and a FastCGI start with a broken config.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl

web_instance

# --- nginx's own minimal config, including the repository's snippet -------
nginx_conf "$N" "$PORT" "$SOCK" ||
	bail "nginx/stackhook.conf does not use the default socket unix:/run/stackhook/stackhook.sock (or no fastcgi_params found)"

if nginx -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" -t >"$N/t.out" 2>&1; then
	pass "nginx accepts nginx/stackhook.conf inside a server block"
else
	fail "nginx accepts nginx/stackhook.conf inside a server block" "$(cat "$N/t.out")"
fi

# --- the responder, as docs/deploy.md starts it ----------------------------
spawn_responder_point

if nginx_start "$N" "$BASE/healthz"; then
	pass "nginx is up"
else
	fail "nginx is up"
	show_log "$N/error.log"
	bail "nginx did not start"
fi

web_checks "$BASE" nginx
check_eval "every request was served by the one responder process (pid $PID)" \
	'[ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && [ "$(responder_pid "$PIDFILE")" = "$PID" ]'

# --- SIGTERM ends the responder ---------------------------------------------
kill -TERM "$PID" 2>/dev/null
if wait_gone "$PID" 5; then
	pass "SIGTERM: the spawn-fcgi'd responder exits within 5 s"
else
	fail "SIGTERM: the spawn-fcgi'd responder exits within 5 s"
	kill -KILL "$PID" 2>/dev/null
fi

# --- storage faults: 503 naming the database, same process keeps serving ----
storage_fault() {
	local what=$1 conf=$2 pid
	if ! spawn_responder "$SOCK" "$PIDFILE" "$conf"; then
		fail "$what: responder starts" "$(tail -n 5 "$T/log/responder.err")"
		return
	fi
	pid=$(responder_pid "$PIDFILE")
	http GET "$BASE/healthz"
	check_eval "$what: /healthz is 503, status unavailable, error names the database" \
		'status_is 503 && is_json && json_str status unavailable &&
		 body_has "\"error\"[[:space:]]*:" &&
		 body_has "\"message\"[[:space:]]*:[[:space:]]*\"[^\"]*database"'
	http GET "$BASE/healthz"
	check_eval "$what: a second request is answered (503) by the same process" \
		'status_is 503 && kill -0 "$pid" 2>/dev/null && [ "$(responder_pid "$PIDFILE")" = "$pid" ]'
	http GET "$BASE/api/v1/whoami" -H "Authorization: Bearer $ADMIN_KEY"
	check_eval "$what: an API request is 503 storage_unavailable without paths, process alive" \
		'json_error 503 storage_unavailable && ! body_has "$T" && kill -0 "$pid" 2>/dev/null'
	stop_pid "$pid" TERM 5
}

sed "s#^database .*#database = $T/var/lib/missing.db#" "$CONF" >"$T/etc/missing.conf"
storage_fault "missing database file" "$T/etc/missing.conf"

echo hello >"$T/var/lib/not-a-db.db"
[ -n "$RUN_USER" ] && chown "$RUN_USER:$RUN_GROUP" "$T/var/lib/not-a-db.db"
chmod 600 "$T/var/lib/not-a-db.db"
sed "s#^database .*#database = $T/var/lib/not-a-db.db#" "$CONF" >"$T/etc/not-a-db.conf"
storage_fault "database path is not a database" "$T/etc/not-a-db.conf"

# write_fcgi_client FILE: a minimal FastCGI client (python3, with lib.sh's
# fcgi_wire.py beside it) that sends one POST to SOCKET, SIGTERMs PID after
# the first 5 body bytes, sends the rest and prints the CGI answer, then
# "[end_request]" if the request ended.
write_fcgi_client() {
	fcgi_wire_py "$(dirname "$1")"
	cat >"$1" <<'PY'
import os, signal, socket, struct, sys, time
from fcgi_wire import answer, pair, record

path, pid, key, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
params = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/spaces",
          "REQUEST_URI": "/stackhook/api/v1/spaces", "SCRIPT_NAME": "/stackhook",
          "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
          "HTTP_AUTHORIZATION": "Bearer " + key, "REMOTE_ADDR": "127.0.0.1",
          "SERVER_PROTOCOL": "HTTP/1.1"}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall(record(1, struct.pack("!HB5x", 1, 0)))
s.sendall(record(4, b"".join(pair(k.encode(), v.encode()) for k, v in params.items())) + record(4, b""))
s.sendall(record(5, body[:5]))
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
s.sendall(record(5, body[5:]) + record(5, b""))
out, ended = answer(s)
sys.stdout.write(out.decode("utf-8", "replace"))
if ended:
    sys.stdout.write("\n[end_request]\n")
PY
}

# --- SIGTERM again, in the foreground (spawn-fcgi -n) to see the status ----
user_opts=()
[ -n "$RUN_USER" ] && user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
spawn-fcgi -n -s "$SOCK" -M 0660 "${user_opts[@]}" -- "$SH_FCGI" -c "$CONF" \
	>>"$T/log/spawn-fcgi.out" 2>>"$T/log/responder.err" &
FG_PID=$!
track_pid "$FG_PID"
wait_for "[ -S '$SOCK' ] && curl -s -o /dev/null --max-time 2 '$BASE/healthz'" 5
http GET "$BASE/healthz"
check "foreground responder (spawn-fcgi -n) serves" status_is 200

# A request in flight when SIGTERM comes is finished: a FastCGI client
# sends half the body, the signal, then the rest.
if command -v python3 >/dev/null 2>&1; then
	write_fcgi_client "$T/fcgi_client.py"
	python3 "$T/fcgi_client.py" "$SOCK" "$FG_PID" "$ADMIN_KEY" \
		'{"id":"in-flight","name":"In flight"}' >"$T/inflight.out" 2>&1
	HTTP_CMD="FastCGI POST /api/v1/spaces, SIGTERM after 5 body bytes"
	HTTP_RC=0
	cgi_answer "$T/inflight.out"
	check_eval "SIGTERM during a request: that request is finished (space created, 201)" \
		'grep -q "^\[end_request\]" "$T/inflight.out" && status_is 201'
else
	skip "SIGTERM during a request: that request is finished" "python3 is not installed"
	kill -TERM "$FG_PID" 2>/dev/null
fi
if wait_gone "$FG_PID" 5; then
	wait "$FG_PID"
	rc=$?
	check_eval "SIGTERM: the responder exits with status 0 (got $rc)" '[ "$rc" = 0 ]'
else
	fail "SIGTERM: the responder exits with status 0" "still running after 5 s"
	kill -KILL "$FG_PID" 2>/dev/null
fi

# --- a FastCGI start with an invalid config stops with file:line:key -------
{
	cat "$CONF"
	echo "bogus_setting = 1"
} >"$T/etc/bad.conf"
bad_line=$(grep -n '^bogus_setting' "$T/etc/bad.conf" | cut -d: -f1)
rm -f "$T/run/bad.sock"
timeout 10 spawn-fcgi -n -s "$T/run/bad.sock" "${user_opts[@]}" -- "$SH_FCGI" -c "$T/etc/bad.conf" \
	>"$T/log/bad.out" 2>"$T/log/bad.err"
rc=$?
check_eval "FastCGI start with an unknown config key exits non-zero (got $rc)" \
	'[ "$rc" != 0 ] && [ "$rc" != 124 ]'
check_eval "... and stderr names file, line and key" \
	'grep -qF -- "$T/etc/bad.conf:$bad_line: bogus_setting" "$T/log/bad.err"' ||
	diag "stderr: $(cat "$T/log/bad.err")"

if [ "$T_FAILED" != 0 ]; then
	show_log "$N/error.log"
	show_log "$T/log/responder.err"
fi
done_testing
