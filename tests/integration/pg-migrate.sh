#!/bin/bash
# `stackhook migrate --from FILE.db` (SPEC §9): an SQLite instance with
# spaces (a chain of parents and one that does not inherit), users with
# roles, API keys (one revoked), integrations with sealed tokens, stacks,
# runs moved through their states, deliveries (accepted, ignored,
# duplicate) and the audit log is copied into an empty PostgreSQL database
# (a throw-away server, tests/pg/server.sh); then the same responder on
# PostgreSQL must answer the admin API exactly as it did on SQLite, accept
# the old keys and webhook secrets, remember the old Idempotency-Keys,
# unseal the old API tokens (its report reaches the mock GitLab with them),
# give new objects fresh ids, and a second migrate must refuse.
#
# The responder runs as a CGI program (tests/integration/lib.sh `cgi`): one
# process per request, the config chosen per request -- the SQLite one
# before, the PostgreSQL one after.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/pg/server.sh"

require_programs curl python3

FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
MOCK=$top_srcdir/tests/mock-gitlab/mock_gitlab.py
[ -f "$MOCK" ] || skip_all "tests/mock-gitlab/mock_gitlab.py is missing"
pg_bin >/dev/null || skip_all "PostgreSQL (Debian's postgresql package) is not installed"

new_instance "http://127.0.0.1:8080/stackhook"
SQLITE_CONF=$CONF
SQLITE_DB=$T/var/lib/stackhook.db
PG_CONF=$T/etc/stackhook-pg.conf
TOKEN_MAIN=glpat-MigrateMainToken012345678
TOKEN_TEAM=glpat-MigrateTeamToken012345678
SIGNING=whsec_$(printf "migrate-signing-key-0123456789ab" | base64)

python3 "$MOCK" --port 0 --quiet --token "$TOKEN_MAIN" --token "$TOKEN_TEAM" \
	>"$T/log/mock.out" 2>"$T/log/mock.err" &
track_pid "$!"
wait_for "grep -q '^ready [0-9]' '$T/log/mock.out'" 10 ||
	{ show_log "$T/log/mock.err"; bail "the mock GitLab did not start"; }
GL=http://127.0.0.1:$(awk '/^ready/ {print $2; exit}' "$T/log/mock.out")
for p in '{"id": 15, "path_with_namespace": "mike/diaspora", "default_branch": "master", "branches": ["master", "develop"]}' \
	 '{"id": 1, "path_with_namespace": "gitlabhq/gitlab-test", "default_branch": "master", "branches": ["master", "ms-viewport"]}'; do
	curl -sS -o /dev/null -X POST "$GL/_mock/projects" -H 'Content-Type: application/json' -d "$p" ||
		bail "cannot seed the mock"
done

# ------------------------------------------------------------ helpers ----

# api CONF KEY METHOD PATH [JSON]: one admin API request through the CGI
# responder on CONF's database.
api() {
	local conf=$1 key=$2 method=$3 path=$4 query=
	case $path in *'?'*) query=${path#*\?} path=${path%%\?*} ;; esac
	if [ $# -ge 5 ]; then
		printf '%s' "$5" >"$T/cgi.in"
		CGI_STDIN=$T/cgi.in
		cgi STACKHOOK_CONFIG="$conf" REQUEST_METHOD="$method" PATH_INFO="$path" \
			QUERY_STRING="$query" HTTP_AUTHORIZATION="Bearer $key" \
			CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$T/cgi.in")"
		CGI_STDIN=/dev/null
	else
		cgi STACKHOOK_CONFIG="$conf" REQUEST_METHOD="$method" PATH_INFO="$path" \
			QUERY_STRING="$query" HTTP_AUTHORIZATION="Bearer $key"
	fi
}

# hook CONF SLUG SECRET FIXTURE EVENT KEY [SIGNING-TOKEN]: one webhook
# delivery; with a signing token, signed as GitLab signs it (Standard
# Webhooks: webhook-id is the key).
hook() {
	local signed=()
	if [ $# -ge 7 ]; then
		local ts
		ts=$(date +%s)
		signed=(HTTP_WEBHOOK_ID="$6" HTTP_WEBHOOK_TIMESTAMP="$ts"
			HTTP_WEBHOOK_SIGNATURE="$(sign "$7" "$6" "$ts" "$4")")
	fi
	CGI_STDIN=$4
	cgi STACKHOOK_CONFIG="$1" REQUEST_METHOD=POST PATH_INFO="/webhooks/gitlab/$2" \
		HTTP_X_GITLAB_TOKEN="$3" HTTP_X_GITLAB_EVENT="$5" HTTP_IDEMPOTENCY_KEY="$6" \
		"${signed[@]}" CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$4")"
	CGI_STDIN=/dev/null
}

# key_create CONF USER VAR: a new API key for USER in VAR; KEY_ID its id.
KEY_ID=
key_create() {
	"$SH_CLI" -c "$1" key create --user "$2" >"$T/key.out" 2>"$T/key.err" || return 1
	KEY_ID=$(sed -n 's/.*API key \([0-9][0-9]*\) .*/\1/p' "$T/key.out" | head -n 1)
	printf -v "$3" '%s' "$(tail -n 1 "$T/key.out")"
}

# sqlite_q SQL: one value from the SQLite database (as the service user,
# so that no file of it changes owner).
sqlite_q() {
	as_run_user python3 -c '
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))' "$SQLITE_DB" "$1"
}

# ok_all DESC: one test point for a series of steps that each appended to
# $T/steps.failed on failure.
: >"$T/steps.failed"
step() {
	local desc=$1
	shift
	"$@" || { echo "$desc: $HTTP_STATUS $(head -c 300 "$T/http.body")" >>"$T/steps.failed"; return 1; }
}
steps_ok() {
	if [ ! -s "$T/steps.failed" ]; then
		pass "$1"
	else
		fail "$1" "$(cat "$T/steps.failed")"
	fi
	: >"$T/steps.failed"
}

# ================================================ the SQLite instance ===

S=$SQLITE_CONF
step "space platform" api "$S" "$ADMIN_KEY" POST /api/v1/spaces \
	'{"name":"Platform","description":"The platform team"}'
step "space platform 201" status_is 201
step "space team" api "$S" "$ADMIN_KEY" POST /api/v1/spaces '{"name":"Team","parent":"platform"}'
step "space team 201" status_is 201
step "space squad" api "$S" "$ADMIN_KEY" POST /api/v1/spaces '{"name":"Squad","parent":"team"}'
step "space squad 201" status_is 201
step "space sibling" api "$S" "$ADMIN_KEY" POST /api/v1/spaces \
	'{"name":"Sibling","parent":"platform","inherit":false}'
step "space sibling 201" status_is 201
steps_ok "SQLite: spaces platform > team > squad, and sibling (inherit false) below platform"

for g in "team bob read" "platform carol write" "squad dave admin" "sibling erin admin"; do
	read -r sp user role <<<"$g"
	step "grant $user" api "$S" "$ADMIN_KEY" PUT "/api/v1/spaces/$sp/members/$user" "{\"role\":\"$role\"}"
	step "grant $user 200" status_is 200
done
steps_ok "SQLite: bob read in team, carol write in platform, dave admin in squad, erin admin in sibling"

BOB_KEY= CAROL_KEY= DAVE_OLD_KEY= DAVE_KEY=
key_create "$S" bob BOB_KEY && key_create "$S" carol CAROL_KEY &&
	key_create "$S" dave DAVE_OLD_KEY && DAVE_OLD_ID=$KEY_ID &&
	key_create "$S" dave DAVE_KEY &&
	"$SH_CLI" -c "$S" key revoke "$DAVE_OLD_ID" >"$T/log/revoke.out" 2>&1
check_eval "SQLite: keys for bob, carol and dave (two, the first revoked)" \
	'[ -n "$BOB_KEY" ] && [ -n "$CAROL_KEY" ] && [ -n "$DAVE_KEY" ] && grep -q revoked "$T/log/revoke.out"' ||
	diag "$(cat "$T/key.out" "$T/key.err" "$T/log/revoke.out")"
OLD_MAX_KEY=$KEY_ID

api "$S" "$ADMIN_KEY" POST /api/v1/integrations \
	"{\"name\":\"GitLab\",\"type\":\"default\",\"api_host_url\":\"$GL\",\"api_token\":\"$TOKEN_MAIN\"}"
check "SQLite: default integration GitLab (the mock, a sealed API token): 201" status_is 201 ||
	bail "cannot create the integration"
SECRET=$(jv 'd["webhook_secret"]')
api "$S" "$ADMIN_KEY" POST /api/v1/integrations \
	"{\"name\":\"Team GL\",\"space\":\"team\",\"api_host_url\":\"$GL\",\"api_token\":\"$TOKEN_TEAM\",\"signing_token\":\"$SIGNING\",\"labels\":[\"eu\",\"prod\"],\"description\":\"The team's GitLab\"}"
check "SQLite: space integration Team GL in team (API token and signing token sealed): 201" status_is 201
TEAM_SECRET=$(jv 'd["webhook_secret"]')

for s in "diaspora platform gitlab mike diaspora master" \
	 "diaspora-dev root gitlab mike diaspora develop" \
	 "gitlab-test squad team-gl gitlabhq gitlab-test master"; do
	read -r id sp integ ns repo branch <<<"$s"
	step "stack $id" api "$S" "$ADMIN_KEY" POST /api/v1/stacks \
		"{\"id\":\"$id\",\"name\":\"$id\",\"space\":\"$sp\",\"integration\":\"$integ\",\"namespace\":\"$ns\",\"repository\":\"$repo\",\"branch\":\"$branch\"}"
	step "stack $id 201" status_is 201
done
steps_ok "SQLite: stacks diaspora (platform), diaspora-dev (root) on the default integration, gitlab-test (squad) on Team GL"

hook "$S" gitlab "$SECRET" "$FIX/push.json" "Push Hook" mig-push-1
step "push" status_is 202
R_TRACKED=$(jv '[r["id"] for r in d["runs"] if r["stack"] == "diaspora"][0]')
hook "$S" gitlab "$SECRET" "$FIX/push.json" "Push Hook" mig-push-1
step "push again (duplicate)" eval 'status_is 200 && json_str status duplicate'
hook "$S" gitlab "$SECRET" "$FIX/tag_push_delete.json" "Tag Push Hook" mig-tag-del
step "tag delete (ignored)" eval 'status_is 200 && json_str status ignored'
hook "$S" team-gl "$TEAM_SECRET" "$FIX/merge_request_open.json" "Merge Request Hook" mig-mr-1 "$SIGNING"
step "merge request (Team GL, signed)" status_is 202
R_MR=$(jv 'd["runs"][0]["id"]')
steps_ok "SQLite: deliveries -- a push (202), its resend (duplicate), a tag deletion (ignored), a signed merge request through Team GL (202)"

for s in preparing planning; do
	step "move $s" api "$S" "$ADMIN_KEY" POST "/api/v1/runs/$R_TRACKED/transitions" "{\"state\":\"$s\"}"
	step "move $s 200" status_is 200
done
step "move unconfirmed" api "$S" "$ADMIN_KEY" POST "/api/v1/runs/$R_TRACKED/transitions" \
	'{"state":"unconfirmed","summary":{"add":1,"change":2,"destroy":0},"plan":"Plan: 1 to add, 2 to change, 0 to destroy."}'
step "move unconfirmed 200" status_is 200
step "manual run" api "$S" "$CAROL_KEY" POST /api/v1/stacks/diaspora/runs \
	"{\"commit\":\"$(printf '%040d' 7)\"}"
step "manual run 201" status_is 201
R_MANUAL=$(jv 'd["id"]')
step "cancel" api "$S" "$CAROL_KEY" POST "/api/v1/runs/$R_MANUAL/transitions" '{"state":"canceled"}'
step "cancel 200" status_is 200
steps_ok "SQLite: the push's tracked run moved to unconfirmed (summary, plan); carol's manual run, canceled"

# What the API says on SQLite, request by request ("conf key path" lines).
cat >"$T/reads" <<EOF
alice /api/v1/whoami
bob /api/v1/whoami
carol /api/v1/whoami
dave /api/v1/whoami
alice /api/v1/spaces?limit=100
alice /api/v1/spaces/squad
dave /api/v1/spaces/squad
alice /api/v1/spaces/sibling
alice /api/v1/integrations?limit=100
alice /api/v1/integrations/gitlab/details
alice /api/v1/integrations/team-gl/details
bob /api/v1/integrations/team-gl
bob /api/v1/integrations/team-gl/details
alice /api/v1/stacks?limit=100
dave /api/v1/stacks?limit=100
alice /api/v1/stacks/gitlab-test
alice /api/v1/runs?limit=100
bob /api/v1/runs?limit=100
alice /api/v1/runs/$R_TRACKED
alice /api/v1/runs/$R_MR
alice /api/v1/runs/$R_MANUAL
alice /api/v1/deliveries?integration=gitlab&limit=100
alice /api/v1/deliveries?integration=team-gl&limit=100
alice /api/v1/audit?limit=100
dave /api/v1/audit?space=squad&limit=100
EOF
# snapshot CONF DIR: every read, as "STATUS BODY" files DIR/N.
snapshot() {
	local conf=$1 dir=$2 who path n=0 key
	mkdir -p "$dir"
	while read -r who path; do
		n=$((n + 1))
		case $who in
		alice) key=$ADMIN_KEY ;; bob) key=$BOB_KEY ;; carol) key=$CAROL_KEY ;; dave) key=$DAVE_KEY ;;
		esac
		api "$conf" "$key" GET "$path"
		{ echo "$HTTP_STATUS"; cat "$T/http.body"; } >"$dir/$n"
	done <"$T/reads"
}
# A person signed in to the web pages on SQLite (a session row).
printf 'key=%s' "$BOB_KEY" >"$T/sign-in.in"
CGI_STDIN=$T/sign-in.in
cgi STACKHOOK_CONFIG="$S" REQUEST_METHOD=POST PATH_INFO=/ui/sign-in \
	CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH="$(wc -c <"$T/sign-in.in")"
CGI_STDIN=/dev/null
SESSION_COOKIE=$(sed -n 's/^Set-Cookie: \([^;]*\).*/\1/p' "$T/http.head" | head -n 1)
check_eval "bob signs in to the pages on SQLite: 303 with a session cookie" \
	'[ "$HTTP_STATUS" = 303 ] && [ -n "$SESSION_COOKIE" ]' || diag "$(cat "$T/http.head")"

snapshot "$S" "$T/before"
check_eval "SQLite: the 25 reads answer 200 (bob, a reader, gets 403 for the details) -- whoami, spaces, integrations and details, stacks, runs, deliveries, audit" \
	'[ "$(for f in $(seq 1 "$(wc -l <"$T/reads")"); do head -n 1 "$T/before/$f"; done | paste -sd " ")" = "$(printf "200 %.0s" $(seq 1 12))403 $(printf "200 %.0s" $(seq 14 24))200" ]' ||
	diag "$(for f in $(seq 1 "$(wc -l <"$T/reads")"); do head -n 1 "$T/before/$f"; done | paste -sd " ")"
check_eval "... every one of them non-trivial (whoami roles, details with the secrets, 4 runs)" \
	'grep -q "\"squad\"" "$T/before/4" && grep -qF -- "$SECRET" "$T/before/10" &&
	 grep -qF -- "$TEAM_SECRET" "$T/before/11" && [ "$(tail -n +2 "$T/before/17" | jv "len(d[\"items\"])" /dev/stdin)" = 4 ]'

# The tables as SQLite holds them, and the highest ids.
TABLES="users api_keys sessions spaces grants integrations stacks deliveries runs run_merge_requests mr_notes report_problems counters doctor_results gitlab_hooks resent_events audit"
for t in $TABLES; do
	echo "$t $(sqlite_q "SELECT count(*) FROM $t")"
done >"$T/counts.sqlite"
OLD_MAX_DELIVERY=$(sqlite_q "SELECT max(id) FROM deliveries")
OLD_MAX_AUDIT=$(sqlite_q "SELECT max(id) FROM audit")
OLD_MAX_USER=$(sqlite_q "SELECT max(id) FROM users")
OLD_MAX_INTEGRATION=$(sqlite_q "SELECT max(id) FROM integrations")
check_eval "SQLite holds every kind of row (spaces $(grep '^spaces ' "$T/counts.sqlite" | cut -d' ' -f2), users $(grep '^users ' "$T/counts.sqlite" | cut -d' ' -f2), deliveries $(grep '^deliveries ' "$T/counts.sqlite" | cut -d' ' -f2), runs $(grep '^runs ' "$T/counts.sqlite" | cut -d' ' -f2), audit $(grep '^audit ' "$T/counts.sqlite" | cut -d' ' -f2))" \
	'for t in users api_keys sessions spaces grants integrations stacks deliveries runs run_merge_requests audit; do
	     [ "$(grep "^$t " "$T/counts.sqlite" | cut -d" " -f2)" -gt 0 ] || exit 1
	 done' || diag "$(cat "$T/counts.sqlite")"

# ====================================================== into PostgreSQL ==

pg_up
sql() {
	"$PSQL" -X -q -At -d "$PG_URI" -c "$1" 2>>"$T/log/psql.err"
}

# The same node moves to PostgreSQL: the same key file, spool and URL.
sed "s#^database .*#database        = $PG_URI#" "$SQLITE_CONF" >"$PG_CONF"
chmod 644 "$PG_CONF"
P=$PG_CONF
"$SH_CLI" -c "$P" init >"$T/log/init-pg.out" 2>"$T/log/init-pg.err"
irc=$?
check_eval "stackhook init makes the PostgreSQL schema (no admin: the database stays empty)" \
	'[ "$irc" = 0 ] && grep -q "postgresql://.*schema" "$T/log/init-pg.out"' ||
	diag "$(cat "$T/log/init-pg.out" "$T/log/init-pg.err")"

t0=$(date +%s%N)
"$SH_CLI" -c "$P" migrate --from "$SQLITE_DB" >"$T/migrate.out" 2>"$T/migrate.err"
mrc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eval "stackhook migrate --from $SQLITE_DB: exit 0 (${ms} ms)" '[ "$mrc" = 0 ]' ||
	diag "$(cat "$T/migrate.out" "$T/migrate.err")"
awk 'NF == 3 && $3 == "rows" { print $1, $2 }' "$T/migrate.out" | sort >"$T/counts.printed"
sort "$T/counts.sqlite" >"$T/counts.sqlite.sorted"
check_eval "... it printed every table's row count, the same as SQLite's ($(wc -l <"$T/counts.printed") tables)" \
	'cmp -s "$T/counts.printed" "$T/counts.sqlite.sorted"' ||
	diag "printed:" "$(cat "$T/migrate.out")" "sqlite:" "$(cat "$T/counts.sqlite.sorted")"
for t in $TABLES; do
	echo "$t $(sql "SELECT count(*) FROM $t")"
done | sort >"$T/counts.pg"
check_eval "... and PostgreSQL holds as many rows in every table" \
	'cmp -s "$T/counts.pg" "$T/counts.sqlite.sorted"' ||
	diag "postgresql:" "$(cat "$T/counts.pg")"
check_eval "... spaces keep their parents (squad < team < platform < root; sibling < platform)" \
	'[ "$(sql "SELECT id || '"'"':'"'"' || coalesce(parent, '"'"'-'"'"') FROM spaces ORDER BY id" | paste -sd " ")" = "platform:root root:- sibling:platform squad:team team:platform" ]' ||
	diag "$(sql "SELECT id, parent FROM spaces ORDER BY id")"
check_eval "... no secret in the clear in PostgreSQL (tokens stay sealed)" \
	'! sql "SELECT * FROM integrations" | grep -qF -e "$TOKEN_MAIN" -e "$TOKEN_TEAM" -e "$SIGNING"'
check_eval "... and none in migrate's output" \
	'! grep -qF -e "$TOKEN_MAIN" -e "$TOKEN_TEAM" -e "$SIGNING" -e "$SECRET" "$T/migrate.out" "$T/migrate.err"'

# ------------------------------------------- the API on PostgreSQL ----

cgi STACKHOOK_CONFIG="$P" REQUEST_METHOD=GET PATH_INFO=/ui/ HTTP_COOKIE="$SESSION_COOKIE"
check_eval "bob's session goes on on PostgreSQL: the Source code page, 200" \
	'[ "$HTTP_STATUS" = 200 ] && grep -q "Source code" "$T/http.body"' || diag "$(head -n 5 "$T/http.head")"

snapshot "$P" "$T/after"
same=0 diff_list=
n=0
while read -r who path; do
	n=$((n + 1))
	if cmp -s "$T/before/$n" "$T/after/$n"; then
		same=$((same + 1))
	else
		diff_list="$diff_list $n"
		diag "differs: $who GET $path" "  sqlite:   $(head -c 300 "$T/before/$n" | tr '\n' ' ')" \
			"  postgres: $(head -c 300 "$T/after/$n" | tr '\n' ' ')"
	fi
done <"$T/reads"
check_eval "the API on PostgreSQL answers byte for byte as on SQLite: $same/$n reads (whoami roles, spaces, integration details with the same webhook secrets, stacks, runs, deliveries, audit)" \
	'[ "$same" = "$n" ]'

api "$P" "$BOB_KEY" GET /api/v1/whoami
check_eval "bob's API key made on SQLite works on PostgreSQL (whoami bob, read in team)" \
	'status_is 200 && json_str user bob && json_str team read'
api "$P" "$DAVE_OLD_KEY" GET /api/v1/whoami
check "dave's key revoked on SQLite stays revoked (401)" json_error 401 unauthorized
api "$P" shk_not-a-key GET /api/v1/whoami
check "a wrong key is still refused (401)" json_error 401 unauthorized

# Webhooks: the migrated secrets authenticate, the old keys are known.
hook "$P" gitlab "$SECRET" "$FIX/push.json" "Push Hook" mig-push-1
check_eval "a resend of a delivery SQLite accepted (same Idempotency-Key): 200 duplicate on PostgreSQL" \
	'status_is 200 && json_str status duplicate'
hook "$P" gitlab "${SECRET}x" "$FIX/push.json" "Push Hook" mig-push-x
check "a wrong webhook secret: 401" json_error 401 unauthorized
hook "$P" gitlab "$SECRET" "$FIX/push.json" "Push Hook" mig-push-2
check_eval "the same push under a new key: 202 joining the runs SQLite made (created:false)" \
	'status_is 202 && [ "$(jv "sorted((r[\"stack\"], r[\"created\"]) for r in d[\"runs\"])")" = "[[\"diaspora\", false], [\"diaspora-dev\", false]]" ] &&
	 [ "$(jv "[r[\"id\"] for r in d[\"runs\"] if r[\"stack\"] == \"diaspora\"][0]")" = "$R_TRACKED" ]'
NEW_DELIVERY=$(jv 'd["delivery"]')
check_eval "... its delivery id ($NEW_DELIVERY) follows SQLite's last ($OLD_MAX_DELIVERY)" \
	'[ "$NEW_DELIVERY" -gt "$OLD_MAX_DELIVERY" ] 2>/dev/null'
variant "$FIX/push.json" "$T/push-new.json" 'd["after"] = d["checkout_sha"] = "3" * 40; d["commits"][-1]["id"] = "3" * 40'
hook "$P" gitlab "$SECRET" "$T/push-new.json" "Push Hook" mig-push-3
check_eval "a new push: 202 with 2 new runs" \
	'status_is 202 && [ "$(jv "sum(1 for r in d[\"runs\"] if r[\"created\"])")" = 2 ]'
variant "$FIX/merge_request_open.json" "$T/mr-new.json" \
	'd["object_attributes"]["last_commit"]["id"] = "4" * 40; d["object_attributes"]["iid"] = 2'
hook "$P" team-gl "$TEAM_SECRET" "$T/mr-new.json" "Merge Request Hook" mig-mr-2 "$SIGNING"
check "a merge request through Team GL, signed with the migrated signing token: 202" status_is 202
hook "$P" team-gl "$TEAM_SECRET" "$T/mr-new.json" "Merge Request Hook" mig-mr-3
check "... unsigned: 401 (Team GL still requires signatures)" json_error 401 unauthorized

# New objects get fresh ids: no clash with the copied ones.
step "new space" api "$P" "$ADMIN_KEY" POST /api/v1/spaces '{"name":"Fresh","parent":"squad"}'
step "new space 201" status_is 201
step "grant frank" api "$P" "$DAVE_KEY" PUT /api/v1/spaces/fresh/members/frank '{"role":"write"}'
step "grant frank 200" status_is 200
step "new integration" api "$P" "$ADMIN_KEY" POST /api/v1/integrations \
	"{\"name\":\"Fresh GL\",\"space\":\"fresh\",\"api_host_url\":\"$GL\",\"api_token\":\"$TOKEN_MAIN\"}"
step "new integration 201" status_is 201
step "new stack" api "$P" "$ADMIN_KEY" POST /api/v1/stacks \
	'{"id":"fresh","name":"Fresh","space":"fresh","integration":"fresh-gl","namespace":"mike","repository":"diaspora","branch":"master"}'
step "new stack 201" status_is 201
step "new manual run" api "$P" "$CAROL_KEY" POST /api/v1/stacks/diaspora/runs \
	"{\"commit\":\"$(printf '%040d' 8)\"}"
step "new manual run 201" status_is 201
steps_ok "on PostgreSQL: a new space (below squad), a grant by dave, an integration, a stack, carol's manual run -- all created (no identity clash)"
FRANK_KEY=
key_create "$P" frank FRANK_KEY
check_eval "a key for the new user frank: made, id $KEY_ID after SQLite's last ($OLD_MAX_KEY)" \
	'[ -n "$FRANK_KEY" ] && [ "$KEY_ID" -gt "$OLD_MAX_KEY" ] 2>/dev/null' || diag "$(cat "$T/key.out" "$T/key.err")"
api "$P" "$FRANK_KEY" GET /api/v1/whoami
check_eval "... frank: write in fresh" 'status_is 200 && json_str user frank && json_str fresh write'
check_eval "new rows have fresh ids: users > $OLD_MAX_USER, integrations > $OLD_MAX_INTEGRATION, audit > $OLD_MAX_AUDIT" \
	'[ "$(sql "SELECT id FROM users WHERE name = '"'"'frank'"'"'")" -gt "$OLD_MAX_USER" ] &&
	 [ "$(sql "SELECT id FROM integrations WHERE slug = '"'"'fresh-gl'"'"'")" -gt "$OLD_MAX_INTEGRATION" ] &&
	 [ "$(sql "SELECT min(id) FROM audit WHERE id > $OLD_MAX_AUDIT")" -gt 0 ] &&
	 [ "$(sql "SELECT count(*) FROM audit")" -gt "$(grep "^audit " "$T/counts.sqlite" | cut -d" " -f2)" ]' ||
	diag "users: $(sql "SELECT id, name FROM users ORDER BY id" | paste -sd ' ')" \
		"integrations: $(sql "SELECT id, slug FROM integrations ORDER BY id" | paste -sd ' ')"
api "$P" "$ADMIN_KEY" GET "/api/v1/audit?limit=100"
check_eval "the audit log on PostgreSQL: the old entries, then the new ones on top" \
	'status_is 200 && [ "$(jv "[i[\"id\"] for i in d[\"items\"]][-1]")" = "$(tail -n +2 "$T/before/24" | jv "d[\"items\"][-1][\"id\"]" /dev/stdin)" ] &&
	 [ "$(jv "int(d[\"items\"][0][\"id\"])")" -gt "$OLD_MAX_AUDIT" ]'

# The sealed API tokens unseal on PostgreSQL: the reporter (same spool)
# sends the statuses queued on SQLite and since, with each integration's
# own token.
curl -sS -o /dev/null -X DELETE "$GL/_mock/requests"
"$SH_CLI" -c "$P" report >"$T/report.out" 2>"$T/report.err"
rrc=$?
SUMMARY=$(grep -E '^sent [0-9]+, coalesced [0-9]+, deferred [0-9]+, failed [0-9]+$' "$T/report.out" | tail -n 1)
curl -sS --max-time 10 "$GL/_mock/requests" >"$T/mock.requests"
tok=$(python3 -c '
import json, sys
R = json.load(open(sys.argv[1]))
st = [r for r in R if "/statuses/" in r["path"]]
# project 15 is the default integration, project 1 Team GL (token ids: 1 main, 2 team)
print(" ".join(sorted(set("%s:%s:%s" % (r["path"].split("/")[4], (r.get("auth") or {}).get("token_id"), r["status"]) for r in st))))' "$T/mock.requests")
check_eval "stackhook report on PostgreSQL: exit 0, nothing failed ($SUMMARY)" \
	'[ "$rrc" = 0 ] && case "$SUMMARY" in "sent "*", failed 0") true ;; *) false ;; esac' ||
	diag "$(tail -n 5 "$T/report.err")"
check_eval "... the mock took project 15's statuses with the default integration's token, project 1's with Team GL's (got: $tok)" \
	'[ "$tok" = "15:1:201 1:2:201" ]'

# ---------------------------------------------------- migrate again ----

BEFORE=$(for t in $TABLES; do echo "$t $(sql "SELECT count(*) FROM $t")"; done)
"$SH_CLI" -c "$P" migrate --from "$SQLITE_DB" >"$T/migrate2.out" 2>"$T/migrate2.err"
mrc=$?
check_eval "migrate again: refused (exit $mrc), the destination is not empty" \
	'[ "$mrc" != 0 ] && grep -qi "empty" "$T/migrate2.err"' ||
	diag "$(cat "$T/migrate2.out" "$T/migrate2.err")"
AFTER=$(for t in $TABLES; do echo "$t $(sql "SELECT count(*) FROM $t")"; done)
check_eval "... nothing copied: every table's count unchanged" '[ "$AFTER" = "$BEFORE" ]'
"$SH_CLI" -c "$P" migrate --from "$T/var/lib/none.db" >"$T/migrate3.out" 2>"$T/migrate3.err"
mrc=$?
check_eval "migrate from a file that does not exist: refused (exit $mrc), nothing changed, no file made" \
	'[ "$mrc" != 0 ] && [ ! -e "$T/var/lib/none.db" ] && [ "$(for t in $TABLES; do echo "$t $(sql "SELECT count(*) FROM $t")"; done)" = "$BEFORE" ]' ||
	diag "$(cat "$T/migrate3.out" "$T/migrate3.err")"

done_testing
