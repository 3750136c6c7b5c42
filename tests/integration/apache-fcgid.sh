#!/bin/bash
# Apache httpd starting the responder itself, through the repository's
# snippets (only paths substituted):
#   - apache/stackhook-fcgid.conf: mod_fcgid, ScriptAlias, FcgidInitialEnv;
#   - apache/htaccess under mod_fcgid (a shared host with mod_fcgid);
#   - apache/htaccess without mod_fcgid, i.e. as plain CGI (mod_cgid).
. "$top_srcdir/tests/integration/lib.sh"

require_programs apache2 curl
apache_has_modules fcgid cgid

PORT=$(free_port) || bail "no free port"
HT_PORT=$(free_port) || bail "no free port"
while [ "$HT_PORT" = "$PORT" ]; do HT_PORT=$(free_port) || bail "no free port"; done
BASE=http://127.0.0.1:$PORT/stackhook
new_instance "$BASE"

# htaccess_site DOCROOT: DOCROOT/stackhook/ holding a copy of the responder
# and the repository's apache/htaccess as .htaccess (config path set).
htaccess_site() {
	local site=$1/stackhook
	mkdir -p "$site"
	cp "$SH_FCGI" "$site/stackhook.fcgi"
	chmod 755 "$1" "$site" "$site/stackhook.fcgi"
	sed "s#^SetEnv STACKHOOK_CONFIG .*#SetEnv STACKHOOK_CONFIG $CONF#" \
		"$top_srcdir/apache/htaccess" >"$site/.htaccess"
	chmod 644 "$site/.htaccess"
	grep -q "^SetEnv STACKHOOK_CONFIG $CONF\$" "$site/.htaccess" ||
		bail "apache/htaccess has no SetEnv STACKHOOK_CONFIG line"
	# What the htaccess asks of the host.
	cat <<EOF
<Directory "$1">
    Options FollowSymLinks
    AllowOverride FileInfo AuthConfig Options=ExecCGI
    Require all granted
</Directory>
EOF
}

# --- one Apache with mod_fcgid: the snippet on PORT, htaccess on HT_PORT ----
A=$T/apache
mkdir -p "$A/fcgid" "$A/ht"
sed -e "s#/usr/local/sbin#$T/bin#g" \
	-e "s#/usr/local/etc/stackhook/stackhook.conf#$CONF#g" \
	"$top_srcdir/apache/stackhook-fcgid.conf" >"$A/stackhook-fcgid.conf"
grep -q "FcgidInitialEnv STACKHOOK_CONFIG $CONF\$" "$A/stackhook-fcgid.conf" &&
	grep -q -- "$T/bin/stackhook.fcgi" "$A/stackhook-fcgid.conf" ||
	bail "apache/stackhook-fcgid.conf does not use the default paths"
[ -n "$RUN_USER" ] && chown "$RUN_USER:$RUN_GROUP" "$A/fcgid"
{
	apache_conf_head "$A"
	cat <<EOF
LoadModule fcgid_module $APACHE_MODULES/mod_fcgid.so
FcgidIPCDir "$A/fcgid"
FcgidProcessTableFile "$A/fcgid/shm"
Listen 127.0.0.1:$PORT
Listen 127.0.0.1:$HT_PORT
<VirtualHost 127.0.0.1:$PORT>
    Include "$A/stackhook-fcgid.conf"
</VirtualHost>
<VirtualHost 127.0.0.1:$HT_PORT>
    DocumentRoot "$A/ht"
    # What apache/htaccess asks the host for under mod_fcgid (>= max_body).
    FcgidMaxRequestLen 11534336
EOF
	htaccess_site "$A/ht"
	echo "</VirtualHost>"
} >"$A/httpd.conf"

# --- a second Apache without mod_fcgid: the htaccess runs it as CGI ----------
CGI_PORT=$(free_port) || bail "no free port"
while [ "$CGI_PORT" = "$PORT" ] || [ "$CGI_PORT" = "$HT_PORT" ]; do CGI_PORT=$(free_port) || bail "no free port"; done
C=$T/apache-cgi
mkdir -p "$C/ht"
{
	apache_conf_head "$C"
	cat <<EOF
LoadModule cgid_module $APACHE_MODULES/mod_cgid.so
ScriptSock "$C/run/cgid.sock"
Listen 127.0.0.1:$CGI_PORT
DocumentRoot "$C/ht"
EOF
	htaccess_site "$C/ht"
} >"$C/httpd.conf"

for dir in "$A" "$C"; do
	if apache2 -f "$dir/httpd.conf" -t >"$dir/t.out" 2>&1; then
		pass "apache2 accepts the config of ${dir##*/}"
	else
		fail "apache2 accepts the config of ${dir##*/}" "$(cat "$dir/t.out")"
	fi
done

for dir in "$A" "$C"; do
	apache_start "$dir" || { show_log "$dir/error.log"; bail "apache2 (${dir##*/}) did not start: $(cat "$dir/start.out")"; }
done
if wait_http "$BASE/healthz" 10 && wait_http "http://127.0.0.1:$HT_PORT/stackhook/healthz" 10 &&
   wait_http "http://127.0.0.1:$CGI_PORT/stackhook/healthz" 10; then
	pass "both apache2 instances are up"
else
	fail "both apache2 instances are up"
fi

web_checks "$BASE" "mod_fcgid (stackhook-fcgid.conf)"
http GET "$BASE/healthz"
check_eval "mod_fcgid started the responder as a FastCGI process" \
	'status_is 200 && pgrep -f "^$T/bin/stackhook.fcgi" >/dev/null'

web_checks "http://127.0.0.1:$HT_PORT/stackhook" "htaccess + mod_fcgid"
check_eval "the htaccess responder runs under mod_fcgid" \
	'pgrep -f "^$A/ht/stackhook/stackhook.fcgi" >/dev/null'
http GET "http://127.0.0.1:$HT_PORT/stackhook/.htaccess"
check_eval "the htaccess itself is not served" \
	'! body_has "RewriteRule"'

web_checks "http://127.0.0.1:$CGI_PORT/stackhook" "htaccess + CGI"

if [ "$T_FAILED" != 0 ]; then
	show_log "$A/error.log"
	show_log "$C/error.log"
fi
done_testing
