#!/bin/bash
# Apache httpd + mod_proxy_fcgi in front of a spawn-fcgi'd responder, through
# the repository's apache/stackhook.conf (only the socket substituted).
# mod_proxy_fcgi sets no PATH_INFO: the responder routes on REQUEST_URI.
. "$top_srcdir/tests/integration/lib.sh"

require_programs apache2 spawn-fcgi curl
apache_has_modules proxy proxy_fcgi

PORT=$(free_port) || bail "no free port"
BASE=http://127.0.0.1:$PORT/stackhook
new_instance "$BASE"
SOCK=$T/run/stackhook.sock
PIDFILE=$T/run/stackhook.pid
A=$T/apache
mkdir -p "$A"

sed "s#/run/stackhook/stackhook.sock#$SOCK#g" \
	"$top_srcdir/apache/stackhook.conf" >"$A/stackhook.conf"
grep -q "unix:$SOCK|" "$A/stackhook.conf" ||
	bail "apache/stackhook.conf does not use the default socket /run/stackhook/stackhook.sock"

{
	apache_conf_head "$A"
	cat <<EOF
LoadModule proxy_module $APACHE_MODULES/mod_proxy.so
LoadModule proxy_fcgi_module $APACHE_MODULES/mod_proxy_fcgi.so
Listen 127.0.0.1:$PORT
Include "$A/stackhook.conf"
EOF
} >"$A/httpd.conf"

if apache2 -f "$A/httpd.conf" -t >"$A/t.out" 2>&1; then
	pass "apache2 accepts apache/stackhook.conf (mod_proxy_fcgi)"
else
	fail "apache2 accepts apache/stackhook.conf (mod_proxy_fcgi)" "$(cat "$A/t.out")"
fi

if spawn_responder "$SOCK" "$PIDFILE" "$CONF"; then
	pass "spawn-fcgi starts the responder on a unix socket"
else
	fail "spawn-fcgi starts the responder on a unix socket"
	show_log "$T/log/responder.err"
fi
PID=$(responder_pid "$PIDFILE")

if apache_start "$A" && wait_http "$BASE/healthz" 10; then
	pass "apache2 is up"
else
	fail "apache2 is up" "$(cat "$A/start.out" 2>/dev/null)"
	show_log "$A/error.log"
	bail "apache2 did not start"
fi

web_checks "$BASE" "apache mod_proxy_fcgi"

# Outside the mount, Apache answers itself.
http GET "http://127.0.0.1:$PORT/stackhookx/healthz"
check_eval "a path merely starting with /stackhook is not proxied" \
	'[ "$HTTP_STATUS" = 403 ] || [ "$HTTP_STATUS" = 404 ] && ! is_json'
check_eval "every request was served by the one responder process (pid $PID)" \
	'[ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && [ "$(responder_pid "$PIDFILE")" = "$PID" ]'

if [ "$T_FAILED" != 0 ]; then
	show_log "$A/error.log"
	show_log "$T/log/responder.err"
fi
done_testing
