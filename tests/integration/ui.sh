#!/bin/bash
# The web pages (SPEC §4.4) in a real browser: Debian's chromium, headless,
# driven by playwright-core (tests/ui/ui.test.mjs) against the responder
# behind real nginx (the repository's nginx/stackhook.conf) + spawn-fcgi.
#
# Before the browser: the pages' refusals through curl -- sign-in sets the
# session cookie (HttpOnly, SameSite=Strict), a POST without the CSRF token,
# with a wrong one, or from another origin is 403 and changes nothing.
# Then the browser's scenario (see ui.test.mjs), whose results come back as
# PASS/FAIL lines and become test points here.
#
# Screenshots go to $STACKHOOK_SCREENSHOTS (scripts/screenshots points it
# at docs/screenshots/), else to the build tree.
#
# Nothing downloads a browser: playwright-core drives /usr/bin/chromium.
# node_modules comes from tests/ui/package-lock.json (npm ci, offline from
# npm's cache when it can), into tests/ui/ when the source tree is
# writable, else into the build tree.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 flock openssl sqlite3
CHROMIUM=${STACKHOOK_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] ||
	skip_all "chromium is not installed (Debian package chromium; scripts/install-deps installs it)"
# Only a missing browser is a reason to skip: scripts/install-deps installs
# node and npm along with chromium.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	bail "node and npm are needed to drive chromium (scripts/install-deps installs nodejs)"

# ------------------------------------------------------ node_modules ----

UI_SRC=$top_srcdir/tests/ui
if [ -d "$UI_SRC/node_modules/playwright-core" ] || [ -w "$UI_SRC" ]; then
	UI_MODULES=$UI_SRC
else
	UI_MODULES=$top_builddir/tests/ui-modules
	mkdir -p "$UI_MODULES" || bail "cannot make $UI_MODULES"
	cp "$UI_SRC/package.json" "$UI_SRC/package-lock.json" "$UI_MODULES/" ||
		bail "cannot copy tests/ui/package*.json"
fi
# npm ci: offline from npm's cache when it holds the packages, else from
# the registry.  One install at a time (tests may run in parallel).
install_modules() {
	cd "$UI_MODULES" || return 1
	npm ci --offline --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
		npm ci --no-audit --no-fund --loglevel=error
}
if [ ! -d "$UI_MODULES/node_modules/playwright-core" ] ||
   ! cmp -s "$UI_MODULES/package-lock.json" "$UI_MODULES/node_modules/.package-lock.json.copy"; then
	(
		flock 9
		if [ ! -d "$UI_MODULES/node_modules/playwright-core" ] ||
		   ! cmp -s "$UI_MODULES/package-lock.json" \
			"$UI_MODULES/node_modules/.package-lock.json.copy"; then
			install_modules >"${TMPDIR:-/tmp}/stackhook-npm.$$.log" 2>&1 &&
				cp "$UI_MODULES/package-lock.json" \
					"$UI_MODULES/node_modules/.package-lock.json.copy"
		fi
	) 9>"$UI_MODULES/.npm-install.lock"
	rm -f "$UI_MODULES/.npm-install.lock"
	[ -d "$UI_MODULES/node_modules/playwright-core" ] ||
		bail "npm ci could not install playwright-core: $(tail -n 5 "${TMPDIR:-/tmp}/stackhook-npm.$$.log" 2>/dev/null)"
fi
rm -f "${TMPDIR:-/tmp}/stackhook-npm.$$.log"

# ------------------------------------------------------------ servers ----

web_instance
# People nginx signs in (the second server below) are trusted; on the first
# server nobody sets REMOTE_USER, so sessions are what counts there.
echo "trust_remote_user = yes" >>"$CONF"
serve_deployed

# A second server: the same, with nginx/stackhook-ui-auth.conf putting the
# pages behind nginx's auth_basic (docs/deploy.md).
APORT=$(free_port) || bail "no free port"
ABASE=http://127.0.0.1:$APORT/stackhook
A=$T/nginx-auth
nginx_conf "$A" "$APORT" "$SOCK" || bail "cannot write the second nginx config"
sed -e "s#unix:/run/stackhook/stackhook.sock#unix:$SOCK#g" \
	-e "s#/etc/nginx/stackhook.htpasswd#$A/htpasswd#" \
	"$top_srcdir/nginx/stackhook-ui-auth.conf" >"$A/stackhook-ui-auth.conf"
grep -q -- "$A/htpasswd" "$A/stackhook-ui-auth.conf" ||
	bail "nginx/stackhook-ui-auth.conf does not use /etc/nginx/stackhook.htpasswd"
sed -i "s#include $A/stackhook.conf;#&\n        include $A/stackhook-ui-auth.conf;#" "$A/nginx.conf"
for who in alice dave; do
	printf '%s:%s\n' "$who" "$(openssl passwd -apr1 "pw-$who")"
done >"$A/htpasswd"
chmod 644 "$A/htpasswd"
nginx_up "$A" "$ABASE/healthz"

# ------------------------------------------------------------- people ----

key_for() {
	as_run_user "$SH_CLI" -c "$CONF" key create --user "$1" 2>>"$T/log/keys.err" |
		tail -n 1
}

BOB_KEY=$(key_for bob)
CAROL_KEY=$(key_for carol)
[ -n "$BOB_KEY" ] && [ -n "$CAROL_KEY" ] || bail "stackhook key create failed: $(cat "$T/log/keys.err")"

# The example, made by the root admin: STATUS METHOD PATH JSON a line.
# GitLab Sibling is an integration bob may list but the stack's space
# cannot use.
setup_ok=yes
while read -r want method path body <&3; do
	api_json "$method" "$path" "$body"
	status_is "$want" || { setup_ok=no; last_diag; }
done 3<<'EOF'
201 POST /api/v1/spaces {"name":"ParentSpace","id":"parentspace"}
201 POST /api/v1/spaces {"name":"ChildSpace","id":"childspace","parent":"parentspace","inherit":true}
200 PUT /api/v1/spaces/parentspace/members/bob {"role":"admin"}
200 PUT /api/v1/spaces/parentspace/members/carol {"role":"read"}
201 POST /api/v1/integrations {"name":"GitLab Company","type":"default","api_host_url":"https://gitlab.company.example","api_token":"glpat-DefaultToken0000","labels":["all"],"description":"The **company** GitLab, for every stack."}
201 POST /api/v1/integrations {"name":"GitLab Backup","type":"space","space":"parentspace","api_host_url":"https://gitlab-backup.example","api_token":"glpat-BackupToken0000"}
201 POST /api/v1/spaces {"name":"SiblingSpace","id":"siblingspace","parent":"parentspace","inherit":true}
201 POST /api/v1/integrations {"name":"GitLab Sibling","type":"space","space":"siblingspace","api_host_url":"https://gitlab-sibling.example"}
201 POST /api/v1/stacks {"name":"VPC","id":"vpc","space":"childspace","namespace":"gitlab-org","repository":"hello-world","branch":"master"}
EOF
check_eval "the example's spaces, people, two integrations and a stack are made through the API" \
	'[ "$setup_ok" = yes ]'

# ---------------------------------------- refusals, with curl ----------

JAR=$T/cookies
http POST "$BASE/ui/sign-in" -c "$JAR" --data-urlencode "key=$BOB_KEY"
check_eval "signing in with an API key: 303 to /ui/ and a session cookie" \
	'status_is 303 && header_is Location "/stackhook/ui/" &&
	 header_is Set-Cookie "stackhook_session=shs_[A-Za-z0-9_-]+; Path=/stackhook/; HttpOnly; SameSite=Strict"'
check_eval "the cookie is not Secure over plain HTTP" '! header_is Set-Cookie ".*Secure"'
http POST "$BASE/ui/sign-in" --data-urlencode "key=shk_not-a-key"
check_eval "a wrong key is 401 with the sign-in form again, no cookie" \
	'status_is 401 && body_has "The API key is not valid|the API key is not valid" &&
	 ! header_is Set-Cookie ".*"'
http POST "$BASE/ui/sign-in" -H "Origin: https://evil.example" --data-urlencode "key=$BOB_KEY"
check_eval "a sign-in posted from another origin is 403, no cookie" \
	'status_is 403 && ! header_is Set-Cookie ".*"'
http GET "$BASE/ui/" -b "$JAR"
check_eval "with the cookie, the Source code page is 200 HTML" \
	'status_is 200 && header_is Content-Type "text/html; charset=utf-8" &&
	 body_has "<h1>Source code</h1>" && header_is Content-Security-Policy "default-src .none."'
CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/http.body" | head -n 1)
check_eval "the page carries a CSRF token" '[ -n "$CSRF" ]'
http GET "$BASE/ui/"
check_eval "without it, a page is 303 to the sign-in page" \
	'status_is 303 && header_is Location "/stackhook/ui/sign-in"'
http GET "$BASE/runs/abc"
check_eval "the run page too, with the way back (?next=/runs/abc)" \
	'status_is 303 && header_is Location "/stackhook/ui/sign-in\?next=/runs/abc"'

count_integrations() {
	sqlite3 "$DB" "SELECT count(*) FROM integrations WHERE slug = 'gitlab-backup' AND deleted_at IS NULL"
}
http POST "$BASE/ui/integrations/gitlab-backup/delete" -b "$JAR" --data ""
check_eval "a POST without the CSRF token is 403 and deletes nothing" \
	'status_is 403 && body_has "security token" && [ "$(count_integrations)" = 1 ]'
http POST "$BASE/ui/integrations/gitlab-backup/delete" -b "$JAR" --data "csrf=not-the-token"
check_eval "a POST with a wrong CSRF token is 403 and deletes nothing" \
	'status_is 403 && [ "$(count_integrations)" = 1 ]'
http POST "$BASE/ui/integrations/gitlab-backup/delete" -b "$JAR" --data "csrf=$CSRF" \
	-H "Origin: https://evil.example"
check_eval "a POST from another origin is 403 even with the token" \
	'status_is 403 && body_has "another site" && [ "$(count_integrations)" = 1 ]'
http POST "$BASE/ui/integrations/gitlab-backup/delete" -b "$JAR" --data "csrf=$CSRF" \
	-H "Sec-Fetch-Site: cross-site"
check_eval "a POST the browser marks Sec-Fetch-Site: cross-site is 403" \
	'status_is 403 && [ "$(count_integrations)" = 1 ]'
http GET "$BASE/ui/integrations/gitlab-backup/delete" -b "$JAR"
check_eval "GET on the delete page only asks (200) and deletes nothing" \
	'status_is 200 && body_has "Delete GitLab Backup\?" && [ "$(count_integrations)" = 1 ]'
http POST "$BASE/ui/sign-out" -b "$JAR" -c "$JAR" --data "csrf=$CSRF"
check_eval "signing out: 303 to the sign-in page, the cookie cleared" \
	'status_is 303 && header_is Set-Cookie "stackhook_session=; .*Max-Age=0"'
check_eval "and the session is gone from the database" \
	'[ "$(sqlite3 "$DB" "SELECT count(*) FROM sessions")" = 0 ]'

# ------------------------------- nginx's auth_basic and REMOTE_USER ----

http GET "$ABASE/ui/"
check_eval "behind nginx/stackhook-ui-auth.conf, the pages ask nginx's sign-in (401 Basic)" \
	'status_is 401 && header_is WWW-Authenticate "Basic"'
http GET "$ABASE/ui/" -u dave:pw-dave
check_eval "signed in by nginx, dave (granted nothing) sees the pages as himself, with no sign-out" \
	'status_is 200 && body_has "Signed in as <strong>dave</strong>" && ! body_has "sign-out" &&
	 body_has "No integrations yet|Shown to its admins"'
http GET "$ABASE/ui/integrations/gitlab-backup/rotate" -u alice:pw-alice
RCSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/http.body" | head -n 1)
check_eval "alice (root admin) gets the rotate confirmation, with a CSRF token" \
	'status_is 200 && [ -n "$RCSRF" ]'
http POST "$ABASE/ui/integrations/gitlab-backup/rotate" -u alice:pw-alice --data "csrf="
check "her POST without the token is 403" status_is 403
http POST "$ABASE/ui/integrations/gitlab-backup/rotate" -u alice:pw-alice --data "csrf=$RCSRF"
check_eval "with it, the secret is rotated (303 to the details) and audited as alice" \
	'status_is 303 && header_is Location "/stackhook/ui/integrations/gitlab-backup\?rotated=1" &&
	 [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor = '"'alice'"' AND action = '"'rotate-secret'"'")" = 1 ]'
http GET "$ABASE/api/v1/whoami" -H "Authorization: Bearer $BOB_KEY"
check_eval "the API on that server still takes API keys" 'status_is 200 && json_str user bob'
http GET "$ABASE/ui/" -u dave:wrong
check "a wrong password is nginx's 401" status_is 401

# ------------------------------------------------------ the browser ----

SHOTS=${STACKHOOK_SCREENSHOTS:-$top_builddir/tests/ui/screenshots}
mkdir -p "$SHOTS" || bail "cannot make $SHOTS"
export UI_BASE=$BASE UI_MODULES UI_SHOTS=$SHOTS UI_CHROMIUM=$CHROMIUM
export UI_ALICE_KEY=$ADMIN_KEY UI_BOB_KEY=$BOB_KEY UI_CAROL_KEY=$CAROL_KEY
export UI_FIXTURES=$top_srcdir/tests/fixtures/gitlab/webhooks
# The browser's profile goes to $T/tmp (TMPDIR), removed with $T.
mkdir -p "$T/tmp"
TMPDIR=$T/tmp timeout 100 node "$top_srcdir/tests/ui/ui.test.mjs" \
	>"$T/browser.out" 2>"$T/browser.err"
NODE_RC=$?
saw=0
while IFS= read -r line; do
	case $line in
	"PASS "*) pass "browser: ${line#PASS }"; saw=$((saw + 1)) ;;
	"FAIL "*) fail "browser: ${line#FAIL }"; saw=$((saw + 1)) ;;
	"# "*) printf '%s\n' "$line" ;;
	esac
done <"$T/browser.out"
check_eval "the browser scenario ran to its end (node exit status $NODE_RC, $saw checks)" \
	'[ "$NODE_RC" = 0 ] && [ "$saw" -ge 20 ]' ||
	diag "$(tail -n 20 "$T/browser.err")"
for f in source-code.png set-up-error.png details.png; do
	check_eval "screenshot $f is written" '[ -s "$SHOTS/$f" ]'
done

# No chromium left behind (playwright closes it; a crash would not).
check_eval "no browser process is left" \
	'! pgrep -f -- "$T/tmp/" >/dev/null'

done_testing
