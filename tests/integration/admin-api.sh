#!/bin/bash
# The admin API through real nginx + spawn-fcgi, with the repository's
# nginx/stackhook.conf:
#  (a) every ```sh block of docs/api.md, run in order in one shell against a
#      fresh instance ($STACKHOOK, $KEY set; `stackhook` runs the CLI on the
#      instance); each must exit 0, and every request it makes must answer
#      the status of the block's `# → NNN` comment (a block without one must
#      make no request);
#  (b) the example of SPEC §3 as explicit checks on a second fresh database:
#      ParentSpace, ChildSpace, GitLab Prod, VPC, a reader, a sibling space,
#      an unrelated space, the default integration, write-only tokens, secret
#      rotation, deletion and recreation, conflicts, bad bodies that store
#      nothing, pages.  A transcript of the example goes to the log as TAP
#      diagnostics.
# Keys are passed to api() by variable name, so shellcheck sees them unused:
# shellcheck disable=SC2034
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 sqlite3

DOC=$top_srcdir/docs/api.md
[ -f "$DOC" ] || bail "$DOC is missing"

web_instance

# --- nginx with the repository's snippet, the responder under spawn-fcgi ----
serve_deployed

# ========================================================================
# (a) the examples of docs/api.md, top to bottom
# ========================================================================

D=$T/doc
mkdir -p "$D"
# One file per ```sh block (NNN.sh) and the line where its code starts.
awk -v dir="$D" '
	!inb && /^```sh[[:space:]]*$/ {
		inb = 1; n++; f = sprintf("%s/%03d.sh", dir, n)
		print NR + 1 > (f ".line"); close(f ".line")
		printf "" > f
		next
	}
	inb && /^```[[:space:]]*$/ { inb = 0; close(f); next }
	inb { print > f }
	END { if (inb) exit 1 }
' "$DOC" || fail "docs/api.md: every \`\`\`sh block is closed"

blocks=("$D"/[0-9][0-9][0-9].sh)
[ -e "${blocks[0]}" ] || blocks=()
check_eval "docs/api.md has runnable examples (${#blocks[@]} \`\`\`sh blocks)" \
	'[ "${#blocks[@]}" -ge 20 ]'

# Every route the responder serves (the "METHOD", "/api/v1/..." pairs of
# its route table in fcgi/) has a heading "### `METHOD /path`" in the doc
# (path parameters may be named there: {id}, {slug}, {user}).
sed -n 's/^#\{2,4\} `\([A-Z]*\) \([^`]*\)`.*/\1 \2/p' "$DOC" |
	sed 's/{[a-z_]*}/{}/g' | sort -u >"$D/headings"
cat "$top_srcdir"/fcgi/*.c |
	grep -oE '"(GET|POST|PUT|PATCH|DELETE)",[[:space:]]*"/api/v1/[^"]*"' |
	sed 's/^"\([A-Z]*\)",[[:space:]]*"\([^"]*\)"$/\1 \2/' | sort -u >"$D/routes"
missing=$(comm -23 "$D/routes" "$D/headings" | tr '\n' ';')
check_eval "docs/api.md documents every /api/v1 route of the responder ($(wc -l <"$D/routes") routes)" \
	'[ -s "$D/routes" ] && [ -z "$missing" ]' || diag "undocumented: $missing"

# The variables the examples set, carried from one block to the next.
DOC_VARS=$(cat "${blocks[@]}" /dev/null |
	sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)=.*/\2/p' |
	sort -u | tr '\n' ' ')

STACKHOOK=$BASE
KEY=$ADMIN_KEY
: >"$D/vars"

# run_block FILE: runs the block in a subshell with errexit and pipefail,
# with `curl` reporting each status on stderr and `stackhook` running the
# CLI on this instance; then loads the variables it set.  RB_RC, RB_STATUSES.
run_block() {
	local f=$1
	(
		curl() {
			command curl --max-time 15 -w '%{stderr}@@status %{http_code}\n' "$@"
		}
		stackhook() {
			"$SH_CLI" -c "$CONF" "$@"
		}
		# shellcheck disable=SC1090
		. "$D/vars"
		set -e -o pipefail
		# shellcheck disable=SC1090
		. "$f"
		set +e +o pipefail
		# shellcheck disable=SC2086
		declare -p $DOC_VARS 2>/dev/null |
			sed -e 's/^declare -- /declare -g /' \
			    -e 's/^declare -\([a-zA-Z]\{1,\}\) /declare -g\1 /' >"$D/vars.new"
		exit 0
	) >"$f.out" 2>"$f.err"
	RB_RC=$?
	[ "$RB_RC" = 0 ] && mv "$D/vars.new" "$D/vars"
	RB_STATUSES=$(sed -n 's/^@@status \([0-9]*\)$/\1/p' "$f.err" | tr '\n' ' ')
}

for f in "${blocks[@]}"; do
	line=$(cat "$f.line")
	want=$(sed -n 's/^#[[:space:]]*→[[:space:]]*\([0-9][0-9][0-9]\)[[:space:]]*$/\1/p' "$f" | tail -n 1)
	first=$(grep -v '^[[:space:]]*#' "$f" | head -n 1 | sed 's/[[:space:]]*\\$//' | cut -c1-90)
	run_block "$f"
	HTTP_CMD=
	ok=yes
	[ "$RB_RC" = 0 ] || ok=no
	if [ -n "$want" ]; then
		[ -n "$RB_STATUSES" ] || ok=no
		for s in $RB_STATUSES; do
			[ "$s" = "$want" ] || ok=no
		done
		desc="docs/api.md:$line: $first → $want"
	else
		[ -z "$RB_STATUSES" ] || ok=no
		desc="docs/api.md:$line: $first (no request)"
	fi
	if [ $ok = yes ]; then
		pass "$desc"
	else
		fail "$desc" "exit status $RB_RC, statuses: ${RB_STATUSES:-none}" \
			"--- block" "$(cat "$f")" "--- stdout" "$(head -c 1500 "$f.out")" \
			"--- stderr" "$(grep -v '^@@status' "$f.err" | head -c 800)"
	fi
done

# ========================================================================
# (b) the example of SPEC §3, step by step, on a fresh database
# ========================================================================

stop_pid "$(responder_pid "$PIDFILE")" TERM 5
rm -f "$DB" "$DB-wal" "$DB-shm"
"$SH_CLI" -c "$CONF" init --admin alice >"$T/log/init2.out" 2>"$T/log/init2.err" ||
	bail "second init failed: $(cat "$T/log/init2.err")"
KEY=$(tail -n 1 "$T/log/init2.out")
spawn_responder "$SOCK" "$PIDFILE" "$CONF" ||
	bail "the responder did not restart: $(tail -n 5 "$T/log/responder.err")"
wait_http "$BASE/healthz" 5
http GET "$BASE/api/v1/whoami" -H "Authorization: Bearer $KEY"
check_eval "fresh database: alice is root admin, nothing of part (a) is left" \
	'status_is 200 && json_str user alice && json_str root admin &&
	 [ "$(as_run_user sqlite3 "$DB" "SELECT count(*) FROM spaces")" = 1 ]'

# jget PATH: a value of the last answer (dots between keys and indexes);
# strings bare, null as "null", arrays and objects as JSON.
jget() {
	python3 - "$T/http.body" "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2].split(".") if sys.argv[2] else []:
    d = d[int(k)] if isinstance(d, list) else d[k]
print("null" if d is None else d if isinstance(d, str) else json.dumps(d, sort_keys=True))
PY
}

# ids KEY: the KEY of every item of the last list answer, one a line.
ids() {
	python3 - "$T/http.body" "$1" <<'PY' 2>/dev/null
import json, sys
for item in json.load(open(sys.argv[1], encoding="utf-8"))["items"]:
    print(item[sys.argv[2]])
PY
}

mask() {
	sed -E 's/"(webhook_secret|api_token|signing_token)":[[:space:]]*"[^"]*"/"\1":"…"/g;
		s/shk_[A-Za-z0-9_-]+/shk_…/g'
}

# api WHO METHOD PATH [BODY]: one admin API request through nginx as WHO,
# the NAME of the variable holding the key (KEY, READER_KEY, ...), or - for
# none.  With RECORD=1 the command and answer join the transcript.  Every
# answer a reader gets is kept in $T/reader.answers.
RECORD=0
: >"$T/transcript"
: >"$T/reader.answers"
api() {
	local who=$1 method=$2 path=$3 args=() shown=
	if [ "$who" != - ]; then
		args+=(-H "Authorization: Bearer ${!who}")
		shown=" -H \"Authorization: Bearer \$$who\""
	fi
	if [ $# -ge 4 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$4")
		shown="$shown -d '$4'"
	fi
	http "$method" "$BASE$path" "${args[@]}"
	if [ "$RECORD" = 1 ]; then
		{
			if [ "$method" = GET ]; then
				printf '$ curl -sS%s "$STACKHOOK%s"\n' "$shown" "$path"
			else
				printf '$ curl -sS -X %s%s "$STACKHOOK%s"\n' "$method" "$shown" "$path"
			fi
			printf '%s %s\n\n' "$HTTP_STATUS" "$(cat "$T/http.body")"
		} | mask >>"$T/transcript"
	fi
	if [ "$who" = READER_KEY ]; then
		cat "$T/http.head" "$T/http.body" >>"$T/reader.answers"
		echo >>"$T/reader.answers"
	fi
}

# rows: "spaces integrations stacks grants users" as stored.
rows() {
	as_run_user sqlite3 -separator ' ' "$DB" \
		"SELECT (SELECT count(*) FROM spaces), (SELECT count(*) FROM integrations),
		        (SELECT count(*) FROM stacks), (SELECT count(*) FROM grants),
		        (SELECT count(*) FROM users)"
}

error_field() {
	json_error 400 "$1" && json_str field "$2"
}

# unstored DESC EXPR WHO METHOD PATH [BODY]: api WHO METHOD PATH [BODY], then
# one test point: EXPR holds and the request stored nothing (rows).
unstored() {
	local desc=$1 expr=$2 rows_before
	shift 2
	rows_before=$(rows)
	api "$@"
	check_eval "$desc" "$expr"' && [ "$(rows)" = "$rows_before" ]'
}

TOKEN=glpat-TESTONLY-w7Hq2ZpLx9c3vH
TOKEN2=glpat-TESTONLY-Rm5tKv8Nq4Xy7Q
PUSH_OTHER='{"object_kind":"push","ref":"refs/heads/main","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","project":{"id":999,"path_with_namespace":"nobody/nothing"},"commits":[],"total_commits_count":0}'

# --- authentication ------------------------------------------------------
api - GET /api/v1/spaces
check_eval "no key: 401 unauthorized with WWW-Authenticate: Bearer" \
	'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'
unstored "no key on a write: 401, nothing stored" 'json_error 401 unauthorized' \
	- POST /api/v1/spaces '{"name":"NoKey"}'
BAD_KEY=shk_not-a-real-key-at-all
api BAD_KEY GET /api/v1/whoami
check_eval "a key that is not valid: 401 (invalid_token)" \
	'json_error 401 unauthorized && header_is WWW-Authenticate "Bearer.*invalid_token"'

# --- the example: ParentSpace, ChildSpace, GitLab Prod, VPC, bob -----------
RECORD=1
api KEY POST /api/v1/spaces '{"name":"ParentSpace"}'
check_eval "ParentSpace: 201, id parentspace under root, inheriting" \
	'status_is 201 && [ "$(jget id)" = parentspace ] && [ "$(jget parent)" = root ] &&
	 [ "$(jget inherit)" = true ]'
api KEY POST /api/v1/spaces '{"name":"ChildSpace","parent":"parentspace","inherit":true}'
check_eval "ChildSpace below ParentSpace, inherit true: 201" \
	'status_is 201 && [ "$(jget id)" = childspace ] && [ "$(jget parent)" = parentspace ] &&
	 [ "$(jget inherit)" = true ]'
api KEY POST /api/v1/integrations \
	"{\"name\":\"GitLab Prod\",\"space\":\"parentspace\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$TOKEN\",\"labels\":[\"prod\"]}"
check_eval "GitLab Prod in ParentSpace: 201 with slug, type space, details" \
	'status_is 201 && [ "$(jget slug)" = gitlab-prod ] && [ "$(jget type)" = space ] &&
	 [ "$(jget space)" = parentspace ] &&
	 [ "$(jget webhook_url)" = "$BASE/webhooks/gitlab/gitlab-prod" ] &&
	 [ "$(jget events)" = "[\"push\", \"tag_push\", \"merge_request\"]" ]'
SECRET1=$(jget webhook_secret)
check_eval "the webhook secret is >= 32 random bytes, printable (${#SECRET1} characters)" \
	'[ "${#SECRET1}" -ge 43 ] && [[ $SECRET1 =~ ^[[:graph:]]+$ ]]'
check_eval "the creation answer shows token_set and token_last4, never the token" \
	'[ "$(jget token_set)" = true ] && [ "$(jget token_last4)" = "${TOKEN: -4}" ] &&
	 ! grep -qF -- "$TOKEN" "$T/http.body"'
api KEY POST /api/v1/stacks \
	'{"name":"VPC","space":"childspace","integration":"gitlab-prod","namespace":"group-1","repository":"project-a","branch":"main"}'
check_eval "VPC in ChildSpace (inheriting) attaches ParentSpace's GitLab Prod: 201" \
	'status_is 201 && [ "$(jget id)" = vpc ] && [ "$(jget integration)" = gitlab-prod ] &&
	 [ "$(jget space)" = childspace ]'
api KEY PUT /api/v1/spaces/childspace/members/bob '{"role":"read"}'
check_eval "bob gets read on ChildSpace: 200" \
	'status_is 200 && json_str user bob && json_str role read'
READER_KEY=$(new_key bob)
check_eval "a key for bob" '[[ $READER_KEY =~ ^[A-Za-z0-9_-]{20,}$ ]]'
api READER_KEY GET /api/v1/integrations
check_eval "bob (read on ChildSpace) lists GitLab Prod" \
	'status_is 200 && ids slug | grep -qx gitlab-prod'
api READER_KEY GET /api/v1/integrations/gitlab-prod
check_eval "bob gets GitLab Prod's summary: 200, no webhook_url, no secret" \
	'status_is 200 && [ "$(jget slug)" = gitlab-prod ] && ! body_has webhook_secret &&
	 ! body_has webhook_url'
api READER_KEY GET /api/v1/integrations/gitlab-prod/details
check_eval "bob asks for the details: 403 forbidden" 'json_error 403 forbidden'
api READER_KEY GET /api/v1/stacks/vpc
check_eval "bob reads VPC: 200" 'status_is 200 && [ "$(jget integration)" = gitlab-prod ]'
api KEY POST /api/v1/spaces '{"name":"SiblingSpace","parent":"parentspace","inherit":false}'
check_eval "SiblingSpace below ParentSpace, inherit false: 201" \
	'status_is 201 && [ "$(jget inherit)" = false ]'
unstored "a stack in SiblingSpace attaching GitLab Prod: 422 integration_not_usable, nothing stored" \
	'status_is 422 && is_json && json_str code integration_not_usable && json_str field integration' \
	KEY POST /api/v1/stacks \
	'{"name":"DNS","space":"siblingspace","integration":"gitlab-prod","namespace":"group-1","repository":"project-b","branch":"main"}'
RECORD=0

# --- a user of an unrelated space ----------------------------------------
api KEY POST /api/v1/spaces '{"name":"OtherSpace"}'
api KEY PUT /api/v1/spaces/otherspace/members/carol '{"role":"admin"}'
check "carol is admin of OtherSpace (under root, unrelated)" status_is 200
CAROL_KEY=$(new_key carol)
api CAROL_KEY GET /api/v1/integrations/gitlab-prod
check "carol GETs GitLab Prod: 404 (she may not even list it)" json_error 404 not_found
api CAROL_KEY GET /api/v1/integrations/gitlab-prod/details
check "carol asks for its details: 404" json_error 404 not_found
api CAROL_KEY GET /api/v1/integrations
check_eval "carol's list does not hold GitLab Prod" \
	'status_is 200 && ! ids slug | grep -qx gitlab-prod'
api CAROL_KEY POST /api/v1/stacks \
	'{"name":"Web","space":"otherspace","integration":"gitlab-prod","namespace":"group-2","repository":"web","branch":"main"}'
check_eval "carol attaches GitLab Prod to a stack in OtherSpace: 404 naming integration" \
	'json_error 404 not_found && json_str field integration'

# --- the default integration ---------------------------------------------
api KEY PUT /api/v1/spaces/parentspace/members/dana '{"role":"admin"}'
PARENT_ADMIN_KEY=$(new_key dana)
api PARENT_ADMIN_KEY GET /api/v1/integrations/gitlab-prod/details
check_eval "dana (admin of ParentSpace) gets GitLab Prod's details: 200" \
	'status_is 200 && [ "$(jget webhook_secret)" = "$SECRET1" ]'
api PARENT_ADMIN_KEY POST /api/v1/integrations \
	'{"name":"Dana Default","type":"default","api_host_url":"https://gitlab.com"}'
check "dana creates a default integration: 403" json_error 403 forbidden
api KEY POST /api/v1/integrations \
	'{"name":"GitLab.com","type":"default","api_host_url":"https://gitlab.com"}'
check_eval "a root admin creates the default integration GitLab.com: 201, space root" \
	'status_is 201 && [ "$(jget type)" = default ] && [ "$(jget space)" = root ]'
unstored "a second default integration: 409 naming GitLab.com, nothing stored" \
	'json_error 409 conflict && body_has "GitLab\\.com"' \
	KEY POST /api/v1/integrations '{"name":"GitLab SaaS","type":"default","api_host_url":"https://gitlab.com"}'
NOBODY_KEY=$(new_key erin)
for who in READER_KEY CAROL_KEY PARENT_ADMIN_KEY NOBODY_KEY; do
	api "$who" GET /api/v1/integrations
	check_eval "the default integration is listed to ${who%_KEY} too" \
		'status_is 200 && ids slug | grep -qx gitlab-com'
done
api NOBODY_KEY GET /api/v1/integrations
check_eval "a user without any role lists only the default integration" \
	'status_is 200 && [ "$(ids slug | tr "\n" " ")" = "gitlab-com " ]'
api KEY GET /api/v1/integrations/gitlab-com/details
check_eval "default integration details for a root admin: 200 with the secret" \
	'status_is 200 && [ -n "$(jget webhook_secret)" ]'
api PARENT_ADMIN_KEY GET /api/v1/integrations/gitlab-com/details
check "default integration details for a ParentSpace admin: 403" json_error 403 forbidden
api READER_KEY GET /api/v1/integrations/gitlab-com/details
check "default integration details for bob: 403" json_error 403 forbidden
api KEY POST /api/v1/stacks \
	'{"name":"DNS","space":"siblingspace","integration":"gitlab-com","namespace":"group-1","repository":"project-b","branch":"main"}'
check_eval "DNS in SiblingSpace attaches the default integration: 201" \
	'status_is 201 && [ "$(jget integration)" = gitlab-com ]'

# --- names, slugs and URLs -----------------------------------------------
before=$(rows)
unstored "a name with the slug of GitLab Prod: 409 naming GitLab Prod, nothing stored" \
	'json_error 409 conflict && json_str field name && body_has "GitLab Prod"' \
	KEY POST /api/v1/integrations \
	'{"name":"gitlab  PROD!","space":"parentspace","api_host_url":"https://gitlab.example.com"}'
api KEY PATCH /api/v1/integrations/gitlab-prod '{"name":"GitLab Production"}'
check "PATCH of the name: 400 name_immutable naming name" error_field name_immutable name
api KEY GET /api/v1/integrations/gitlab-prod
check_eval "... and the name is unchanged" 'status_is 200 && json_str name "GitLab Prod"'

for url in 'ftp://gitlab.example.com' 'gitlab.example.com' 'https://' \
	'https://user:secret@gitlab.example.com' 'https://gitlab.example.com/?private_token=x' \
	'https://gitlab.example.com/#top' 'https://gitlab.example.com:99999' \
	'https://gitlab example.com' 'private://' 'private://pool/x'; do
	api KEY POST /api/v1/integrations \
		"{\"name\":\"Bad URL\",\"space\":\"parentspace\",\"api_host_url\":\"$url\"}"
	check_eval "api_host_url \"$url\": 400 invalid_field naming api_host_url" \
		'error_field invalid_field api_host_url'
done
api KEY POST /api/v1/integrations \
	'{"name":"Bad URL","space":"parentspace","api_host_url":"private://pool","user_facing_host_url":"private://pool"}'
check "user_facing_host_url private://pool: 400 naming user_facing_host_url" \
	error_field invalid_field user_facing_host_url
check_eval "none of the bad URLs was stored" '[ "$(rows)" = "$before" ]'
api KEY POST /api/v1/integrations \
	'{"name":"GitLab Pool","space":"parentspace","api_host_url":"private://pool","user_facing_host_url":"https://gitlab.pool.example"}'
check_eval "api_host_url private://pool is accepted: 201" \
	'status_is 201 && [ "$(jget api_host_url)" = private://pool ]'
api KEY GET /api/v1/integrations/gitlab-pool/health
check_eval "its health says the config has no agent_pool.pool" \
	'status_is 200 && body_has "agent_pool\\.pool"'
api KEY POST /api/v1/integrations \
	'{"name":"GitLab SubPath","space":"parentspace","api_host_url":"http://gitlab.example.com:8080/gitlab/"}'
check_eval "api_host_url http://host:port/path/ is accepted, trailing / dropped" \
	'status_is 201 && [ "$(jget api_host_url)" = http://gitlab.example.com:8080/gitlab ]'

# --- the token is write-only ---------------------------------------------
leaks=0
for path in /api/v1/integrations /api/v1/integrations/gitlab-prod /api/v1/integrations/gitlab-prod/details; do
	api KEY GET "$path"
	grep -qF -- "$TOKEN" "$T/http.body" && leaks=$((leaks + 1))
done
api KEY GET /api/v1/integrations/gitlab-prod
check_eval "summary: token_set true, token_last4 ${TOKEN: -4}, no api_token field" \
	'[ "$(jget token_set)" = true ] && [ "$(jget token_last4)" = "${TOKEN: -4}" ] &&
	 ! body_has "\"api_token\""'
api KEY PATCH /api/v1/integrations/gitlab-prod "{\"api_token\":\"$TOKEN2\"}"
grep -qF -- "$TOKEN2" "$T/http.body" && leaks=$((leaks + 1))
check_eval "PATCH api_token: 200, token_last4 now ${TOKEN2: -4}, no webhook_secret in the answer" \
	'status_is 200 && [ "$(jget token_last4)" = "${TOKEN2: -4}" ] && ! body_has webhook_secret'
check_eval "no answer (list, summary, details, PATCH) holds the token" '[ "$leaks" = 0 ]'
for f in "$DB" "$DB-wal"; do
	n1=$(grep -c -a -F -- "$TOKEN" "$f" 2>/dev/null)
	n2=$(grep -c -a -F -- "$TOKEN2" "$f" 2>/dev/null)
	check_eval "the plain tokens are not in ${f##*/} (grep -c: ${n1:-?} and ${n2:-?})" \
		'[ -f "$f" ] && [ "$n1" = 0 ] && [ "$n2" = 0 ]'
done
check_eval "the tokens are not in the responder's or nginx's logs" \
	'! grep -qaF -e "$TOKEN" -e "$TOKEN2" "$T/log/responder.err" "$N/error.log" "$N/access.log"'

# --- rotate-secret ---------------------------------------------------------
api KEY POST /api/v1/integrations/gitlab-prod/rotate-secret
SECRET2=$(jget webhook_secret)
check_eval "rotate-secret: 200 with a new secret" \
	'status_is 200 && [ "${#SECRET2}" -ge 43 ] && [ "$SECRET2" != "$SECRET1" ]'
api KEY GET /api/v1/integrations/gitlab-prod/details
check_eval "the details show the new secret" 'status_is 200 && [ "$(jget webhook_secret)" = "$SECRET2" ]'
http POST "$BASE/webhooks/gitlab/gitlab-prod" -H "X-Gitlab-Token: $SECRET1" \
	-H 'X-Gitlab-Event: Push Hook' -H 'Content-Type: application/json' --data-binary "$PUSH_OTHER"
check "a webhook with the old secret: 401" status_is 401
http POST "$BASE/webhooks/gitlab/gitlab-prod" -H "X-Gitlab-Token: $SECRET2" \
	-H 'X-Gitlab-Event: Push Hook' -H 'Content-Type: application/json' --data-binary "$PUSH_OTHER"
check "a webhook with the new secret is taken (200, nothing matches)" status_is 200
api READER_KEY POST /api/v1/integrations/gitlab-prod/rotate-secret
check "bob rotates the secret: 403" json_error 403 forbidden

# --- what the rules refuse -------------------------------------------------
before=$(rows)
api KEY PATCH /api/v1/spaces/childspace '{"inherit":false}'
check_eval "ChildSpace inherit:false while VPC is attached: 409 naming vpc" \
	'json_error 409 conflict && body_has "vpc"'
api KEY GET /api/v1/spaces/childspace
check_eval "... and ChildSpace still inherits" 'status_is 200 && [ "$(jget inherit)" = true ]'
api KEY PATCH /api/v1/spaces/childspace '{"parent":"otherspace"}'
check_eval "moving ChildSpace below OtherSpace: 409 naming vpc" \
	'json_error 409 conflict && body_has "vpc"'
api KEY DELETE /api/v1/spaces/parentspace
check_eval "DELETE ParentSpace: 409 listing its child spaces and integrations" \
	'json_error 409 conflict && body_has childspace && body_has siblingspace &&
	 body_has gitlab-prod && body_has gitlab-pool'
api KEY DELETE /api/v1/spaces/childspace
check_eval "DELETE ChildSpace: 409 listing stack vpc" 'json_error 409 conflict && body_has vpc'
check_eval "the refused changes stored nothing" '[ "$(rows)" = "$before" ]'

# --- bad bodies: 400 naming the field, nothing stored ------------------------
before=$(rows)
long=$(head -c 65 /dev/zero | tr '\0' a)
# CODE FIELD PATH BODY DESC a line: a POST as KEY, refused 400 CODE naming
# FIELD (an ERE).
while read -r code field path body desc <&3; do
	api KEY POST "$path" "$body"
	check "$desc" error_field "$code" "$field"
done 3<<EOF
unknown_field colour /api/v1/spaces {"name":"Colourful","colour":"red"} unknown field: 400 unknown_field naming colour
invalid_field inherit /api/v1/spaces {"name":"Typed","inherit":"yes"} wrong type (inherit "yes"): 400 invalid_field naming inherit
invalid_field labels /api/v1/integrations {"name":"Typed","space":"parentspace","api_host_url":"https://gitlab.example.com","labels":"prod"} wrong type (labels a string): 400 invalid_field naming labels
invalid_field labels\[1\] /api/v1/stacks {"name":"Typed","space":"childspace","namespace":"g","repository":"r","branch":"main","labels":["ok",7]} wrong type in an array (labels[1] a number): 400 naming labels[1]
invalid_field name /api/v1/spaces {"name":"$long"} a space name of 65 characters: 400 invalid_field naming name
invalid_field name /api/v1/integrations {"name":"$long","space":"parentspace","api_host_url":"https://gitlab.example.com"} an integration name of 65 characters: 400 naming name
invalid_field name /api/v1/stacks {"name":"$long","space":"childspace","namespace":"g","repository":"r","branch":"main"} a stack name of 65 characters: 400 naming name
EOF
printf '{"name":"Bad \xff\xfe name"}' >"$T/bad-utf8.json"
http POST "$BASE/api/v1/spaces" -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' --data-binary "@$T/bad-utf8.json"
check "invalid UTF-8 in name: 400" status_is 400
check "invalid UTF-8 in name: the error names the field (name)" json_str field name
deep="$(printf '%.0s[' $(seq 40))$(printf '%.0s]' $(seq 40))"
api KEY POST /api/v1/spaces "{\"name\":\"Deep\",\"description\":$deep}"
check "nesting depth 40 (in description): 400" status_is 400
check "nesting depth 40: the error names the field (description)" json_str field description
api KEY POST /api/v1/spaces '{"name":"Ünïcödé ñame ✓"}'
check_eval "(a valid UTF-8 name is fine: 201)" 'status_is 201 && [ "$(jget name)" = "Ünïcödé ñame ✓" ]'
api KEY DELETE "/api/v1/spaces/$(jget id)"
check_eval "none of the bad bodies stored anything (spaces, integrations, stacks, grants, users: $before)" \
	'[ "$(rows)" = "$before" ]'
name64=$(head -c 64 /dev/zero | tr '\0' b)
api KEY POST /api/v1/spaces "{\"name\":\"$name64\",\"id\":\"sixty-four\"}"
check "(a name of exactly 64 characters is fine: 201)" status_is 201

# --- deleting and recreating an integration --------------------------------
RECORD=1
api KEY DELETE /api/v1/integrations/gitlab-prod
check_eval "DELETE GitLab Prod while VPC uses it: 204, empty body" \
	'status_is 204 && [ ! -s "$T/http.body" ]'
api KEY GET /api/v1/stacks/vpc
check_eval "VPC is detached: integration null" 'status_is 200 && [ "$(jget integration)" = null ]'
api KEY GET '/api/v1/stacks?integration=null'
check_eval "GET /api/v1/stacks?integration=null lists vpc, and only detached stacks" \
	'status_is 200 && ids id | grep -qx vpc && ! ids id | grep -qx dns &&
	 [ "$(python3 -c "import json,sys; print(all(i[\"integration\"] is None for i in json.load(open(sys.argv[1]))[\"items\"]))" "$T/http.body")" = True ]'
api KEY GET /api/v1/integrations/gitlab-prod
check "the deleted integration: 404" json_error 404 not_found
RECORD=0
http POST "$BASE/webhooks/gitlab/gitlab-prod" -H "X-Gitlab-Token: $SECRET2" \
	-H 'X-Gitlab-Event: Push Hook' -H 'Content-Type: application/json' --data-binary "$PUSH_OTHER"
check "a webhook to the deleted integration: 404" status_is 404
RECORD=1
api KEY POST /api/v1/integrations \
	'{"name":"GitLab Prod","space":"parentspace","api_host_url":"https://gitlab.example.com"}'
SECRET3=$(jget webhook_secret)
check_eval "recreated with the same name: 201, the same webhook_url" \
	'status_is 201 && [ "$(jget webhook_url)" = "$BASE/webhooks/gitlab/gitlab-prod" ]'
check_eval "... and a different secret" \
	'[ -n "$SECRET3" ] && [ "$SECRET3" != "$SECRET2" ] && [ "$SECRET3" != "$SECRET1" ]'
check_eval "... with no token (the old one went with the old integration)" \
	'[ "$(jget token_set)" = false ]'
api KEY PATCH /api/v1/stacks/vpc '{"integration":"gitlab-prod"}'
check_eval "VPC attaches the new GitLab Prod: 200" \
	'status_is 200 && [ "$(jget integration)" = gitlab-prod ]'
RECORD=0

# --- everything bob got ------------------------------------------------------
check_eval "no answer bob got holds webhook_secret or a secret's value" \
	'[ -s "$T/reader.answers" ] && ! grep -qF -e webhook_secret -e "$SECRET1" -e "$SECRET2" \
	 -e "$SECRET3" "$T/reader.answers"'

# --- pages ---------------------------------------------------------------------
for i in 1 2 3; do
	api KEY POST /api/v1/stacks \
		"{\"name\":\"Page $i\",\"space\":\"childspace\",\"namespace\":\"group-1\",\"repository\":\"page-$i\",\"branch\":\"main\"}"
done
# walk COLLECTION KEY: follows next with limit=1; WALKED holds the keys in
# order, WALK_OK no when a page held other than one item.
walk() {
	local after='' n=0 page_ids
	WALKED=
	WALK_OK=yes
	while [ $n -lt 100 ]; do
		api KEY GET "/api/v1/$1?limit=1${after:+&after=$after}"
		status_is 200 || { WALK_OK=no; return; }
		page_ids=$(ids "$2")
		[ "$(printf '%s\n' "$page_ids" | grep -c .)" = 1 ] || WALK_OK=no
		WALKED="$WALKED$page_ids "
		after=$(jget next)
		[ "$after" = null ] && return
		n=$((n + 1))
	done
	WALK_OK=no
}
for c in spaces:id integrations:slug stacks:id; do
	coll=${c%%:*}
	k=${c#*:}
	api KEY GET "/api/v1/$coll?limit=500"
	all=$(ids "$k" | tr '\n' ' ')
	walk "$coll" "$k"
	check_eval "$coll: limit=1 pages, followed through next, give every item once in order ($(echo $all | wc -w) items)" \
		'[ "$WALK_OK" = yes ] && [ -n "$all" ] && [ "$WALKED" = "$all" ] &&
		 [ "$(echo $all | wc -w)" -ge 3 ]'
done
api KEY GET '/api/v1/spaces?limit=0'
check "limit=0: 400 naming limit" error_field invalid_field limit
api KEY GET '/api/v1/spaces?limit=501'
check "limit=501: 400 naming limit" error_field invalid_field limit

# --- audit ------------------------------------------------------------------
api KEY GET '/api/v1/audit?limit=500'
check_eval "audit: root admins see every change, newest first, with actor and address" \
	'status_is 200 && body_has "\"action\":\"create\"" && body_has "\"object_type\":\"integration\"" &&
	 body_has "\"address\":\"127.0.0.1\"" && body_has "\"action\":\"rotate-secret\""'
check_eval "audit: no token or secret value in any record" \
	'! body_has "$TOKEN" && ! body_has "$TOKEN2" && ! body_has "webhook_secret"'
api PARENT_ADMIN_KEY GET '/api/v1/audit?space=parentspace'
check_eval "audit: a space's admin reads its audit" \
	'status_is 200 && body_has "\"space\":\"parentspace\"" && ! body_has "\"space\":\"root\""'
api PARENT_ADMIN_KEY GET '/api/v1/audit'
check "audit: every space's audit is for root admins only: 403" json_error 403 forbidden
api READER_KEY GET '/api/v1/audit?space=childspace'
check "audit: a reader of the space: 403" json_error 403 forbidden
api NOBODY_KEY GET '/api/v1/audit?space=parentspace'
check "audit: a stranger: 404" json_error 404 not_found

# --- the transcript ----------------------------------------------------------
diag "--- transcript: the ParentSpace / ChildSpace example (STACKHOOK=$BASE; secrets shown as …)"
diag "$(cat "$T/transcript")"
diag "--- end of transcript"

if [ "$T_FAILED" != 0 ]; then
	show_log "$N/error.log"
	show_log "$T/log/responder.err"
fi
done_testing
