#!/bin/bash
# nginx + spawn-fcgi in front of the responder, through the repository's
# nginx/stackhook.conf (only the socket address substituted): the common
# web checks, storage failures answered without losing the process, SIGTERM,
# and a FastCGI start with a broken config.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT/stackhook
new_instance "$BASE"
SOCK=$T/run/stackhook.sock
PIDFILE=$T/run/stackhook.pid
N=$T/nginx
mkdir -p "$N"

# --- nginx's own minimal config, including the repository's snippet -------
sed "s#unix:/run/stackhook/stackhook.sock#unix:$SOCK#g" \
	"$top_srcdir/nginx/stackhook.conf" >"$N/stackhook.conf"
grep -q "unix:$SOCK" "$N/stackhook.conf" ||
	bail "nginx/stackhook.conf does not use the default socket unix:/run/stackhook/stackhook.sock"
# The snippet includes fastcgi_params relative to nginx's config directory.
conf_dir=$(nginx -V 2>&1 | sed -n 's/.*--conf-path=\([^ ]*\)\/[^/ ]*.*/\1/p')
cp "${conf_dir:-/etc/nginx}/fastcgi_params" "$N/" 2>/dev/null ||
	cp /etc/nginx/fastcgi_params "$N/" || bail "no fastcgi_params found"

{
	[ -n "$RUN_USER" ] && echo "user $RUN_USER $RUN_GROUP;"
	cat <<EOF
worker_processes 1;
daemon off;
pid $N/nginx.pid;
error_log $N/error.log info;
events { worker_connections 64; }
http {
    access_log $N/access.log;
    client_body_temp_path $N/client_body;
    fastcgi_temp_path $N/fastcgi;
    proxy_temp_path $N/proxy;
    uwsgi_temp_path $N/uwsgi;
    scgi_temp_path $N/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        include $N/stackhook.conf;
    }
}
EOF
} >"$N/nginx.conf"

if nginx -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" -t >"$N/t.out" 2>&1; then
	pass "nginx accepts nginx/stackhook.conf inside a server block"
else
	fail "nginx accepts nginx/stackhook.conf inside a server block" "$(cat "$N/t.out")"
fi

# --- the responder, as docs/deploy.md starts it ----------------------------
if spawn_responder "$SOCK" "$PIDFILE" "$CONF"; then
	pass "spawn-fcgi starts the responder on a unix socket"
else
	fail "spawn-fcgi starts the responder on a unix socket"
	show_log "$T/log/responder.err"
fi
PID=$(responder_pid "$PIDFILE")

nginx -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" >"$N/stdout" 2>&1 &
NGINX_PID=$!
track_pid "$NGINX_PID"
if wait_http "$BASE/healthz" 10; then
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
kill -TERM "$FG_PID" 2>/dev/null
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
	'grep -qF "$T/etc/bad.conf:$bad_line: bogus_setting" "$T/log/bad.err"' ||
	diag "stderr: $(cat "$T/log/bad.err")"

if [ "$T_FAILED" != 0 ]; then
	show_log "$N/error.log"
	show_log "$T/log/responder.err"
fi
done_testing
