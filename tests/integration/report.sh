#!/bin/bash
# `stackhook report` end to end (SPEC §5, §6): webhooks through real nginx
# (the repository's nginx/stackhook.conf) and a spawn-fcgi'd responder make
# runs, the admin API moves them, and the reporter sends what they imply to
# the tests' mock GitLab (tests/mock-gitlab/mock_gitlab.py) -- the checks are
# on the requests the mock recorded and on what stays in the spool.
#
#  1. commit statuses pending -> running -> success, the plan summary, the
#     deployment of a tracked run with changes (none without), GitLab under a
#     sub-path;
#  2. merge request comments: one per stack and MR, edited in place, quick
#     actions escaped, MRs asked from GitLab when the run knows none;
#  3. the summary line, --dry-run, 1,000 updates of one status -> 1 request;
#  4. faults: repeated running, 409/429/500, 401 and a new token, 404,
#     deleted integration, report_max_age, GitLab down;
#  5. two reporters at once, kill -9 mid-flush, tmp/ recovery;
#  6. --for: a webhook's pending status within 1.5 s, exit after its time;
#  7. /metrics and /healthz.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3

. "$top_srcdir/tests/integration/lib-gitlab.sh"
FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
web_instance
echo "retry_initial   = 1s" >>"$CONF"
API_TOKEN=glpat-ReportTestToken0123456789
SUB_TOKEN=glpat-SubPathToken0123456789
NEW_TOKEN=glpat-RotatedToken0123456789

SHA=da1560886d4f094c3e6c9ef40349f7d38b5d27d7   # push.json, merge_request_open.json

# ------------------------------------------------------------ helpers ----

KEYN=0
# hook SLUG SECRET FIXTURE EVENT: one webhook delivery as GitLab sends it.
hook() {
	KEYN=$((KEYN + 1))
	http POST "$BASE/webhooks/gitlab/$1" -H 'Content-Type: application/json' \
		-H "X-Gitlab-Event: $4" -H "X-Gitlab-Token: $2" \
		-H "Idempotency-Key: report-$$-$KEYN" --data-binary "@$3"
}

# run_of STACK: the id of STACK's run in the last webhook answer.
run_of() {
	jv "[r['id'] for r in d['runs'] if r['stack'] == '$1'][0]"
}

# move RUN STATE [MORE-JSON]: one transition; 0 when it answered 200.
move() {
	local run=$1 state=$2 more=${3:+,$3}
	api_json POST "/api/v1/runs/$run/transitions" "{\"state\":\"$state\"$more}"
	status_is 200
}

# moves DESC RUN STATE...: several transitions, one test point.
moves() {
	local desc=$1 run=$2 s
	shift 2
	for s in "$@"; do
		case $s in
		*'{'*) move "$run" "${s%%|*}" "${s#*|}" || break ;;
		*) move "$run" "$s" || break ;;
		esac
	done
	check "$desc" status_is 200
}

# manual_run STACK SHA: a manual tracked run on SHA; RUN is its id.
manual_run() {
	api_json POST "/api/v1/stacks/$1/runs" "{\"commit\":\"$2\"}"
	RUN=$(jv 'd["id"]')
	status_is 201
}

# mq EXPR [MOCK-URL] (lib-gitlab.sh): R, the requests the mock recorded
# since the last clear_requests, S, its state; api(r) is the path after
# /api/v4, st(r) a status POST's state.

# mq_is DESC EXPR WANT [MOCK-URL]: one test point, EXPR printed is WANT.
mq_is() {
	check_same "$1" "$(mq "$2" "${4:-$GL}")" "$3" "expression: $2" ||
		diag "requests: $(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["method"], r["path"], r["status"], json.dumps(r.get("body"))[:160])' "$T/mq.requests" | head -n 30)"
	return 0
}

SUM_SENT=0 SUM_COALESCED=0 SUM_DEFERRED=0 SUM_FAILED=0
# add_summary LINE: adds a summary line's numbers to the SUM_* totals.
add_summary() {
	set -- $(echo "$1" | tr -cs '0-9' ' ')
	[ $# = 4 ] || return 0
	SUM_SENT=$((SUM_SENT + $1))
	SUM_COALESCED=$((SUM_COALESCED + $2))
	SUM_DEFERRED=$((SUM_DEFERRED + $3))
	SUM_FAILED=$((SUM_FAILED + $4))
}

# report [ARGS...]: one `stackhook report` as cron runs it (root: it drops
# to the config's user itself); REPORT_RC, SUMMARY (its summary line),
# output in $T/report.out and .err (and every run's stderr in
# $T/log/report.err); REPORT_T0 and REPORT_T1, the (whole) seconds it
# started and ended.
report() {
	REPORT_T0=$(date +%s)
	"$SH_CLI" -c "$CONF" report "$@" >"$T/report.out" 2>"$T/report.err"
	REPORT_RC=$?
	REPORT_T1=$(date +%s)
	cat "$T/report.err" >>"$T/log/report.err"
	SUMMARY=$(grep -E '^sent [0-9]+, coalesced [0-9]+, deferred [0-9]+, failed [0-9]+$' \
		"$T/report.out" | tail -n 1)
	case " $* " in
	*" --dry-run "*) ;;
	*) add_summary "$SUMMARY" ;;
	esac
}

# reported DESC "sent N, coalesced N, deferred N, failed N": the last
# report exited 0 and printed that line.
reported() {
	if [ "$REPORT_RC" = 0 ] && [ "$SUMMARY" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "exit status $REPORT_RC, summary '$SUMMARY', want '$2'" \
			"stdout: $(head -c 600 "$T/report.out")" "stderr: $(tail -n 8 "$T/report.err")"
	fi
}

# sq DIR EXPR: the Python expression EXPR over E, the entries of every file
# in spool/DIR (each with "_file"), oldest file first.
cat >"$T/sq.py" <<'PY'
import json, os, sys, time
d = sys.argv[1]
E = []
for name in sorted(os.listdir(d)):
    if name.startswith("."):
        continue
    with open(os.path.join(d, name)) as fh:
        for line in fh:
            if line.strip():
                e = json.loads(line)
                e["_file"] = name
                E.append(e)
now = time.time()
try:
    v = eval(sys.argv[2])
except Exception as e:
    print("<%s: %s>" % (type(e).__name__, e))
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
PY
sq() {
	python3 "$T/sq.py" "$SPOOL/$1" "$2"
}

spool_count() {
	find "$SPOOL/$1" -mindepth 1 -maxdepth 1 -type f 2>/dev/null | wc -l
}

# spool_state: files in tmp new deferred failed.
spool_state() {
	echo "tmp=$(spool_count tmp) new=$(spool_count new) deferred=$(spool_count deferred) failed=$(spool_count failed)"
}

# spool_is DESC "tmp=N new=N deferred=N failed=N"
spool_is() {
	check_same "$1" "$(spool_state)" "$2"
}

# write_entries N PYTHON: N spool files written as the core writes them
# (tmp/, fsync, rename into new/), as the service user; each entry is a
# copy of $T/template.json changed by PYTHON (on e, with i = 0..N-1).
write_entries() {
	as_run_user python3 -c '
import json, os, sys, time
spool, n, code, template = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = json.load(open(template))
for i in range(n):
    e = json.loads(json.dumps(base))
    e["id"] = os.urandom(16).hex()
    e["attempts"], e["next_attempt"], e["last_error"] = 0, 0, None
    exec(code)
    name = "%013x.%d.%d.jsonl" % (int(time.time() * 1e6), os.getpid(), i)
    tmp = os.path.join(spool, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (json.dumps(e, separators=(",", ":")) + "\n").encode())
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, os.path.join(spool, "new", name))
dfd = os.open(os.path.join(spool, "new"), os.O_RDONLY)
os.fsync(dfd)
os.close(dfd)' "$SPOOL" "$1" "$2" "$T/template.json"
}

# template_from RUN: $T/template.json is the newest commit_status entry of
# RUN in spool/new (which keeps it).
template_from() {
	sq new "[e for e in E if e['run'] == '$1' and e['kind'] == 'commit_status'][-1]" \
		>"$T/template.json" && jv 'd["key"]' "$T/template.json" >/dev/null
}

# due: sleeps until every entry in spool/deferred is due (at most 10 s).
due() {
	local secs
	secs=$(sq deferred 'min(10, max([0] + [e["next_attempt"] - now + 0.05 for e in E]))')
	sleep "$secs"
}

# sha S: S repeated to 40 characters (S of 1 or 2 hex digits).
sha() {
	local s
	s=$(printf "$1%.0s" {1..40})
	echo "${s:0:40}"
}

# requests_for URL REGEX: how many requests the mock at URL recorded whose
# path matches REGEX.
requests_for() {
	curl -sS --max-time 5 "$1/_mock/requests?path=$2" 2>/dev/null | grep -o '"seq"' | wc -l
}

# lock_held: some process holds the spool's lock (read from /proc/locks,
# without taking it; without /proc/locks, half a second is taken as enough).
lock_held() {
	local inode
	if [ ! -r /proc/locks ]; then
		sleep 0.5
		return 0
	fi
	inode=$(stat -c %i "$SPOOL/lock" 2>/dev/null) || return 1
	grep -q "FLOCK .*:$inode " /proc/locks
}

# ------------------------------------------------------------ servers ----

SEED=$T/seed.json
DIASPORA=$(seed_diaspora "$(seed_mr 7 opened develop master "$SHA")" \
	"$(seed_mr 8 closed develop master "$SHA")" "$(seed_mr 9 opened develop release "$SHA")")
cat >"$SEED" <<EOF
{"projects": [
  $DIASPORA,
  {"id": 1, "path_with_namespace": "gitlabhq/gitlab-test", "default_branch": "master",
   "branches": ["master", "ms-viewport"],
   "merge_requests": [$(seed_mr 1 opened ms-viewport master "$SHA")]}
]}
EOF
mock_main --seed "$SEED" --token "$API_TOKEN"

serve_instance

api_json POST /api/v1/integrations \
	"{\"name\":\"GitLab\",\"type\":\"default\",\"api_host_url\":\"$GL\",\"api_token\":\"$API_TOKEN\"}"
check "integration GitLab with the mock as api_host_url: 201" status_is 201 ||
	bail "cannot create the integration"
SECRET=$(jv 'd["webhook_secret"]')

# id namespace repository branch [integration]
STACKS=(
	"diaspora mike diaspora master"
	"diaspora-dev mike diaspora develop"
	"gitlab-test gitlabhq gitlab-test master"
	"nowhere nobody nothing master"
)
made=0
for s in "${STACKS[@]}"; do
	read -r id ns repo branch integ <<<"$s"
	api_json POST /api/v1/stacks \
		"{\"id\":\"$id\",\"name\":\"$id\",\"integration\":\"${integ:-gitlab}\",\"namespace\":\"$ns\",\"repository\":\"$repo\",\"branch\":\"$branch\"}"
	if status_is 201; then made=$((made + 1)); else last_diag; fi
done
check_eval "${#STACKS[@]} stacks created" '[ "$made" = ${#STACKS[@]} ]'

# ============================================ 1. statuses, deployments ====

clear_requests
hook gitlab "$SECRET" "$FIX/push.json" "Push Hook"
check_eval "push.json: 202 with a tracked run (diaspora) and a proposed one (diaspora-dev)" \
	'status_is 202 && [ "$(jv "sorted((r[\"stack\"], r[\"kind\"]) for r in d[\"runs\"])")" = "[[\"diaspora\", \"tracked\"], [\"diaspora-dev\", \"proposed\"]]" ]'
R_TRACKED=$(run_of diaspora)
R_PROPOSED=$(run_of diaspora-dev)
spool_is "... its pending statuses wait in spool/new" "tmp=0 new=1 deferred=0 failed=0"

report
reported "report: sent 2, nothing else" "sent 2, coalesced 0, deferred 0, failed 0"
mq_is "the mock got exactly 2 requests, both POST /api/v4/projects/15/statuses/<sha>, answered 201" \
	'[(r["method"], r["path"], r["status"]) for r in R]' \
	"[[\"POST\", \"/api/v4/projects/15/statuses/$SHA\", 201], [\"POST\", \"/api/v4/projects/15/statuses/$SHA\", 201]]"
mq_is "... one pending status per run: stackhook/diaspora (ref master) and stackhook/diaspora-dev/proposed" \
	'sorted((body(r)["name"], st(r), body(r)["ref"]) for r in R)' \
	'[["stackhook/diaspora", "pending", "master"], ["stackhook/diaspora-dev/proposed", "pending", "master"]]'
mq_is "... target_url is the run page under public_url" \
	'sorted(body(r)["target_url"] for r in R)' \
	"$(python3 -c 'import json,sys; print(json.dumps(sorted(sys.argv[1:])))' "$BASE/runs/$R_TRACKED" "$BASE/runs/$R_PROPOSED")"
ctl GET tokens
TOKEN_ID=$(jv "[t['id'] for t in d if t['token'] == '$API_TOKEN'][0]" "$T/ctl.json")
mq_is "... both sent with PRIVATE-TOKEN = the integration's api_token (and no other credentials)" \
	'sorted(set((r["auth"]["scheme"], r["auth"].get("token_id"), "Authorization" in r["headers"]) for r in R))' \
	"[[\"private-token\", $TOKEN_ID, false]]"
mq_is "... over one keep-alive connection" 'len(set(r["connection"] for r in R))' 1
spool_is "... and the spool is empty" "tmp=0 new=0 deferred=0 failed=0"

report
reported "report again with nothing waiting: sent 0" "sent 0, coalesced 0, deferred 0, failed 0"

# The tracked run to its end, one report after each step.
move "$R_TRACKED" preparing
report
reported "preparing: sent 1" "sent 1, coalesced 0, deferred 0, failed 0"
move "$R_TRACKED" planning
report
reported "planning (a repeated running: GitLab's 400 counts as done): sent 1, deferred 0, failed 0" \
	"sent 1, coalesced 0, deferred 0, failed 0"
mq_is "... GitLab answered pending 201, running 201, running again 400" \
	'[(st(r), r["status"]) for r in statuses("stackhook/diaspora")]' \
	'[["pending", 201], ["running", 201], ["running", 400]]'
spool_is "... and nothing is kept for it" "tmp=0 new=0 deferred=0 failed=0"
PLAN='Terraform will perform the following actions:
  # aws_subnet.private will be created
Plan: 1 to add, 2 to change, 0 to destroy.'
PLAN_JSON=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$PLAN")
move "$R_TRACKED" unconfirmed "\"summary\":{\"add\":1,\"change\":2,\"destroy\":0},\"plan\":$PLAN_JSON"
check "unconfirmed with a summary (1, 2, 0): 200" status_is 200
report
reported "report: the status (running again: done) and the new deployment: sent 2" \
	"sent 2, coalesced 0, deferred 0, failed 0"
mq_is "... POST /projects/15/deployments: environment stackhook/diaspora, sha, ref master, tag false, running -> 201" \
	'[(body(r)["environment"], body(r)["sha"], body(r)["ref"], body(r)["tag"], body(r)["status"], r["status"]) for r in R if api(r) == "/projects/15/deployments" and r["method"] == "POST"]' \
	"[[\"stackhook/diaspora\", \"$SHA\", \"master\", false, \"running\", 201]]"
DEP_ID=$(mq '[d["id"] for d in S["deployments"]][0]')
moves "confirmed, applying: 200" "$R_TRACKED" confirmed applying
report
reported "report after confirmed and applying: their statuses coalesce into one" \
	"sent 1, coalesced 1, deferred 0, failed 0"
move "$R_TRACKED" finished
check "finished: 200" status_is 200
# (kept for section 5: the same update delivered twice)
sq new '[e for e in E if e["kind"] == "deployment"][-1]' >"$T/deployment-entry.json"
report
reported "report after finished: status and deployment, sent 2" "sent 2, coalesced 0, deferred 0, failed 0"
mq_is "stackhook/diaspora went pending -> running -> success (repeats collapsed)" \
	'squeeze([st(r) for r in statuses("stackhook/diaspora")])' '["pending", "running", "success"]'
mq_is "... the final status carries Plan: 1 to add, 2 to change, 0 to destroy and was accepted" \
	'[(body(r)["description"], r["status"]) for r in statuses("stackhook/diaspora")][-1]' \
	'["Plan: 1 to add, 2 to change, 0 to destroy", 201]'
mq_is "... GitLab holds one success job for it, not retried" \
	'[(s["status"], s["description"], s["retried"]) for s in S["statuses"] if s["name"] == "stackhook/diaspora"]' \
	'[["success", "Plan: 1 to add, 2 to change, 0 to destroy", false]]'
mq_is "the deployment was updated to success with PUT /projects/15/deployments/$DEP_ID" \
	'[(r["method"], api(r), body(r), r["status"]) for r in R if "/deployments" in r["path"] and r["method"] != "GET"][1:]' \
	"[[\"PUT\", \"/projects/15/deployments/$DEP_ID\", {\"status\": \"success\"}, 200]]"
mq_is "... GitLab has one deployment, success, in environment stackhook/diaspora" \
	'[(d["status"], [e["name"] for e in S["environments"] if e["id"] == d["environment_id"]]) for d in S["deployments"]]' \
	'[["success", ["stackhook/diaspora"]]]'

# A tracked run that changes nothing: statuses, no deployment.
SHA_NOCHANGE=$(printf '1%.0s' {1..40})
clear_requests
manual_run diaspora "$SHA_NOCHANGE"
check "a manual tracked run on another commit: 201" status_is 201
R_NOCHANGE=$RUN
moves "... preparing, planning, finished with a zero summary: 200" "$R_NOCHANGE" preparing planning \
	'finished|"summary":{"add":0,"change":0,"destroy":0}'
report
reported "report: its statuses coalesce into the final one" "sent 1, coalesced 3, deferred 0, failed 0"
mq_is "... one success status 'Plan: 0 to add, 0 to change, 0 to destroy', no deployment request" \
	'[(api(r), st(r), body(r).get("description")) for r in R]' \
	"[[\"/projects/15/statuses/$SHA_NOCHANGE\", \"success\", \"Plan: 0 to add, 0 to change, 0 to destroy\"]]"


# GitLab under a sub-path: the integration's api_host_url has a path.
SUB_SEED=$T/seed-sub.json
cat >"$SUB_SEED" <<EOF
{"projects": [{"id": 4861503, "path_with_namespace": "group1/group2/group3/grp2repo",
               "default_branch": "master"}]}
EOF
mock_start sub 0 --prefix /gitlab --seed "$SUB_SEED" --token "$SUB_TOKEN" ||
	{ show_log "$T/log/mock-sub.err"; bail "the mock GitLab under /gitlab did not start"; }
GL_SUB=http://127.0.0.1:$MOCK_PORT
GL_SUB_PORT=$MOCK_PORT
GL_SUB_PID=$MOCK_PID
api_json POST /api/v1/integrations \
	"{\"name\":\"GitLab Sub\",\"type\":\"space\",\"space\":\"root\",\"api_host_url\":\"$GL_SUB/gitlab\",\"api_token\":\"$SUB_TOKEN\"}"
check "integration GitLab Sub with api_host_url $GL_SUB/gitlab: 201" status_is 201
SUB_SECRET=$(jv 'd["webhook_secret"]')
api_json POST /api/v1/stacks \
	'{"id":"subgroup","name":"subgroup","integration":"gitlab-sub","namespace":"group1/group2/group3","repository":"grp2repo","branch":"master"}'
check "stack subgroup on it: 201" status_is 201
clear_requests
clear_requests "$GL_SUB"
hook gitlab-sub "$SUB_SECRET" "$FIX/push_subgroup.json" "Push Hook"
check "push_subgroup.json to gitlab-sub: 202" status_is 202
report
reported "report: sent 1" "sent 1, coalesced 0, deferred 0, failed 0"
mq_is "the mock under /gitlab got POST /gitlab/api/v4/projects/4861503/statuses/<sha> (pending, stackhook/subgroup) -> 201, with its own token" \
	'[(r["method"], r["path"], st(r), body(r)["name"], r["status"], r["auth"]["scheme"]) for r in R]' \
	'[["POST", "/gitlab/api/v4/projects/4861503/statuses/2adc9465c4edfc33834e173fe89436a7cb899a1d", "pending", "stackhook/subgroup", 201, "private-token"]]' \
	"$GL_SUB"
mq_is "... and the other mock nothing" 'len(R)' 0

# ================================================ 2. merge request notes ==

clear_requests
hook gitlab "$SECRET" "$FIX/merge_request_open.json" "Merge Request Hook"
check_eval "merge_request_open.json: 202, a proposed run for gitlab-test" \
	'status_is 202 && [ "$(jv "[(r[\"stack\"], r[\"kind\"]) for r in d[\"runs\"]]")" = "[[\"gitlab-test\", \"proposed\"]]" ]'
R_MR=$(run_of gitlab-test)
PLAN2='Terraform will perform the following actions:
/close
  # aws_instance.web will be created
/approve
Plan: 1 to add, 0 to change, 0 to destroy.'
PLAN2_JSON=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$PLAN2")
moves "... preparing, planning, finished (1, 0, 0) with a plan and a message holding /close and /approve lines" \
	"$R_MR" preparing planning \
	"finished|\"summary\":{\"add\":1,\"change\":0,\"destroy\":0},\"plan\":$PLAN2_JSON,\"message\":\"/close\\nsee the plan\""
report
reported "report: its final status and the note (intermediate statuses coalesced)" \
	"sent 2, coalesced 3, deferred 0, failed 0"
mq_is "one note created: POST /projects/1/merge_requests/1/notes -> 201, no PUT" \
	'[(r["method"], api(r), r["status"]) for r in R if "/notes" in r["path"] and r["method"] != "GET"]' \
	'[["POST", "/projects/1/merge_requests/1/notes", 201]]'
mq_is "... its body: the marker, the summary, the plan in <details>, the commit" \
	'[(b.startswith("<!-- stackhook:stack=gitlab-test -->"), "1 to add, 0 to change, 0 to destroy" in b, "<details>" in b and "</details>" in b, "aws_instance.web will be created" in b, "'"${SHA:0:8}"'" in b) for b in [body(r)["body"] for r in R if r["method"] == "POST" and r["path"].endswith("/notes")]]' \
	'[[true, true, true, true, true]]'
mq_is "... no line of it starts with / (the /close and /approve lines are escaped, kept as ' /close')" \
	'[([l for l in body(r)["body"].split("\n") if l.startswith("/")], body(r)["body"].split("\n").count(" /close"), body(r)["body"].split("\n").count(" /approve")) for r in R if r["method"] == "POST" and r["path"].endswith("/notes")]' \
	'[[[], 2, 1]]'
mq_is "... the mock ran no quick action: !1 is still open, GitLab stored one note" \
	'(S["quick_actions"], [m["state"] for p in S["projects"] if p["id"] == 1 for m in p["merge_requests"]], len([n for n in S["notes"] if n["project_id"] == 1]))' \
	'[[], ["opened"], 1]'
NOTE_ID=$(mq '[n["id"] for n in S["notes"] if n["project_id"] == 1][0]')

# A new commit on the same merge request: a second run, the same note.
SHA2=$(printf '2%.0s' {1..40})
variant "$FIX/merge_request_open.json" "$T/mr_update.json" \
	"d['object_attributes'].update(action='update', oldrev='$SHA'); d['object_attributes']['last_commit']['id'] = '$SHA2'"
clear_requests
hook gitlab "$SECRET" "$T/mr_update.json" "Merge Request Hook"
check "a merge request update with new commits ($SHA2): 202" status_is 202
R_MR2=$(run_of gitlab-test)
check_eval "... a new proposed run" '[ -n "$R_MR2" ] && [ "$R_MR2" != "$R_MR" ]'
moves "... to finished (2, 0, 0)" "$R_MR2" preparing planning \
	'finished|"summary":{"add":2,"change":0,"destroy":0},"plan":"2 to add"'
report
reported "report: sent 2" "sent 2, coalesced 3, deferred 0, failed 0"
mq_is "the note is edited in place: PUT /projects/1/merge_requests/1/notes/$NOTE_ID -> 200, no new note" \
	'[(r["method"], api(r), r["status"]) for r in R if "/notes" in r["path"] and r["method"] != "GET"]' \
	"[[\"PUT\", \"/projects/1/merge_requests/1/notes/$NOTE_ID\", 200]]"
mq_is "... GitLab still has one note on !1, now about ${SHA2:0:8} and 2 to add" \
	'[(n["id"], "'"${SHA2:0:8}"'" in n["body"], "2 to add" in n["body"]) for n in S["notes"] if n["project_id"] == 1]' \
	"[[$NOTE_ID, true, true]]"

# A run that knows no merge request (a push to a branch): GitLab is asked
# which are open for the commit.  !7 already has our note (a reporter that
# died before storing its id): found by its marker and edited.  !9 gets a
# new one; !8 is closed.
ctl POST projects/15/merge_requests/7/notes \
	'{"body":"<!-- stackhook:stack=diaspora-dev -->\nold text","author_id":1}' ||
	diag "cannot add a note to !7: $(cat "$T/ctl.json")"
OLD_NOTE=$(jv 'd["id"]' "$T/ctl.json")
clear_requests
moves "diaspora-dev's proposed run (no MR known) to finished" "$R_PROPOSED" preparing planning \
	'finished|"summary":{"add":0,"change":0,"destroy":0}'
report
reported "report: sent 2 (status, note)" "sent 2, coalesced 2, deferred 0, failed 0"
mq_is "the reporter asked GET /projects/15/repository/commits/<sha>/merge_requests" \
	'[r["status"] for r in R if r["method"] == "GET" and api(r) == "/projects/15/repository/commits/'"$SHA"'/merge_requests"]' \
	'[200]'
mq_is "... edited its marked note on !7, created one on !9, left closed !8 alone" \
	'sorted((r["method"], api(r), r["status"]) for r in R if "/notes" in r["path"] and r["method"] != "GET")' \
	"[[\"POST\", \"/projects/15/merge_requests/9/notes\", 201], [\"PUT\", \"/projects/15/merge_requests/7/notes/$OLD_NOTE\", 200]]"
mq_is "... GitLab holds one note on !7 and one on !9, none on !8" \
	'sorted(n["noteable_iid"] for n in S["notes"] if n["project_id"] == 15)' '[7, 9]'


# ============================== 3. summary, --dry-run, coalescing ========

SHA_DRY=$(sha 3)
manual_run diaspora "$SHA_DRY"
check "a manual run on $SHA_DRY: 201, its pending status in spool/new" status_is 201
R_DRY=$RUN
(cd "$SPOOL" && find . -type f ! -name lock -exec sha256sum {} + | sort) >"$T/spool.before"
clear_requests
report --dry-run
check_eval "report --dry-run: exit 0, prints the request it would send and a summary line" \
	'[ "$REPORT_RC" = 0 ] && [ -n "$SUMMARY" ] && grep -q "commit_status POST .*/projects/15/statuses/$SHA_DRY .*\"state\":\"pending\"" "$T/report.out"' ||
	diag "stdout: $(cat "$T/report.out")" "stderr: $(cat "$T/report.err")"
mq_is "... the mock received nothing" 'len(R)' 0
(cd "$SPOOL" && find . -type f ! -name lock -exec sha256sum {} + | sort) >"$T/spool.after"
check_eval "... the spool is unchanged (same files, same contents)" \
	'cmp -s "$T/spool.before" "$T/spool.after"' ||
	diag "$(diff "$T/spool.before" "$T/spool.after")"

# 1,000 more updates of that one status, written as the core writes them:
# one request, the newest.
template_from "$R_DRY" || fail "a commit_status entry of run $R_DRY in spool/new"
t0=$(date +%s%N)
write_entries 1000 'b = e["request"]["body"]; b["state"] = "running" if i < 999 else "success"; b["description"] = "update %d" % i' ||
	fail "1,000 spool entries written"
diag "1,000 spool files written in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check_eval "spool/new holds 1,001 files with one key" \
	'[ "$(sq new "(len(E), len(set(e[\"key\"] for e in E)))")" = "[1001, 1]" ]'
t0=$(date +%s%N)
report
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
reported "report: sent 1, coalesced 1000 (${ms} ms)" "sent 1, coalesced 1000, deferred 0, failed 0"
mq_is "... the mock got one request: the newest (success, 'update 999')" \
	'[(api(r), st(r), body(r)["description"], r["status"]) for r in R]' \
	"[[\"/projects/15/statuses/$SHA_DRY\", \"success\", \"update 999\", 201]]"
spool_is "... the spool is empty" "tmp=0 new=0 deferred=0 failed=0"

# ======================================================== 4. faults ======

# 409 and 500: deferred with attempts, next attempt and last error, then
# delivered.
SHA_409=$(sha 4) SHA_500=$(sha 5)
manual_run diaspora "$SHA_409"
R_409=$RUN
manual_run diaspora "$SHA_500"
R_500=$RUN
ctl POST faults "[{\"match\":\"POST .*/statuses/$SHA_409\",\"status\":409,\"body\":{\"message\":\"Another update to this commit status is in progress\"}},{\"match\":\"POST .*/statuses/$SHA_500\",\"status\":500}]" ||
	fail "faults queued" "$(cat "$T/ctl.json")"
clear_requests
report
reported "409 and 500: deferred 2" "sent 0, coalesced 0, deferred 2, failed 0"
mq_is "... the mock answered 409 and 500" 'sorted(r["status"] for r in R)' '[409, 500]'
spool_is "... both moved to spool/deferred" "tmp=0 new=0 deferred=2 failed=0"
check_eval "... each with attempts 1, next_attempt 1 s after the pass (retry_initial 1s, jitter within the second), last_error naming the answer" \
	'[ "$(sq deferred "sorted((e[\"run\"] == \"$R_409\", e[\"attempts\"], $REPORT_T0 + 1 <= e[\"next_attempt\"] <= $REPORT_T1 + 1, (\"409\" if e[\"run\"] == \"$R_409\" else \"500\") in (e[\"last_error\"] or \"\")) for e in E)")" = "[[false, 1, true, true], [true, 1, true, true]]" ]' ||
	diag "$(sq deferred '[(e["run"], e["attempts"], e["next_attempt"] - now, e["last_error"]) for e in E]')"
due
clear_requests
report
reported "once due: sent 2" "sent 2, coalesced 0, deferred 0, failed 0"
mq_is "... both statuses accepted (201)" 'sorted((api(r), r["status"]) for r in R)' \
	"[[\"/projects/15/statuses/$SHA_409\", 201], [\"/projects/15/statuses/$SHA_500\", 201]]"
spool_is "... the spool is empty" "tmp=0 new=0 deferred=0 failed=0"

# 429 with Retry-After: the integration's other entries wait too, untried;
# another integration's entry is sent.
SHA_D=$(sha 6) SHA_E=$(sha 7) SHA_F=$(sha 8) SHA_SUB=$(sha 9)
for s in "$SHA_D" "$SHA_E" "$SHA_F"; do manual_run diaspora "$s"; done
manual_run subgroup "$SHA_SUB"
ctl POST faults "{\"match\":\"POST .*/statuses/($SHA_D|$SHA_E|$SHA_F)\",\"status\":429,\"headers\":{\"Retry-After\":\"3\"},\"count\":1}" ||
	fail "fault queued" "$(cat "$T/ctl.json")"
clear_requests
clear_requests "$GL_SUB"
report
reported "429 (Retry-After: 3): the 3 entries of that integration deferred, the other integration's sent" \
	"sent 1, coalesced 0, deferred 3, failed 0"
mq_is "... one request reached the throttled GitLab (429), the others were not tried" \
	'[r["status"] for r in R]' '[429]'
mq_is "... the other GitLab got its status" '[r["status"] for r in R]' '[201]' "$GL_SUB"
check_eval "... attempts 1 for the tried one, 0 for the two untried; all wait Retry-After (3 s from the pass)" \
	'[ "$(sq deferred "sorted((e[\"attempts\"], $REPORT_T0 + 3 <= e[\"next_attempt\"] <= $REPORT_T1 + 3) for e in E)")" = "[[0, true], [0, true], [1, true]]" ]' ||
	diag "$(sq deferred '[(e["run"], e["attempts"], e["next_attempt"] - now, e["last_error"]) for e in E]')"
check_eval "... last_error: the 429 for the tried one" \
	'[ "$(sq deferred "sorted(\"429\" in (e[\"last_error\"] or \"\") for e in E)")" = "[false, false, true]" ]' ||
	diag "$(sq deferred '[e["last_error"] for e in E]')"
T429=$REPORT_T0
if [ $(( $(date +%s) - T429 )) -lt 2 ]; then
	clear_requests
	report
	reported "report at once: nothing is due yet, nothing sent" "sent 0, coalesced 0, deferred 0, failed 0"
	mq_is "... the mock received nothing" 'len(R)' 0
else
	skip "report at once: nothing is due yet, nothing sent" "this machine took 2 s to get here"
	skip "... the mock received nothing" "this machine took 2 s to get here"
fi

# 7. while they wait: /healthz, /metrics and the integration's health.
http GET "$BASE/healthz"
check_eval "/healthz shows the spool counts (3 entries in deferred)" \
	'status_is 200 && [ "$(jv "[d[\"spool\"][k] for k in (\"tmp\", \"new\", \"deferred\", \"failed\")]")" = "[0, 0, 3, 0]" ]'
http GET "$BASE/metrics"
check_eval "/metrics: stackhook_spool_entries{dir=\"deferred\"} 3, new 0, the oldest waiting > 0 s" \
	'status_is 200 && body_has "^stackhook_spool_entries\{dir=\"deferred\"\} 3$" && body_has "^stackhook_spool_entries\{dir=\"new\"\} 0$" && body_has "^stackhook_spool_oldest_seconds [1-9]"'
check_eval "... stackhook_reports_total{result=\"sent\"} $SUM_SENT and {result=\"deferred\"} $SUM_DEFERRED: every summary line so far" \
	'body_has "^stackhook_reports_total\{result=\"sent\"\} $SUM_SENT$" && body_has "^stackhook_reports_total\{result=\"deferred\"\} $SUM_DEFERRED$" && body_has "^stackhook_reports_total\{result=\"coalesced\"\} $SUM_COALESCED$"' ||
	diag "$(grep '^stackhook_reports_total' "$T/http.body")"
api GET /api/v1/integrations/gitlab/health
check_eval "the integration's health: 3 reports waiting, all deferred" \
	'status_is 200 && [ "$(jv "[d[\"reports\"][k] for k in (\"waiting\", \"deferred\", \"failed\")]")" = "[3, 3, 0]" ]'
due
clear_requests
report
reported "once due: the 3 are sent" "sent 3, coalesced 0, deferred 0, failed 0"
mq_is "... 201 each" 'sorted(r["status"] for r in R)' '[201, 201, 201]'

# 401: the token was revoked -- deferred, shown in the health; a new token
# through PATCH, then delivered.
ctl POST tokens/revoke "{\"token\":\"$API_TOKEN\"}" || fail "token revoked in the mock"
SHA_401=$(sha a)
manual_run diaspora "$SHA_401"
clear_requests
report
reported "revoked token (401): deferred 1" "sent 0, coalesced 0, deferred 1, failed 0"
mq_is "... the mock answered 401" '[r["status"] for r in R]' '[401]'
check_eval "... the entry waits in deferred with last_error naming the 401" \
	'[ "$(sq deferred "[(e[\"attempts\"], \"401\" in (e[\"last_error\"] or \"\")) for e in E]")" = "[[1, true]]" ]' ||
	diag "$(sq deferred '[e["last_error"] for e in E]')"
api GET /api/v1/integrations/gitlab/health
check_eval "GET /api/v1/integrations/gitlab/health: reporter_errors.credentials with a count and a message" \
	'status_is 200 && [ "$(jv "(d[\"reporter_errors\"][\"credentials\"] or {}).get(\"count\", 0) >= 1 and \"401\" in d[\"reporter_errors\"][\"credentials\"][\"last_message\"]")" = true ]'
check_eval "... which never shows the token" '! grep -qF -- "$API_TOKEN" "$T/http.body"'
ctl POST tokens "{\"token\":\"$NEW_TOKEN\"}" || fail "new token added to the mock"
NEW_TOKEN_ID=$(jv 'd["id"]' "$T/ctl.json")
api_json PATCH /api/v1/integrations/gitlab "{\"api_token\":\"$NEW_TOKEN\"}"
check "PATCH the integration's api_token: 200" status_is 200
due
clear_requests
report
reported "once due: sent 1" "sent 1, coalesced 0, deferred 0, failed 0"
mq_is "... with the new token, accepted" '[(r["status"], r["auth"].get("token_id")) for r in R]' \
	"[[201, $NEW_TOKEN_ID]]"

# Other 4xx: a project GitLab does not know (404) -> failed/ with the reason.
SHA_404=$(sha b)
manual_run nowhere "$SHA_404"
R_404=$RUN
clear_requests
report
reported "unknown project (404): failed 1" "sent 0, coalesced 0, deferred 0, failed 1"
mq_is "... the request named the project by its encoded path, and got 404" \
	'[(r["path"], r["status"]) for r in R]' \
	"[[\"/api/v4/projects/nobody%2Fnothing/statuses/$SHA_404\", 404]]"
check_eval "... the entry is in spool/failed with failed_reason naming the 404" \
	'[ "$(sq failed "[(e[\"run\"] == \"$R_404\", \"404\" in e.get(\"failed_reason\", \"\")) for e in E]")" = "[[true, true]]" ]' ||
	diag "$(sq failed '[(e["run"], e.get("failed_reason")) for e in E]')"
spool_is "... nothing else waits" "tmp=0 new=0 deferred=0 failed=1"
api GET /api/v1/integrations/gitlab/health
check_eval "... the integration's health: reporter_errors.rejected, 1 failed report" \
	'status_is 200 && [ "$(jv "((d[\"reporter_errors\"][\"rejected\"] or {}).get(\"count\", 0) >= 1, d[\"reports\"][\"failed\"])")" = "[true, 1]" ]'

# A deleted integration: its entries fail, nothing is sent.
api_json POST /api/v1/integrations \
	"{\"name\":\"Doomed\",\"type\":\"space\",\"space\":\"root\",\"api_host_url\":\"$GL\",\"api_token\":\"$NEW_TOKEN\"}"
check "integration Doomed: 201" status_is 201
api_json POST /api/v1/stacks \
	'{"id":"doomed","name":"doomed","integration":"doomed","namespace":"mike","repository":"diaspora","branch":"master"}'
check "stack doomed on it: 201" status_is 201
SHA_DOOMED=$(sha c)
manual_run doomed "$SHA_DOOMED"
R_DOOMED=$RUN
api DELETE /api/v1/integrations/doomed
check "DELETE /api/v1/integrations/doomed: 204" status_is 204
clear_requests
report
reported "the integration is gone: failed 1" "sent 0, coalesced 0, deferred 0, failed 1"
mq_is "... the mock received nothing" 'len(R)' 0
check_eval "... failed_reason says the integration no longer exists" \
	'[ "$(sq failed "[e.get(\"failed_reason\") for e in E if e[\"run\"] == \"$R_DOOMED\"]")" = "[\"the integration no longer exists\"]" ]' ||
	diag "$(sq failed '[(e["run"], e.get("failed_reason")) for e in E]')"

# An entry older than report_max_age (3 days): failed, not sent.
SHA_OLD=$(sha d)
manual_run diaspora "$SHA_OLD"
R_OLD=$RUN
template_from "$R_OLD" || fail "a commit_status entry of run $R_OLD in spool/new"
as_run_user find "$SPOOL/new" -type f -delete
write_entries 1 'e["created"] -= 4 * 86400' || fail "an old entry written"
clear_requests
report
reported "an entry 4 days old: failed 1" "sent 0, coalesced 0, deferred 0, failed 1"
mq_is "... the mock received nothing" 'len(R)' 0
check_eval "... failed_reason names report_max_age" \
	'[ "$(sq failed "[\"report_max_age\" in e.get(\"failed_reason\", \"\") for e in E if e[\"run\"] == \"$R_OLD\"]")" = "[true]" ]' ||
	diag "$(sq failed '[(e["run"], e.get("failed_reason")) for e in E]')"

# GitLab down: deferred, delivered once it is back.
stop_pid "$GL_SUB_PID" TERM 5
SHA_DOWN=$(sha e)
manual_run subgroup "$SHA_DOWN"
report
reported "GitLab (under /gitlab) stopped: deferred 1" "sent 0, coalesced 0, deferred 1, failed 0"
check_eval "... last_error says it could not connect" \
	'[ "$(sq deferred "[(e[\"attempts\"], \"onnect\" in (e[\"last_error\"] or \"\")) for e in E]")" = "[[1, true]]" ]' ||
	diag "$(sq deferred '[e["last_error"] for e in E]')"
api GET /api/v1/integrations/gitlab-sub/health
check_eval "... the integration's health: reporter_errors.unreachable" \
	'status_is 200 && [ "$(jv "(d[\"reporter_errors\"][\"unreachable\"] or {}).get(\"count\", 0) >= 1")" = true ]'
mock_start sub2 "$GL_SUB_PORT" --prefix /gitlab --seed "$SUB_SEED" --token "$SUB_TOKEN" ||
	{ show_log "$T/log/mock-sub2.err"; bail "the mock GitLab under /gitlab did not come back"; }
GL_SUB_PID=$MOCK_PID
due
report
reported "GitLab back, entry due: sent 1" "sent 1, coalesced 0, deferred 0, failed 0"
mq_is "... it got the status (201)" '[(api(r), r["status"]) for r in R]' \
	"[[\"/projects/4861503/statuses/$SHA_DOWN\", 201]]" "$GL_SUB"

# ====================================== 5. concurrency and crashes =======

# Two reporters at once: the second exits 0 at once, nothing is sent twice.
SHA_K=$(sha f1) SHA_L=$(sha f2)
manual_run diaspora "$SHA_K"
manual_run diaspora "$SHA_L"
ctl POST faults "{\"match\":\"POST .*/statuses/($SHA_K|$SHA_L)\",\"action\":\"pass\",\"delay\":2,\"count\":1}" ||
	fail "delay fault queued" "$(cat "$T/ctl.json")"
clear_requests
"$SH_CLI" -c "$CONF" report >"$T/r1.out" 2>"$T/r1.err" &
P1=$!
track_pid "$P1"
if wait_for lock_held 5; then
	t0=$(date +%s%N)
	report
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	check_eval "a second reporter while the first holds the lock: exit 0 at once (${ms} ms), silent" \
		'[ "$REPORT_RC" = 0 ] && [ "$ms" -lt 1000 ] && [ ! -s "$T/report.out" ]' ||
		diag "stdout: $(cat "$T/report.out")" "stderr: $(cat "$T/report.err")"
	check_eval "... the first one was still at work" 'kill -0 "$P1" 2>/dev/null'
else
	fail "the first reporter took the spool lock" "$(cat "$T/r1.err")"
fi
wait "$P1"
rc1=$?
SUMMARY=$(grep -E '^sent [0-9]+, ' "$T/r1.out" | tail -n 1)
add_summary "$SUMMARY"
check_eval "the first reporter: exit 0, sent 2" \
	'[ "$rc1" = 0 ] && [ "$SUMMARY" = "sent 2, coalesced 0, deferred 0, failed 0" ]' ||
	diag "rc $rc1" "stdout: $(cat "$T/r1.out")" "stderr: $(cat "$T/r1.err")"
mq_is "... each status reached GitLab exactly once" 'sorted((api(r), r["status"]) for r in R)' \
	"[[\"/projects/15/statuses/$SHA_K\", 201], [\"/projects/15/statuses/$SHA_L\", 201]]"

# kill -9 mid-flush, held inside a request: the next run sends the rest.
# At least once: a duplicate is allowed only for the request in flight.
SHA_M=$(sha f3) SHA_N=$(sha f4) SHA_O=$(sha f5)
for s in "$SHA_M" "$SHA_N" "$SHA_O"; do manual_run diaspora "$s"; done
ctl POST faults "{\"match\":\"POST .*/statuses/$SHA_N\",\"action\":\"pass\",\"delay\":2,\"count\":1}" ||
	fail "delay fault queued" "$(cat "$T/ctl.json")"
FAULT_N=$(jv "d['id']" "$T/ctl.json")
clear_requests
"$SH_CLI" -c "$CONF" report >"$T/r2.out" 2>"$T/r2.err" &
P2=$!
track_pid "$P2"
if wait_for '[ "$(requests_for "$GL" "$SHA_M")" -ge 1 ]' 5; then
	# On into the delayed request for $SHA_N.
	wait_for "fault_taken '$FAULT_N'" 5
	check_eval "the reporter is held in the request for $SHA_N after sending $SHA_M" \
		'kill -0 "$P2" 2>/dev/null && [ "$(requests_for "$GL" "$SHA_N")" = 0 ] && [ "$(requests_for "$GL" "$SHA_O")" = 0 ]'
	kill -KILL "$P2"
	wait "$P2" 2>/dev/null
	check_eval "... kill -9: it printed nothing; the unconfirmed entries ($SHA_N, $SHA_O) are still in new/" \
		'[ ! -s "$T/r2.out" ] && [ "$(sq new "sorted(set(e[\"request\"][\"path\"][-40:][:2] for e in E) & {\"f4\", \"f5\"})")" = "[\"f4\", \"f5\"]" ] && [ "$(spool_count tmp)" = 0 ]' ||
		diag "$(spool_state)" "$(cat "$T/r2.out")"
else
	fail "the reporter sent the first status" "$(cat "$T/r2.err")"
	stop_pid "$P2" KILL 2
fi
wait_for '[ "$(requests_for "$GL" "$SHA_N")" -ge 1 ]' 5 # the mock finishes the held one
KEPT=$(sq new 'len(E)')
report
reported "the next run sends what the killed one left ($KEPT entries)" "sent $KEPT, coalesced 0, deferred 0, failed 0"
spool_is "... nothing waits (failed/ keeps its 3)" "tmp=0 new=0 deferred=0 failed=3"
mq_is "... every status arrived; only the one in flight ($SHA_N) may have come twice" \
	'[len([r for r in R if s in r["path"]]) for s in ("'"$SHA_M"'", "'"$SHA_O"'")] + [min(2, len([r for r in R if "'"$SHA_N"'" in r["path"]]))]' \
	'[1, 1, 2]'
mq_is "... GitLab holds one pending status for each" \
	'sorted(s["sha"][:2] for s in S["statuses"] if s["sha"] in ("'"$SHA_M"'", "'"$SHA_N"'", "'"$SHA_O"'") and s["status"] == "pending")' \
	'["f3", "f4", "f5"]'

# tmp/ leftovers: an old committed file (its run exists) is recovered and
# sent, an old one whose run does not exist is removed, a young one is
# left to its writer.
SHA_P=$(sha f6)
manual_run diaspora "$SHA_P"
R_P=$RUN
template_from "$R_P" || fail "a commit_status entry of run $R_P in spool/new"
F=$(ls "$SPOOL/new")
mv "$SPOOL/new/$F" "$SPOOL/tmp/$F"
python3 -c '
import json, sys
e = json.load(open(sys.argv[1])); e["run"] = "nosuchrun0000000"; e["id"] = "f" * 32
print(json.dumps(e))' "$T/template.json" >"$T/orphan.jsonl"
as_run_user sh -c 'cat >"$1"' - "$SPOOL/tmp/orphan.jsonl" <"$T/orphan.jsonl"
as_run_user sh -c 'cat >"$1"' - "$SPOOL/tmp/young.jsonl" <"$SPOOL/tmp/$F"
touch -d '10 minutes ago' "$SPOOL/tmp/$F" "$SPOOL/tmp/orphan.jsonl"
clear_requests
report
reported "report with 3 files in tmp/: the old committed one is sent" "sent 1, coalesced 0, deferred 0, failed 0"
mq_is "... its pending status reached GitLab" '[(api(r), st(r), r["status"]) for r in R]' \
	"[[\"/projects/15/statuses/$SHA_P\", \"pending\", 201]]"
check_eval "... the orphan (no such run) is removed, the young file is left alone" \
	'[ "$(ls "$SPOOL/tmp")" = young.jsonl ] && [ "$(spool_count new)" = 0 ]' ||
	diag "tmp: $(ls "$SPOOL/tmp" | tr '\n' ' ')" "new: $(ls "$SPOOL/new" | tr '\n' ' ')"
rm -f "$SPOOL/tmp/young.jsonl"

# At least once means an update may reach GitLab twice (the one in flight
# when a reporter dies).  For a deployment GitLab already moved to that
# status the second one is refused with a 400: it is done, not failed.
cp "$T/deployment-entry.json" "$T/template.json"
write_entries 1 '' || fail "a deployment entry written"
clear_requests
report
reported "a deployment update GitLab already has (success again): done, not failed" \
	"sent 1, coalesced 0, deferred 0, failed 0"
mq_is "... PUT /projects/15/deployments/$DEP_ID {success}: GitLab refused the repeat with 400, and the reporter read the deployment to see it has that status" \
	'[(r["method"], api(r), body(r), r["status"]) for r in R]' \
	"[[\"PUT\", \"/projects/15/deployments/$DEP_ID\", {\"status\": \"success\"}, 400], [\"GET\", \"/projects/15/deployments/$DEP_ID\", {}, 200]]"
mq_is "... GitLab's deployment is still success" '[d["status"] for d in S["deployments"]]' '["success"]'

# ================================================= 6. report --for =======

SHA_Q=$(sha f7)
variant "$FIX/push.json" "$T/push_for.json" "d['after'] = d['checkout_sha'] = '$SHA_Q'"
clear_requests
t0=$(date +%s%N)
"$SH_CLI" -c "$CONF" report --for 5 >"$T/for.out" 2>"$T/for.err" &
PF=$!
track_pid "$PF"
# What is tested: a push while report --for already waits (1 s into it).
sleep 1
hook gitlab "$SECRET" "$T/push_for.json" "Push Hook"
t1=$(date +%s%N)
check "report --for 5 running, a push 1 s later: 202" status_is 202
if wait_for '[ "$(requests_for "$GL" "$SHA_Q")" -ge 2 ]' 3; then
	ms=$(( ($(date +%s%N) - t1) / 1000000 ))
	check_eval "... both pending statuses reached the mock ${ms} ms after the 202 (<= 1500)" '[ "$ms" -le 1500 ]'
else
	fail "... both pending statuses reached the mock within 3 s" "$(requests_for "$GL" "$SHA_Q") arrived"
fi
if wait_gone "$PF" 8; then
	wait "$PF"
	rcf=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	SUMMARY=$(grep -E '^sent [0-9]+, ' "$T/for.out" | tail -n 1)
	add_summary "$SUMMARY"
	check_eval "... it exits 0 after its time (${ms} ms, 4-7 s) with one summary line: sent 2" \
		'[ "$rcf" = 0 ] && [ "$ms" -ge 4000 ] && [ "$ms" -le 7000 ] && [ "$SUMMARY" = "sent 2, coalesced 0, deferred 0, failed 0" ] && [ "$(wc -l <"$T/for.out")" = 1 ]' ||
		diag "stdout: $(cat "$T/for.out")" "stderr: $(tail -n 5 "$T/for.err")"
else
	fail "... report --for 5 ended within 8 s"
	stop_pid "$PF" TERM 2
fi
cat "$T/for.err" "$T/r1.err" "$T/r2.err" >>"$T/log/report.err" 2>/dev/null
mq_is "... statuses for the tracked and the proposed run, pending, once each" \
	'sorted((body(r)["name"], st(r), r["status"]) for r in R)' \
	'[["stackhook/diaspora", "pending", 201], ["stackhook/diaspora-dev/proposed", "pending", 201]]'

# ================================================ 7. metrics, healthz =====

FAILED_N=$(sq failed 'len(E)')
http GET "$BASE/metrics"
check_eval "/metrics: stackhook_reports_total by result equals the sum of every summary line (sent $SUM_SENT, coalesced $SUM_COALESCED, deferred $SUM_DEFERRED, failed $SUM_FAILED)" \
	'status_is 200 &&
	 body_has "^stackhook_reports_total\{result=\"sent\"\} $SUM_SENT$" &&
	 body_has "^stackhook_reports_total\{result=\"coalesced\"\} $SUM_COALESCED$" &&
	 body_has "^stackhook_reports_total\{result=\"deferred\"\} $SUM_DEFERRED$" &&
	 body_has "^stackhook_reports_total\{result=\"failed\"\} $SUM_FAILED$"' ||
	diag "$(grep '^stackhook_reports_total' "$T/http.body")"
check_eval "... spool depth: stackhook_spool_entries 0 in tmp, new, deferred; $FAILED_N in failed (the entries there)" \
	'body_has "^stackhook_spool_entries\{dir=\"tmp\"\} 0$" && body_has "^stackhook_spool_entries\{dir=\"new\"\} 0$" &&
	 body_has "^stackhook_spool_entries\{dir=\"deferred\"\} 0$" && body_has "^stackhook_spool_entries\{dir=\"failed\"\} $FAILED_N$"' ||
	diag "$(grep '^stackhook_spool' "$T/http.body")"
http GET "$BASE/healthz"
check_eval "/healthz: ok, spool {tmp 0, new 0, deferred 0, failed $FAILED_N}" \
	'status_is 200 && json_str status ok && [ "$(jv "[d[\"spool\"][k] for k in (\"tmp\", \"new\", \"deferred\", \"failed\")]")" = "[0, 0, 0, $FAILED_N]" ]'

check_eval "no GitLab token in the spool, the reporter's or the responder's log, or nginx's logs" \
	'! grep -rqF -e "$API_TOKEN" -e "$NEW_TOKEN" -e "$SUB_TOKEN" "$SPOOL" "$T/log/report.err" "$T/log/responder.err" "$N/access.log" "$N/error.log"'

if [ "$T_FAILED" != 0 ]; then
	show_log "$T/log/report.err"
	show_log "$T/log/responder.err"
	show_log "$T/log/mock-main.err"
fi
done_testing
