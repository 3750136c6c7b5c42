#!/bin/bash
# Apache httpd + mod_proxy_fcgi in front of a spawn-fcgi'd responder, through
# the repository's apache/stackhook.conf (only the socket substituted).
# mod_proxy_fcgi sets no PATH_INFO: the responder routes on REQUEST_URI.
# The pages sit behind apache/stackhook-ui-auth.conf (Basic auth, the name
# passed as REMOTE_USER, trust_remote_user = yes); the API and webhooks not.
. "$top_srcdir/tests/integration/lib.sh"

require_programs apache2 spawn-fcgi curl
apache_has_modules proxy proxy_fcgi auth_basic authn_core authn_file authz_user

web_instance
echo "trust_remote_user = yes" >>"$CONF"
A=$T/apache
mkdir -p "$A"

sed "s#/run/stackhook/stackhook.sock#$SOCK#g" \
	"$top_srcdir/apache/stackhook.conf" >"$A/stackhook.conf"
grep -q "unix:$SOCK|" "$A/stackhook.conf" ||
	bail "apache/stackhook.conf does not use the default socket /run/stackhook/stackhook.sock"
sed "s#/etc/apache2/stackhook.htpasswd#$A/htpasswd#" \
	"$top_srcdir/apache/stackhook-ui-auth.conf" >"$A/stackhook-ui-auth.conf"
grep -q -- "$A/htpasswd" "$A/stackhook-ui-auth.conf" ||
	bail "apache/stackhook-ui-auth.conf does not use /etc/apache2/stackhook.htpasswd"
for who in alice dave; do
	printf '%s:%s\n' "$who" "$(openssl passwd -apr1 "pw-$who")"
done >"$A/htpasswd"
chmod 644 "$A/htpasswd"

{
	apache_conf_head "$A"
	cat <<EOF
LoadModule proxy_module $APACHE_MODULES/mod_proxy.so
LoadModule proxy_fcgi_module $APACHE_MODULES/mod_proxy_fcgi.so
LoadModule auth_basic_module $APACHE_MODULES/mod_auth_basic.so
LoadModule authn_core_module $APACHE_MODULES/mod_authn_core.so
LoadModule authn_file_module $APACHE_MODULES/mod_authn_file.so
LoadModule authz_user_module $APACHE_MODULES/mod_authz_user.so
Listen 127.0.0.1:$PORT
Include "$A/stackhook.conf"
Include "$A/stackhook-ui-auth.conf"
EOF
} >"$A/httpd.conf"

if apache2 -f "$A/httpd.conf" -t >"$A/t.out" 2>&1; then
	pass "apache2 accepts apache/stackhook.conf (mod_proxy_fcgi)"
else
	fail "apache2 accepts apache/stackhook.conf (mod_proxy_fcgi)" "$(cat "$A/t.out")"
fi

spawn_responder_point

if apache_start "$A" && wait_http "$BASE/healthz" 10; then
	pass "apache2 is up"
else
	fail "apache2 is up" "$(cat "$A/start.out" 2>/dev/null)"
	show_log "$A/error.log"
	bail "apache2 did not start"
fi

web_checks "$BASE" "apache mod_proxy_fcgi"

# A small chunked body (web_checks sends a large one): read whole.
api_json POST /api/v1/spaces '{"name":"Chunked"}' -H 'Transfer-Encoding: chunked'
check_eval "a small chunked JSON body is read whole: 201" 'status_is 201 && json_str id chunked'

# The pages behind apache/stackhook-ui-auth.conf.
http GET "$BASE/ui/"
check_eval "behind apache/stackhook-ui-auth.conf, the pages ask Apache's sign-in (401 Basic)" \
	'status_is 401 && header_is WWW-Authenticate "Basic"'
http GET "$BASE/runs/nosuchrun"
check "... the run pages too (401)" status_is 401
http GET "$BASE/ui/" -u dave:pw-dave
check_eval "signed in by Apache, dave (granted nothing) sees the pages as himself, with no sign-out" \
	'status_is 200 && body_has "Signed in as <strong>dave</strong>" && ! body_has "sign-out"'
http GET "$BASE/ui/" -u alice:pw-alice
check_eval "alice (root admin, from init) sees the page to set up an integration" \
	'status_is 200 && body_has "Signed in as <strong>alice</strong>" && body_has "Set up integration"'
http GET "$BASE/ui/" -u dave:wrong
check "a wrong password is Apache's 401" status_is 401
http GET "$BASE/api/v1/whoami" -u alice:pw-alice
check_eval "the API ignores Basic auth: without an API key, 401 Bearer" \
	'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'
http GET "$BASE/api/v1/whoami" -H "Authorization: Bearer $ADMIN_KEY"
check_eval "... and takes API keys (alice)" 'status_is 200 && json_str user alice'

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
