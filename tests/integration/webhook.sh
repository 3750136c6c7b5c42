#!/bin/bash
# GitLab webhooks end to end (SPEC §4.1, §6), through real nginx (the
# repository's nginx/stackhook.conf) and a spawn-fcgi'd responder: every
# fixture replayed with the X-Gitlab-Event header GitLab sends it with, the
# exact answer and runs each one gives, de-duplication, refusals that store
# nothing, the spool entries an accepted delivery leaves, and storage faults
# (spool not writable, database locked) answered 503 with nothing
# half-written.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl sqlite3 python3

FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
web_instance
echo "busy_timeout    = 300ms" >>"$CONF"
API_TOKEN=glpat-WebhookTestToken0123456789

# The responder in the foreground, so that its log is kept (nginx_responder).
serve_instance
PID=$RESPONDER_PID
http GET "$BASE/healthz"
check "nginx + spawn-fcgi: /healthz is 200" status_is 200

# ------------------------------------------------------------ helpers ----

# runs_of: the answer's runs as sorted "stack:kind:new|old" words.
runs_of() {
	jv '" ".join(sorted("%s:%s:%s" % (r["stack"], r["kind"], "new" if r["created"] is True else "old" if r["created"] is False else "?") for r in d.get("runs", [])))'
}

# run_id STACK: the id of STACK's run in the last answer.
run_id() {
	jv "[r['id'] for r in d['runs'] if r['stack'] == '$1'][0]"
}

# deliver SLUG TOKEN EVENT FILE KEY [CURL ARGS]: one webhook delivery as
# GitLab sends it; an empty TOKEN or KEY leaves that header out.
deliver() {
	local slug=$1 token=$2 event=$3 file=$4 key=$5 hdr=()
	shift 5
	[ -n "$token" ] && hdr+=(-H "X-Gitlab-Token: $token")
	[ -n "$key" ] && hdr+=(-H "Idempotency-Key: $key")
	http POST "$BASE/webhooks/gitlab/$slug" -H 'Content-Type: application/json' \
		-H "User-Agent: GitLab/17.1.0-pre" -H "X-Gitlab-Event: $event" \
		-H "X-Gitlab-Instance: https://gitlab.example.com" \
		"${hdr[@]}" --data-binary "@$file" "$@"
}

KEYN=0
# hook FIXTURE-FILE EVENT [KEY]: to the default integration, with its secret
# and a fresh Idempotency-Key unless one is given.
hook() {
	KEYN=$((KEYN + 1))
	deliver gitlab "$SECRET" "$2" "$1" "${3:-key-$$-$KEYN}"
}

# state: deliveries, runs, files in spool/new and spool/tmp.
state() {
	echo "deliveries=$(count deliveries) runs=$(count runs) new=$(spool_names new) tmp=$(spool_names tmp)"
}

# refused DESC STATUS CODE [FIELD]: the last answer is that JSON error and
# the stored state is what it was ($BEFORE).
refused() {
	local desc=$1 status=$2 code=$3 field=${4:-} after
	after=$(state)
	if json_error "$status" "$code" && { [ -z "$field" ] || json_str field "$field"; } &&
	   [ "$after" = "$BEFORE" ]; then
		pass "$desc"
	else
		fail "$desc" "stored state before: $BEFORE" "stored state after:  $after"
		last_diag
	fi
}

# accepted DESC RUNS: 202 accepted, a delivery id, and exactly RUNS.
accepted() {
	local desc=$1 want got
	want=$(printf '%s\n' $2 | LC_ALL=C sort | paste -sd ' ')
	got=$(runs_of)
	if status_is 202 && is_json && json_str status accepted &&
	   body_has '"delivery"[[:space:]]*:[[:space:]]*"[0-9]+"' && [ "$got" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "runs: got '$got'" "      want '$want'"
		last_diag
	fi
}

# ignored DESC REASON-REGEX: 200 ignored with a reason matching.
ignored() {
	local desc=$1 re=$2
	check_eval "$desc" \
		'status_is 200 && is_json && json_str status ignored &&
		 body_has "\"reason\"[[:space:]]*:[[:space:]]*\"[^\"]*$re" &&
		 body_has "\"delivery\"[[:space:]]*:[[:space:]]*\"[0-9]+\"" && ! body_has "\"runs\""'
}

# run_is ID DESC PYTHON-CONDITION: GET /api/v1/runs/ID satisfies it (on d).
run_is() {
	local id=$1 desc=$2 cond=$3
	api GET "/api/v1/runs/$id"
	check_eval "$desc" 'status_is 200 && [ "$(jv "bool($cond)")" = true ]'
}

# ---------------------------------------------- integrations, stacks ----

api_json POST /api/v1/integrations \
	"{\"name\":\"GitLab\",\"type\":\"default\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$API_TOKEN\"}"
check "default integration GitLab created (201)" status_is 201 ||
	bail "cannot create the integration"
SECRET=$(jv 'd["webhook_secret"]')
check_eval "its slug is gitlab and it has a webhook secret" \
	'json_str slug gitlab && [ ${#SECRET} -ge 32 ]'

api_json POST /api/v1/integrations \
	'{"name":"Doomed","type":"space","space":"root","api_host_url":"https://gitlab.example.com","api_token":"glpat-DoomedToken012345678"}'
check "space integration Doomed created (201)" status_is 201
DOOMED_SECRET=$(jv 'd["webhook_secret"]')
DOOMED_URL=$(jv 'd.get("webhook_url", "")')

# id kind namespace repository branch project_root [integration]
STACKS=(
	"diaspora-master stack mike diaspora master -"
	"diaspora-dev stack mike diaspora develop -"
	"diaspora-docs stack mike diaspora master docs"
	"example-module module jsmith example master -"
	"example-stack stack jsmith example master -"
	"hello stack gitlab-org hello-world master -"
	"hello-infra stack gitlab-org hello-world master infra"
	"gitlab-test stack gitlabhq gitlab-test master -"
	"woodpecker stack test woodpecker master -"
	"subgroup stack Group1/GROUP2/group3 Grp2Repo master -"
	"doomed stack mike diaspora master - doomed"
)
made=0
for s in "${STACKS[@]}"; do
	read -r id kind ns repo branch root integ <<<"$s"
	root_json=
	[ "$root" != - ] && root_json=",\"project_root\":\"$root\""
	api_json POST /api/v1/stacks \
		"{\"id\":\"$id\",\"name\":\"$id\",\"kind\":\"$kind\",\"integration\":\"${integ:-gitlab}\",\"namespace\":\"$ns\",\"repository\":\"$repo\",\"branch\":\"$branch\"$root_json}"
	if status_is 201; then
		made=$((made + 1))
	else
		fail "stack $id created" && last_diag
	fi
done
check_eval "${#STACKS[@]} stacks and modules created" '[ "$made" = ${#STACKS[@]} ]'

# --------------------------------------- refusals store nothing ----------

BEFORE=$(state)
WRONG=${SECRET%?}$([ "${SECRET: -1}" = x ] && echo y || echo x)
deliver gitlab "$WRONG" "Push Hook" "$FIX/push.json" refused-1
refused "token differing in its last byte: 401, nothing stored" 401 unauthorized
check_eval "... the answer does not echo the token" '! grep -qF -- "$WRONG" "$T/http.body" "$T/http.head"'
deliver gitlab "" "Push Hook" "$FIX/push.json" refused-2
refused "no X-Gitlab-Token: 401, nothing stored" 401 unauthorized
deliver gitlab "${SECRET}x" "Push Hook" "$FIX/push.json" refused-3
refused "the secret with a byte more: 401, nothing stored" 401 unauthorized
deliver no-such-integration "$SECRET" "Push Hook" "$FIX/push.json" refused-4
refused "unknown slug: 404, nothing stored" 404 not_found
deliver doomed "$SECRET" "Push Hook" "$FIX/push.json" refused-5
refused "another integration's secret: 401, nothing stored" 401 unauthorized
http GET "$BASE/webhooks/gitlab/gitlab" -H "X-Gitlab-Token: $SECRET"
refused "GET on the webhook: 405 method_not_allowed, nothing stored" 405 method_not_allowed
check "... with Allow: POST" header_is Allow "POST[[:space:]]*$"
big_body "$T/big.json" 70000
deliver gitlab "$SECRET" "Push Hook" "$T/big.json" refused-6
refused "a 70 KB body (max_body 64K): 413, nothing stored" 413 payload_too_large
printf '{"object_kind": "push", ' >"$T/broken.json"
deliver gitlab "$SECRET" "Push Hook" "$T/broken.json" refused-7
refused "a body that is not JSON: 400 invalid_json, nothing stored" 400 invalid_json
printf '[{"object_kind":"push"}]' >"$T/array.json"
deliver gitlab "$SECRET" "Push Hook" "$T/array.json" refused-8
refused "a JSON array body: 400 invalid_json, nothing stored" 400 invalid_json
variant "$FIX/push.json" "$T/no-kind.json" 'del d["object_kind"]'
deliver gitlab "$SECRET" "Push Hook" "$T/no-kind.json" refused-9
refused "push without object_kind: 400 missing_field object_kind, nothing stored" \
	400 missing_field object_kind
variant "$FIX/push.json" "$T/bad-sha.json" 'd["checkout_sha"] = "z" * 40'
deliver gitlab "$SECRET" "Push Hook" "$T/bad-sha.json" refused-10
refused "push with a non-hex checkout_sha: 400 invalid_field checkout_sha, nothing stored" \
	400 invalid_field checkout_sha
variant "$FIX/push.json" "$T/num-ref.json" 'd["ref"] = 42'
deliver gitlab "$SECRET" "Push Hook" "$T/num-ref.json" refused-11
refused "push with a number as ref: 400 invalid_field ref, nothing stored" \
	400 invalid_field ref

# ------------------------------------------------- every fixture ----------

NEW0=$(spool_names new)
ls "$SPOOL/new" >"$T/new.before"
EVENT_UUID=9cebe914-4827-408f-b014-cfa23a47a35f
deliver gitlab "$SECRET" "Push Hook" "$FIX/push.json" push-key-1 \
	-H "X-Gitlab-Event-UUID: $EVENT_UUID" -H "X-Gitlab-Webhook-UUID: 3c5c0404-c866-44bc-a5f6-452bb1bfc76e"
cp "$T/http.body" "$T/push1.json"
accepted "push.json (Push Hook): tracked runs for master stacks (project_root with a truncated commit list too), proposed for the develop stack" \
	"diaspora-dev:proposed:new diaspora-docs:tracked:new diaspora-master:tracked:new"
PUSH_DELIVERY=$(jv 'd["delivery"]')
R_MASTER=$(run_id diaspora-master)
R_DEV=$(run_id diaspora-dev)
run_is "$R_MASTER" "the master stack's run: tracked, trigger push, sha = checkout_sha, ref master, queued" \
	'd["kind"] == "tracked" and d["trigger"] == "push" and d["sha"] == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" and d["ref"] == "master" and d["state"] == "queued" and d["stack"] == "diaspora-master" and d["merge_requests"] == []'
run_is "$R_DEV" "the develop stack's run: proposed on the same commit" \
	'd["kind"] == "proposed" and d["sha"] == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"'

# The spool entry the 202 left: one JSON Lines file with the three pending
# commit statuses, tokens nowhere.
check_eval "the accepted push left one new file in spool/new" \
	'[ "$(spool_names new)" = $((NEW0 + 1)) ] && [ "$(spool_names tmp)" = 0 ]'
SPOOL_FILE=$(ls "$SPOOL/new" | grep -vxF -f "$T/new.before" | head -n 1)
cat >"$T/spool_check.py" <<'PY'
import json, sys
path, base = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
assert lines[-1] == "", "the file does not end with a newline"
entries = [json.loads(l) for l in lines[:-1]]
assert len(entries) == 3, "%d entries" % len(entries)
names = set()
for e in entries:
    for k in ("version", "id", "created", "integration", "project", "kind", "key",
              "request", "run", "stack", "attempts", "next_attempt", "last_error"):
        assert k in e, "no %s in %s" % (k, e)
    assert e["kind"] == "commit_status", e["kind"]
    r = e["request"]
    assert r["method"] == "POST", r
    assert r["path"] == "/projects/15/statuses/da1560886d4f094c3e6c9ef40349f7d38b5d27d7", r["path"]
    b = r["body"]
    assert b["state"] == "pending", b
    assert b["ref"] == "master", b
    assert b["target_url"].startswith(base), b["target_url"]
    assert e["run"] in b["target_url"], b["target_url"]
    assert e["project"]["id"] == 15 and e["project"]["path"] == "mike/diaspora", e["project"]
    assert e["attempts"] == 0, e
    want = "stackhook/" + e["stack"] + ("/proposed" if e["stack"] == "diaspora-dev" else "")
    assert b["name"] == want, (b["name"], want)
    names.add(b["name"])
assert names == {"stackhook/diaspora-master", "stackhook/diaspora-docs",
                 "stackhook/diaspora-dev/proposed"}, names
assert len({e["id"] for e in entries}) == 3, "entry ids repeat"
PY
if [ -n "$SPOOL_FILE" ] && python3 "$T/spool_check.py" "$SPOOL/new/$SPOOL_FILE" "$BASE" >"$T/spool_check.out" 2>&1; then
	pass "spool entry: JSON Lines, 3 commit_status entries, POST /projects/15/statuses/<sha>, pending, names stackhook/<stack>[/proposed]"
else
	fail "spool entry: JSON Lines, 3 commit_status entries, POST /projects/15/statuses/<sha>, pending, names stackhook/<stack>[/proposed]" \
		"file: ${SPOOL_FILE:-none}" "$(tail -n 3 "$T/spool_check.out")" \
		"$(head -c 1500 "$SPOOL/new/$SPOOL_FILE" 2>/dev/null)"
fi
mode=$(stat -c '%a %U' "$SPOOL/new/$SPOOL_FILE" 2>/dev/null)
check_eval "the spool file is 0600 and owned by the service user (got '$mode')" \
	'[ "$mode" = "600 ${RUN_USER:-$(id -un)}" ]'

tag_push_expect="example-module:tracked:new"
hook "$FIX/tag_push.json" "Tag Push Hook"
accepted "tag_push.json (Tag Push Hook): a tracked run for the module, the stack on the same project ignores tags" \
	"$tag_push_expect"
run_is "$(run_id example-module)" "the module's run: trigger tag, sha = checkout_sha, ref v1.0.0" \
	'd["kind"] == "tracked" and d["trigger"] == "tag" and d["sha"] == "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7" and d["ref"] == "v1.0.0"'
# An annotated tag: after is the tag object, checkout_sha the commit.
variant "$FIX/tag_push.json" "$T/tag_annotated.json" \
	'd["ref"] = "refs/tags/v1.1.0"; d["after"] = "a" * 40; d["checkout_sha"] = "c" * 40; d["message"] = "Release 1.1.0"'
hook "$T/tag_annotated.json" "Tag Push Hook"
accepted "annotated tag v1.1.0: a new tracked module run" "example-module:tracked:new"
run_is "$(run_id example-module)" "... on checkout_sha (the commit), not after (the tag object)" \
	'd["sha"] == "c" * 40 and d["ref"] == "v1.1.0"'
variant "$FIX/tag_push.json" "$T/tag_nonversion.json" \
	'd["ref"] = "refs/tags/nightly"; d["checkout_sha"] = d["after"] = "d" * 40'
hook "$T/tag_nonversion.json" "Tag Push Hook"
ignored "a tag that is not a version (nightly): 200 ignored" "not a version"

hook "$FIX/tag_push_delete.json" "Tag Push Hook"
ignored "tag_push_delete.json (Tag Push Hook): 200 ignored, tag deleted" "deleted"
hook "$FIX/push_branch_delete.json" "Push Hook"
ignored "push_branch_delete.json (Push Hook, checkout_sha null): 200 ignored, branch deleted" \
	"branch feature was deleted"

hook "$FIX/push_branch_create.json" "Push Hook"
accepted "push_branch_create.json: proposed run for hello; hello-infra (project_root infra, full commit list touching only README.md) ignores it" \
	"hello:proposed:new"
R_HELLO_FEATURE=$(run_id hello)
run_is "$R_HELLO_FEATURE" "... on c4c79227, ref feature, no merge request yet" \
	'd["sha"] == "c4c79227ed610f1151f05bbc5be33b4f340d39c8" and d["ref"] == "feature" and d["merge_requests"] == []'

hook "$FIX/merge_request_reopen.json" "Merge Request Hook"
accepted "merge_request_reopen.json: hello's proposed run for that commit is joined (created:false); hello-infra gets one" \
	"hello:proposed:old hello-infra:proposed:new"
check_eval "... the joined run is the one the push made" '[ "$(run_id hello)" = "$R_HELLO_FEATURE" ]'
run_is "$R_HELLO_FEATURE" "... and now knows merge request !1 (merge_requests [1])" \
	'd["merge_requests"] == [1] and d["kind"] == "proposed"'
api GET "/api/v1/runs?stack=hello-infra"
check_eval "... hello-infra's MR run: trigger merge_request, iid 1" \
	'status_is 200 && [ "$(jv "[(r[\"trigger\"], r[\"merge_requests\"], r[\"sha\"]) for r in d[\"items\"]]")" = "[[\"merge_request\", [1], \"c4c79227ed610f1151f05bbc5be33b4f340d39c8\"]]" ]'

hook "$FIX/merge_request_merge.json" "Merge Request Hook"
ignored "merge_request_merge.json: 200 ignored" "merge"
hook "$FIX/merge_request_close.json" "Merge Request Hook"
ignored "merge_request_close.json: 200 ignored" "close"

hook "$FIX/push_merge_commit.json" "Push Hook"
accepted "push_merge_commit.json: tracked run for hello on master; hello-infra ignores it (README.md only)" \
	"hello:tracked:new"
run_is "$(run_id hello)" "... on the merge commit 78a76ee6" \
	'd["sha"] == "78a76ee6b4992a6baf64c59fc4c44c7323d60438" and d["trigger"] == "push" and d["kind"] == "tracked"'
api GET "/api/v1/deliveries?integration=gitlab"
check_eval "... the deliveries list keeps the ignored ones with outcome and reason" \
	'status_is 200 && [ "$(jv "sum(1 for i in d[\"items\"] if i[\"outcome\"] == \"ignored\" and i[\"reason\"])")" -ge 5 ]'

hook "$FIX/merge_request_open.json" "Merge Request Hook"
accepted "merge_request_open.json: a proposed run for gitlab-test" "gitlab-test:proposed:new"
run_is "$(run_id gitlab-test)" "... on last_commit da156088, knowing merge request !1" \
	'd["sha"] == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" and d["merge_requests"] == [1] and d["trigger"] == "merge_request" and d["ref"] == "ms-viewport"'

hook "$FIX/merge_request_update.json" "Merge Request Hook"
accepted "merge_request_update.json (oldrev: new commits): a proposed run for woodpecker" \
	"woodpecker:proposed:new"
run_is "$(run_id woodpecker)" "... on last_commit 0ab96a10, knowing merge request !2" \
	'd["sha"] == "0ab96a10266b95b4b533dcfd98738015fbe70889" and d["merge_requests"] == [2]'
variant "$FIX/merge_request_update.json" "$T/mr_update_labels.json" \
	'del d["object_attributes"]["oldrev"]; d["object_attributes"]["last_commit"]["id"] = "e" * 40'
hook "$T/mr_update_labels.json" "Merge Request Hook"
ignored "a merge request update without oldrev (labels, title): 200 ignored" "without new commits"

hook "$FIX/note_merge_request.json" "Note Hook"
ignored "note_merge_request.json (Note Hook): 200 ignored" "note"

hook "$FIX/push_subgroup.json" "Push Hook"
accepted "push_subgroup.json: group1/group2/group3/grp2repo matches the stack on Group1/GROUP2/group3/Grp2Repo" \
	"subgroup:tracked:new"
run_is "$(run_id subgroup)" "... tracked on 2adc9465" \
	'd["sha"] == "2adc9465c4edfc33834e173fe89436a7cb899a1d" and d["ref"] == "master"'

# ------------------------------------------------ de-duplication ----------

BEFORE=$(state)
hook "$FIX/push.json" "Push Hook" push-key-1
check_eval "resend with the same Idempotency-Key: 200 duplicate naming a delivery" \
	'status_is 200 && json_str status duplicate && body_has "\"delivery\"[[:space:]]*:[[:space:]]*\"[0-9]+\""'
after=$(state)
check_eval "... no new run, no spool entry (only the delivery is recorded)" \
	'[ "${after#* }" = "${BEFORE#* }" ]' || diag "before: $BEFORE" "after:  $after"

BEFORE=$(state)
hook "$FIX/push.json" "Push Hook" push-key-2
accepted "the same push with another Idempotency-Key: the same runs, created:false" \
	"diaspora-dev:proposed:old diaspora-docs:tracked:old diaspora-master:tracked:old"
check_eval "... the very same run ids" \
	'[ "$(jv "sorted(r[\"id\"] for r in d[\"runs\"])")" = "$(jv "sorted(r[\"id\"] for r in d[\"runs\"])" "$T/push1.json")" ]'
DUP_DELIVERY=$(jv 'd["delivery"]')
after=$(state)
check_eval "... no new run and no new spool entry" \
	'[ "$(echo "$after" | cut -d" " -f2-3)" = "$(echo "$BEFORE" | cut -d" " -f2-3)" ]' ||
	diag "before: $BEFORE" "after:  $after"
api GET "/api/v1/deliveries?integration=gitlab"
check_eval "... that delivery is flagged suspected_duplicate_hook, the first one is not" \
	'status_is 200 &&
	 [ "$(jv "[i[\"suspected_duplicate_hook\"] for i in d[\"items\"] if i[\"id\"] == \"$DUP_DELIVERY\"]")" = "[true]" ] &&
	 [ "$(jv "[i[\"suspected_duplicate_hook\"] for i in d[\"items\"] if i[\"id\"] == \"$PUSH_DELIVERY\"]")" = "[false]" ]'
check_eval "... the first delivery recorded its X-Gitlab-Event-UUID and outcome accepted" \
	'[ "$(jv "[(i[\"event_uuid\"], i[\"outcome\"], i[\"kind\"], i[\"project\"]) for i in d[\"items\"] if i[\"id\"] == \"$PUSH_DELIVERY\"]")" = "[[\"$EVENT_UUID\", \"accepted\", \"push\", \"mike/diaspora\"]]" ]'

# A built-in integration ("service") hook sends every kind as Service Hook;
# no Idempotency-Key either (older GitLab): the body's hash is the key.
deliver gitlab "$SECRET" "Service Hook" "$FIX/push.json" ""
accepted "push.json under X-Gitlab-Event: Service Hook: the same answer as under Push Hook" \
	"diaspora-dev:proposed:old diaspora-docs:tracked:old diaspora-master:tracked:old"
deliver gitlab "$SECRET" "Service Hook" "$FIX/push.json" ""
check_eval "... sent again without Idempotency-Key: duplicate by the body's hash" \
	'status_is 200 && json_str status duplicate'
variant "$FIX/push_subgroup.json" "$T/push_service.json" \
	'd["after"] = d["checkout_sha"] = "5" * 40; d["commits"][0]["id"] = "5" * 40'
deliver gitlab "$SECRET" "Service Hook" "$T/push_service.json" service-key-1
accepted "a new push under Service Hook creates its run like a Push Hook" "subgroup:tracked:new"

# ----------------------------------------- a deleted integration ----------

deliver doomed "$DOOMED_SECRET" "Push Hook" "$FIX/push.json" doomed-key-1
accepted "the Doomed integration's stack gets its push" "doomed:tracked:new"
api DELETE /api/v1/integrations/doomed
check "DELETE /api/v1/integrations/doomed: 204" status_is 204
BEFORE=$(state)
deliver doomed "$DOOMED_SECRET" "Push Hook" "$FIX/push.json" doomed-key-2
refused "a delivery to the deleted integration: 404, nothing stored" 404 not_found
api GET /api/v1/stacks/doomed
check_eval "its stack is detached (integration null)" \
	'status_is 200 && [ "$(jv "d[\"integration\"]")" = null ]'
api_json POST /api/v1/integrations \
	'{"name":"Doomed","type":"space","space":"root","api_host_url":"https://gitlab.example.com"}'
check_eval "an integration with the same name again: 201, same webhook URL, new secret" \
	'status_is 201 && [ "$(jv "d.get(\"webhook_url\", \"\")")" = "$DOOMED_URL" ] &&
	 [ "$(jv "d[\"webhook_secret\"]")" != "$DOOMED_SECRET" ]'
DOOMED2_SECRET=$(jv 'd["webhook_secret"]')
BEFORE=$(state)
deliver doomed "$DOOMED_SECRET" "Push Hook" "$FIX/push.json" doomed-key-3
refused "... the old secret no longer works there (401)" 401 unauthorized
variant "$FIX/push.json" "$T/push_doomed.json" 'd["after"] = d["checkout_sha"] = "6" * 40'
deliver doomed "$DOOMED2_SECRET" "Push Hook" "$T/push_doomed.json" doomed-key-4
ignored "... a push to the new one: 200 ignored, the detached stack receives nothing" "no stack follows"
api GET "/api/v1/runs?stack=doomed"
check_eval "... the detached stack still has its one run" \
	'status_is 200 && [ "$(jv "len(d[\"items\"])")" = 1 ]'

# ------------------------------------------------ storage faults ----------

# (a) the spool cannot take the entry: tmp/ not writable by the responder.
variant "$FIX/push.json" "$T/push_fault_a.json" 'd["after"] = d["checkout_sha"] = "1" * 40'
BEFORE=$(state)
ls "$SPOOL/new" >"$T/new.before"
chmod 0500 "$SPOOL/tmp"
deliver gitlab "$SECRET" "Push Hook" "$T/push_fault_a.json" fault-a
check_eval "spool/tmp not writable: 503 storage_unavailable with Retry-After" \
	'json_error 503 storage_unavailable && header_is Retry-After "[0-9]+"'
check_eval "... no path or secret in the answer" \
	'! grep -qF -- "$T" "$T/http.body" && ! grep -qF -- "$SECRET" "$T/http.body"'
refused "... deliveries, runs and spool unchanged" 503 storage_unavailable
check_eval "... spool/new holds the same files" \
	'ls "$SPOOL/new" | cmp -s - "$T/new.before"'
http GET "$BASE/healthz"
check_eval "... /healthz is 503 while the spool is not writable" 'status_is 503 && is_json'
chmod 0700 "$SPOOL/tmp"
deliver gitlab "$SECRET" "Push Hook" "$T/push_fault_a.json" fault-a
accepted "spool writable again: the same delivery (same key) is accepted" \
	"diaspora-dev:proposed:new diaspora-docs:tracked:new diaspora-master:tracked:new"
after=$(state)
check_eval "... one more delivery, three runs, one spool file" \
	'[ "$after" = "deliveries=$(( $(echo "$BEFORE" | sed "s/deliveries=\([0-9]*\).*/\1/") + 1 )) runs=$(( $(echo "$BEFORE" | sed "s/.*runs=\([0-9]*\).*/\1/") + 3 )) new=$(( $(echo "$BEFORE" | sed "s/.*new=\([0-9]*\).*/\1/") + 1 )) tmp=0" ]' ||
	diag "before: $BEFORE" "after:  $after"
http GET "$BASE/healthz"
check "... /healthz is 200 again" status_is 200

# (b) the database is locked past busy_timeout (300ms) by another writer.
variant "$FIX/push.json" "$T/push_fault_b.json" 'd["after"] = d["checkout_sha"] = "2" * 40'
as_run_user python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(3)
c.execute("COMMIT")
print("released", flush=True)' "$DB" >"$T/log/locker.out" 2>"$T/log/locker.err" &
LOCKER=$!
track_pid "$LOCKER"
if wait_for "grep -q locked '$T/log/locker.out'" 5; then
	BEFORE=$(state)
	t0=$(date +%s%N)
	deliver gitlab "$SECRET" "Push Hook" "$T/push_fault_b.json" fault-b
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check_eval "database locked by another writer: 503 storage_unavailable with Retry-After" \
		'json_error 503 storage_unavailable && header_is Retry-After "[0-9]+"'
	check_eval "... answered after busy_timeout, not after the lock (${ms} ms < 2500)" \
		'[ "$ms" -lt 2500 ]'
	refused "... deliveries, runs and spool unchanged" 503 storage_unavailable
	check_eval "... the lock was still held when the answer came" 'kill -0 "$LOCKER" 2>/dev/null'
	# SPEC §4.1 step 9: /healthz turns 503 until writes succeed again.
	http GET "$BASE/healthz"
	check_eval "... /healthz is 503 after that refused write, while the lock is held" \
		'status_is 503 && is_json && grep -q "^locked" "$T/log/locker.out" && ! grep -q released "$T/log/locker.out"'
	wait "$LOCKER"
	lrc=$?
	check_eval "... the locking process committed (exit status 0)" \
		'[ "$lrc" = 0 ] && grep -q released "$T/log/locker.out"' ||
		diag "$(cat "$T/log/locker.err")"
	deliver gitlab "$SECRET" "Push Hook" "$T/push_fault_b.json" fault-b
	accepted "lock gone: the same delivery is accepted" \
		"diaspora-dev:proposed:new diaspora-docs:tracked:new diaspora-master:tracked:new"
	http GET "$BASE/healthz"
	check "... /healthz is 200" status_is 200
else
	fail "a second process holds the database's write lock" "$(cat "$T/log/locker.err")"
fi

# ------------------------------------------------------ rekey -------------
# stackhook rekey with the responder still running (the documented way
# stops it first): the process reads the new key file at its next request
# instead of failing to open the re-sealed secret with the old key.
"$SH_CLI" -c "$CONF" rekey >"$T/log/rekey.out" 2>&1
rekey_rc=$?
check_eval "stackhook rekey while the responder runs: exit 0" '[ "$rekey_rc" = 0 ]' ||
	diag "$(cat "$T/log/rekey.out")"
hook "$FIX/tag_push_delete.json" "Tag Push Hook"
check "... the running responder still lets the secret in (200 ignored: a tag deletion)" \
	status_is 200
deliver gitlab "$WRONG" "Push Hook" "$FIX/push.json" refused-after-rekey
check "... and refuses another token (401)" status_is 401

# ------------------------------------------------------ secrets -----------

check_eval "the one responder process served everything (pid $PID still running)" \
	'kill -0 "$PID" 2>/dev/null && ! is_zombie "$PID"'
check_eval "the responder logged the refusals and the 503s to stderr" \
	'grep -q "refused" "$T/log/responder.err" && grep -q "fault-a" "$T/log/responder.err" && grep -q "fault-b" "$T/log/responder.err"'
check_eval "no received token (right or wrong) in the responder's log" \
	'! grep -qF -e "$SECRET" -e "$WRONG" -e "$DOOMED_SECRET" -e "$DOOMED2_SECRET" "$T/log/responder.err"'
check_eval "no token or key anywhere in the spool" \
	'! grep -rqF -e "$SECRET" -e "$DOOMED_SECRET" -e "$API_TOKEN" -e "$ADMIN_KEY" -e glpat- "$SPOOL"'
check_eval "no token in nginx's logs" \
	'! grep -qF -e "$SECRET" -e "$WRONG" "$N/access.log" "$N/error.log"'

if [ "$T_FAILED" != 0 ]; then
	grep -v '\[info\]' "$N/error.log" >"$N/error.log.short"
	show_log "$N/error.log.short"
	show_log "$T/log/responder.err"
fi
done_testing
