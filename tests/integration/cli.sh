#!/bin/bash
# The command line: init (idempotent, modes, owner), keys (create, list,
# revoke -- checked through the CGI responder), rekey (a new secret key,
# the tokens re-sealed, resumable), --help, version, config errors.
. "$top_srcdir/tests/integration/lib.sh"

make_tmpdir
copy_programs
CONF=$T/etc/stackhook.conf
write_config "$CONF" "http://127.0.0.1:8080/stackhook"
DB=$T/var/lib/stackhook.db

# run CMD...: CMD's exit status in RC, stdout in $T/out, stderr in $T/err.
run() {
	HTTP_CMD=
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
}

out_diag() {
	diag "exit $RC" "stdout: $(head -c 800 "$T/out")" "stderr: $(head -c 800 "$T/err")"
}

# ok_run DESC 'expression': a check whose failure shows the command's output.
ok_run() {
	if eval "$2"; then
		pass "$1"
	else
		fail "$1" "failed: $2"
		out_diag
	fi
}

KEY_RE='^[A-Za-z0-9_-]{20,}$'

# --- init ------------------------------------------------------------------
run "$SH_CLI" -c "$CONF" init --admin alice
ADMIN_KEY=$(tail -n 1 "$T/out")
ok_run "init --admin alice exits 0" '[ "$RC" = 0 ]'
ok_run "init --admin prints the bare key alone on the last line" \
	'[[ $ADMIN_KEY =~ $KEY_RE ]]'
ok_run "the key is printed once (only on the last line)" \
	'[ "$(grep -cF -- "$ADMIN_KEY" "$T/out")" = 1 ]'

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check_eval "the admin key works: whoami is alice, admin of root" \
	'status_is 200 && json_str user alice && json_str root admin'

# mode_is PATH MODE [OWNER]
mode_is() {
	local st
	st=$(stat -c '%a %U' "$1" 2>/dev/null) || return 1
	[ "${st%% *}" = "$2" ] || return 1
	[ -z "$RUN_USER" ] || [ "${st#* }" = "$RUN_USER" ]
}
owner=${RUN_USER:+, owned by $RUN_USER}
check "database file is 0600$owner" mode_is "$DB" 600
check "database directory made by init is 0700$owner" mode_is "$T/var/lib" 700
check "secret key is 0600$owner" mode_is "$T/etc/secret.key" 600
check_eval "secret key is 32 bytes" '[ "$(stat -c %s "$T/etc/secret.key")" = 32 ]'
check "spool is 0700$owner" mode_is "$T/var/spool" 700
bad=
for d in "$T/var/spool"/*; do
	mode_is "$d" 700 || bad="$bad $d"
done
check_eval "every spool subdirectory is 0700$owner" \
	'[ -z "$bad" ] && [ -n "$(ls "$T/var/spool")" ]' || diag "not so:$bad"

key_sum=$(md5sum <"$T/etc/secret.key")
run "$SH_CLI" -c "$CONF" init
ok_run "init again exits 0" '[ "$RC" = 0 ]'
ok_run "init again keeps the secret key" '[ "$(md5sum <"$T/etc/secret.key")" = "$key_sum" ]'
cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check "after init again the admin key still works" status_is 200
cgi REQUEST_METHOD=GET PATH_INFO=/healthz
check "after init again /healthz is 200" status_is 200

# --- keys ------------------------------------------------------------------
run "$SH_CLI" -c "$CONF" key create --user bob
BOB_KEY=$(tail -n 1 "$T/out")
ok_run "key create --user bob: exit 0, bare key alone on the last line" \
	'[ "$RC" = 0 ] && [[ $BOB_KEY =~ $KEY_RE ]] && [ "$BOB_KEY" != "$ADMIN_KEY" ]'
cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $BOB_KEY"
check_eval "bob's key works: whoami is bob, no roles" \
	'status_is 200 && json_str user bob'

# STACKHOOK_CONFIG instead of -c.
HTTP_CMD=
STACKHOOK_CONFIG=$CONF "$SH_CLI" key list >"$T/out" 2>"$T/err"
RC=$?
ok_run "key list (config from \$STACKHOOK_CONFIG) exits 0" '[ "$RC" = 0 ]'
ok_run "key list: a tab-separated header starting with id" \
	'head -n 1 "$T/out" | grep -qP "^id\t"'
fields=$(awk -F'\t' '{ print NF }' "$T/out" | sort -u)
ok_run "key list: every line has as many fields as the header ($fields)" \
	'[ "$(echo "$fields" | wc -l)" = 1 ] && [ "$fields" -ge 3 ]'
ok_run "key list: one row each for alice and bob" \
	'[ "$(grep -cP "\talice\t" "$T/out")" = 1 ] && [ "$(grep -cP "\tbob\t" "$T/out")" = 1 ]'
ok_run "key list never shows a key" \
	'! grep -qF -- "$ADMIN_KEY" "$T/out" && ! grep -qF -- "$BOB_KEY" "$T/out"'
BOB_ID=$(awk -F'\t' '$2 == "bob" { print $1 }' "$T/out")

run "$SH_CLI" -c "$CONF" key revoke "$BOB_ID"
ok_run "key revoke $BOB_ID exits 0" '[ "$RC" = 0 ]'
cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $BOB_KEY"
check "the revoked key is refused: whoami 401" json_error 401 unauthorized
cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check "the other key still works" status_is 200
run "$SH_CLI" -c "$CONF" key list
ok_run "key list shows bob's key as revoked" \
	'awk -F"\t" -v id="$BOB_ID" "\$1 == id" "$T/out" | grep -q revoked'
run "$SH_CLI" -c "$CONF" key revoke 99999
ok_run "key revoke of an unknown id fails with a message" '[ "$RC" != 0 ] && [ -s "$T/err" ]'
run "$SH_CLI" -c "$CONF" key revoke abc
ok_run "key revoke of a non-number fails with a message" '[ "$RC" != 0 ] && [ -s "$T/err" ]'
run "$SH_CLI" -c "$CONF" key create
ok_run "key create without --user is a usage error" '[ "$RC" != 0 ] && grep -q usage "$T/err"'

if [ -n "$RUN_USER" ]; then
	wrong=$(find "$T/var/lib" "$T/var/spool" ! -user "$RUN_USER" 2>/dev/null)
	check_eval "after key commands run as root, every file is still $RUN_USER's" \
		'[ -z "$wrong" ]' || diag "not $RUN_USER's: $wrong"
fi

# --- rekey -----------------------------------------------------------------
# cgi_json METHOD PATH [JSON]: the admin API through the CGI responder.
cgi_json() {
	if [ $# -ge 3 ]; then
		printf '%s' "$3" >"$T/cgi.in"
		CGI_STDIN=$T/cgi.in
		cgi REQUEST_METHOD="$1" PATH_INFO="$2" HTTP_AUTHORIZATION="Bearer $ADMIN_KEY" \
			CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$T/cgi.in")"
		CGI_STDIN=/dev/null
	else
		cgi REQUEST_METHOD="$1" PATH_INFO="$2" HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
	fi
}
sealed() {
	as_run_user sqlite3 -cmd '.timeout 5000' "$DB" \
		"SELECT hex(token_sealed) || hex(secret_sealed) FROM integrations WHERE slug = '$1'"
}
KEYFILE=$T/etc/secret.key
TOKEN=glpat-TESTONLY-rekey7Hq2ZpLx9c
cgi_json POST /api/v1/integrations \
	"{\"name\":\"Rekeyed\",\"type\":\"default\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$TOKEN\"}"
check "an integration with a GitLab token: 201" status_is 201
SECRET=$(jv "d['webhook_secret']")
SEALED0=$(sealed rekeyed)
key_sum=$(md5sum <"$KEYFILE")

run "$SH_CLI" -c "$CONF" rekey
ok_run "rekey: exit 0, 2 values re-sealed (the token and the webhook secret)" \
	'[ "$RC" = 0 ] && grep -q "re-sealed 2 value" "$T/out"'
ok_run "... a new secret key, 0600$owner; the old one kept in secret.key.old" \
	'[ "$(md5sum <"$KEYFILE")" != "$key_sum" ] && mode_is "$KEYFILE" 600 &&
	 [ "$(md5sum <"$KEYFILE.old")" = "$key_sum" ] && [ ! -e "$KEYFILE.new" ]'
check_eval "... the sealed values changed in the database" '[ "$(sealed rekeyed)" != "$SEALED0" ]'
cgi_json GET /api/v1/integrations/rekeyed/details
got=$(jv "d['webhook_secret'] + ' ' + d['token_last4']")
check_eval "... and open under the new key: the same webhook secret, token ending ${TOKEN: -4}" \
	'status_is 200 && [ "$got" = "$SECRET ${TOKEN: -4}" ]'
CGI_STDIN=$top_srcdir/tests/fixtures/gitlab/webhooks/push.json
cgi REQUEST_METHOD=POST PATH_INFO=/webhooks/gitlab/rekeyed HTTP_X_GITLAB_TOKEN="$SECRET" \
	HTTP_X_GITLAB_EVENT="Push Hook" CONTENT_TYPE=application/json \
	CONTENT_LENGTH="$(wc -c <"$CGI_STDIN")"
CGI_STDIN=/dev/null
got=$(jv "d['status']")
check_eval "... a webhook with that secret is let in (200, no stack follows it)" \
	'status_is 200 && [ "$got" = ignored ]'
cgi REQUEST_METHOD=POST PATH_INFO=/webhooks/gitlab/rekeyed HTTP_X_GITLAB_TOKEN="wrong-$SECRET" \
	CONTENT_TYPE=application/json CONTENT_LENGTH=2
check "... and another token is still 401" status_is 401

run "$SH_CLI" -c "$CONF" rekey
ok_run "rekey again while secret.key.old is there: exit 1 naming it" \
	'[ "$RC" = 1 ] && grep -qF -- "$KEYFILE.old" "$T/err"'
mv "$KEYFILE.old" "$T/secret.key.first"

# A rekey that stopped after writing its new key (secret.key.new) is
# finished with that key, not another.
key_sum=$(md5sum <"$KEYFILE")
head -c 32 /dev/urandom >"$KEYFILE.new"
chmod 600 "$KEYFILE.new"
[ -z "$RUN_USER" ] || chown "$RUN_USER" "$KEYFILE.new"
new_sum=$(md5sum <"$KEYFILE.new")
run "$SH_CLI" -c "$CONF" rekey
ok_run "rekey with a secret.key.new left behind: it says so and finishes with that key" \
	'[ "$RC" = 0 ] && grep -q "finishing" "$T/out" && [ "$(md5sum <"$KEYFILE")" = "$new_sum" ] &&
	 [ "$(md5sum <"$KEYFILE.old")" = "$key_sum" ]'
cgi_json GET /api/v1/integrations/rekeyed/details
got=$(jv "d['webhook_secret']")
check_eval "... the webhook secret still opens" 'status_is 200 && [ "$got" = "$SECRET" ]'
mv "$KEYFILE.old" "$T/secret.key.second"

# A value that opens with neither key: nothing changes.
as_run_user sqlite3 -cmd '.timeout 5000' "$DB" \
	"UPDATE integrations SET token_sealed = x'01020304' WHERE slug = 'rekeyed'"
key_sum=$(md5sum <"$KEYFILE")
SEALED0=$(sealed rekeyed)
run "$SH_CLI" -c "$CONF" rekey
ok_run "rekey with a token sealed under another key: exit 1 naming the integration" \
	'[ "$RC" = 1 ] && grep -q "integration rekeyed" "$T/err"'
ok_run "... the key and the database are as they were" \
	'[ "$(md5sum <"$KEYFILE")" = "$key_sum" ] && [ "$(sealed rekeyed)" = "$SEALED0" ] &&
	 [ ! -e "$KEYFILE.old" ]'
rm -f "$KEYFILE.new"
if [ -n "$RUN_USER" ]; then
	wrong=$(find "$T/var/lib" "$T/etc/secret.key" ! -user "$RUN_USER" 2>/dev/null)
	check_eval "after rekey as root, the database files and the key are still $RUN_USER's" \
		'[ -z "$wrong" ]' || diag "not $RUN_USER's: $wrong"
fi

# --- help and version ------------------------------------------------------
run "$SH_CLI" --help
ok_run "stackhook --help exits 0 and prints usage" '[ "$RC" = 0 ] && grep -q "^usage:" "$T/out"'
commands=$(awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1; next } c { exit }' "$T/out")
ok_run "stackhook --help lists init, key and version" \
	'echo "$commands" | grep -qx init && echo "$commands" | grep -qx key &&
	 echo "$commands" | grep -qx version'
for c in $commands; do
	run "$SH_CLI" "$c" --help
	ok_run "stackhook $c --help exits 0 and prints its usage" \
		'[ "$RC" = 0 ] && grep -q "usage: stackhook $c" "$T/out"'
done
run "$SH_CLI" version
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
ok_run "stackhook version prints stackhook $version" \
	'[ "$RC" = 0 ] && head -n 1 "$T/out" | grep -qx "stackhook $version"'
run "$SH_CLI" no-such-command
ok_run "an unknown command fails and says so" \
	'[ "$RC" != 0 ] && grep -q "no-such-command" "$T/err"'

# --- config errors ---------------------------------------------------------
{
	cat "$CONF"
	echo "# a comment"
	echo "colour = blue"
} >"$T/etc/unknown.conf"
line=$(grep -n '^colour' "$T/etc/unknown.conf" | cut -d: -f1)
run "$SH_CLI" -c "$T/etc/unknown.conf" key list
ok_run "unknown key in the config: exit 1" '[ "$RC" = 1 ]'
ok_run "... naming file:line:key ($T/etc/unknown.conf:$line: colour)" \
	'grep -qF -- "$T/etc/unknown.conf:$line: colour" "$T/err"'

sed 's/^max_body .*/max_body = lots/' "$CONF" >"$T/etc/badvalue.conf"
line=$(grep -n '^max_body' "$T/etc/badvalue.conf" | cut -d: -f1)
run "$SH_CLI" -c "$T/etc/badvalue.conf" key list
ok_run "bad value (max_body = lots): exit 1 naming file:line:key" \
	'[ "$RC" = 1 ] && grep -qF -- "$T/etc/badvalue.conf:$line: max_body" "$T/err"'

grep -v '^database' "$CONF" >"$T/etc/nodb.conf"
run "$SH_CLI" -c "$T/etc/nodb.conf" key list
ok_run "missing required key (database): exit 1 naming the file and the key" \
	'[ "$RC" = 1 ] && grep -qF -- "$T/etc/nodb.conf" "$T/err" && grep -q database "$T/err"'

run "$SH_CLI" -c "$T/etc/absent.conf" key list
ok_run "missing config file: exit 1 naming it" \
	'[ "$RC" = 1 ] && grep -qF -- "$T/etc/absent.conf" "$T/err"'
run env STACKHOOK_CONFIG="$T/etc/absent.conf" "$SH_CLI" init
ok_run "missing config file named by \$STACKHOOK_CONFIG: exit 1 naming it" \
	'[ "$RC" = 1 ] && grep -qF -- "$T/etc/absent.conf" "$T/err"'

done_testing
