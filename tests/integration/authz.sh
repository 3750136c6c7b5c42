#!/bin/bash
# The authorization matrix of the admin API (SPEC §3, §4.2; issue 7), through
# real nginx (the repository's nginx/stackhook.conf) and a spawn-fcgi'd
# responder: every row of tests/integration/authz.tsv -- every admin route x
# role (no key, read, write, admin of the object's space, admin of its
# parent, root admin, admin of a sibling space that does not inherit, a
# stranger without grants) -- must get its status; a refused request
# changes nothing stored; lists hide what the role may not see.
#
# Then no secret leaks: the webhook secrets (every one ever made or
# rotated), the API tokens and the signing token sent, and every user's API
# key are grepped for, by value, in every answer a non-admin got, in every
# error answer, in every answer at all for the write-only and hashed ones,
# and in the responder's log and nginx's error and access logs.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 sqlite3

TSV=$top_srcdir/tests/integration/authz.tsv
[ -f "$TSV" ] || bail "$TSV is missing"

web_instance

serve_responders 1
PID_BEFORE=$(cat "$PIDFILE")

# ------------------------------------------------------------ fixtures ----

# fixture DESC STATUS METHOD PATH [BODY]: a setup request (as root) that must work.
fixture() {
	local desc=$1 want=$2 method=$3 path=$4 args=()
	[ $# -ge 5 ] && args=(-H 'Content-Type: application/json' --data-binary "$5")
	http "$method" "$BASE$path" -H "Authorization: Bearer $ADMIN_KEY" "${args[@]}"
	status_is "$want" || { last_diag; bail "setup: $desc: expected $want"; }
}

CHILD_TOKEN=glpat-AUTHZ-child-Qx4mN8vB2kL6
DEFAULT_TOKEN=glpat-AUTHZ-default-Hj3Wd9Ty5Ru1
CREATE_TOKEN=glpat-AUTHZ-create-Zp7Lc2Vn8Ks4
PATCH_TOKEN=glpat-AUTHZ-patch-Mb6Xe1Gq9Fw3
VICTIM_TOKEN=glpat-AUTHZ-victim-Ty8Ui2Op4As6
SIGNING_TOKEN=whsec_$(python3 -c 'import base64; print(base64.b64encode(bytes(range(101, 133))).decode())')

fixture ParentSpace 201 POST /api/v1/spaces '{"name":"ParentSpace"}'
fixture ChildSpace 201 POST /api/v1/spaces '{"name":"ChildSpace","parent":"parentspace","inherit":true}'
fixture SiblingSpace 201 POST /api/v1/spaces '{"name":"SiblingSpace","parent":"parentspace","inherit":false}'
fixture ChildInt 201 POST /api/v1/integrations \
	"{\"name\":\"ChildInt\",\"space\":\"childspace\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$CHILD_TOKEN\"}"
SECRET_CHILD=$(jv 'd["webhook_secret"]')
fixture GitLab.com 201 POST /api/v1/integrations \
	"{\"name\":\"GitLab.com\",\"type\":\"default\",\"api_host_url\":\"https://gitlab.com\",\"api_token\":\"$DEFAULT_TOKEN\",\"signing_token\":\"$SIGNING_TOKEN\"}"
SECRET_DEFAULT=$(jv 'd["webhook_secret"]')
fixture VPC 201 POST /api/v1/stacks \
	'{"name":"VPC","space":"childspace","integration":"childint","namespace":"group-1","repository":"project-a","branch":"main"}'

# The roles, granted in childspace (the object's space), parentspace and
# siblingspace; each user gets a key.
declare -A USER_OF=([read]=rhea [write]=will [admin]=ada [parent-admin]=pam [sibling]=sib [stranger]=stan)
fixture "rhea reads childspace" 200 PUT /api/v1/spaces/childspace/members/rhea '{"role":"read"}'
fixture "will writes childspace" 200 PUT /api/v1/spaces/childspace/members/will '{"role":"write"}'
fixture "ada administers childspace" 200 PUT /api/v1/spaces/childspace/members/ada '{"role":"admin"}'
fixture "pam administers parentspace" 200 PUT /api/v1/spaces/parentspace/members/pam '{"role":"admin"}'
fixture "sib administers siblingspace" 200 PUT /api/v1/spaces/siblingspace/members/sib '{"role":"admin"}'
: >"$T/keys"
echo "root $ADMIN_KEY" >>"$T/keys"
for role in "${!USER_OF[@]}"; do
	k=$(new_key "${USER_OF[$role]}")
	[[ $k =~ ^[A-Za-z0-9_-]{20,}$ ]] || bail "no key for ${USER_OF[$role]}"
	echo "$role $k" >>"$T/keys"
done

# A delivery to ChildInt (a run of VPC), so that deliveries and runs have rows.
http POST "$BASE/webhooks/gitlab/childint" -H "X-Gitlab-Token: $SECRET_CHILD" \
	-H 'X-Gitlab-Event: Push Hook' -H 'Content-Type: application/json' --data-binary \
	'{"object_kind":"push","ref":"refs/heads/main","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","project":{"id":15,"path_with_namespace":"group-1/project-a"},"commits":[],"total_commits_count":0}'
status_is 202 || { last_diag; bail "setup: the push to VPC was not accepted"; }
RUN0=$(jv 'd["runs"][0]["id"]')
HTTP_CMD=
pass "fixtures: spaces parentspace > childspace, siblingspace; ChildInt, the default GitLab.com; VPC and its run $RUN0; $(wc -l <"$T/keys") keys"

# ---------------------------------------------------------- the matrix ----

cat >"$T/ctx.json" <<EOF
{"base": "$BASE", "db": "$DB", "run_user": "$RUN_USER", "run0": "$RUN0",
 "tokens": {"child": "$CHILD_TOKEN", "default": "$DEFAULT_TOKEN", "create_token": "$CREATE_TOKEN",
            "patch_token": "$PATCH_TOKEN", "victim": "$VICTIM_TOKEN", "signing_token": "$SIGNING_TOKEN"},
 "webhook_secrets": ["$SECRET_CHILD", "$SECRET_DEFAULT"]}
EOF

cat >"$T/authz.py" <<'PY'
import json, os, re, subprocess, sys, urllib.error, urllib.request

ctx = json.load(open(sys.argv[1]))
tsv, results_path, answers_dir, secrets_path = sys.argv[2:6]
BASE = ctx["base"]
KEYS = dict(l.split() for l in open(sys.argv[6]))
KEYS["none"] = None
TOK = ctx["tokens"]
webhook_secrets = set(ctx["webhook_secrets"])
NON_ADMIN = {"none", "read", "write", "sibling", "stranger"}

def call(method, path, key, body=None):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=body.encode() if body is not None else None)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            status, headers, data = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, headers, data = e.code, dict(e.headers), e.read()
    # Every webhook secret an answer shows joins the secrets to look for.
    for m in re.finditer(rb'"webhook_secret"\s*:\s*"([^"]+)"', data):
        webhook_secrets.add(m.group(1).decode())
    return status, headers, data

def root(method, path, body=None, ok=(200, 201, 204)):
    st, _, data = call(method, path, KEYS["root"], body)
    if st not in ok:
        raise RuntimeError("prep %s %s: %d %s" % (method, path, st, data[:200]))
    return st, data

def exists(path):
    return call("GET", path, KEYS["root"])[0] == 200

def prep(name):
    """Makes what the row needs; returns the {run} it made, or None."""
    if name == "victim-space":
        if not exists("/api/v1/spaces/victim"):
            root("POST", "/api/v1/spaces", '{"name":"Victim","id":"victim","parent":"parentspace"}')
        for user, role in (("rhea", "read"), ("will", "write"), ("ada", "admin")):
            root("PUT", "/api/v1/spaces/victim/members/" + user, '{"role":"%s"}' % role)
    elif name == "victim-integration":
        if not exists("/api/v1/integrations/victim-int"):
            root("POST", "/api/v1/integrations", json.dumps(
                {"name": "Victim Int", "space": "childspace", "api_host_url": "https://gitlab.example.com",
                 "api_token": TOK["victim"]}))
    elif name == "victim-stack":
        if not exists("/api/v1/stacks/victim-stack"):
            root("POST", "/api/v1/stacks", json.dumps(
                {"name": "Victim Stack", "id": "victim-stack", "space": "childspace",
                 "namespace": "group-7", "repository": "victim", "branch": "main"}))
    elif name == "guest-grant":
        root("PUT", "/api/v1/spaces/childspace/members/guest", '{"role":"read"}')
    elif name == "fresh-run":
        _, data = root("POST", "/api/v1/stacks/vpc/runs", "{}")
        return json.loads(data)["id"]
    elif name != "-":
        raise RuntimeError("unknown prep " + name)
    return None

def stored():
    """Every table's rows (counters and api_keys.last_used_at left out)."""
    def q(sql):
        cmd = ["sqlite3", ctx["db"], sql]
        if ctx["run_user"] and os.getuid() == 0:
            cmd = ["runuser", "-u", ctx["run_user"], "--"] + cmd
        return subprocess.run(cmd, capture_output=True, check=True).stdout
    tables = q("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
               "AND name <> 'counters' ORDER BY name").decode().split()
    sql = ";".join("SELECT '%s', %s FROM %s ORDER BY rowid" % (
        t, "id, user_id, hash, prefix, created_at, revoked_at" if t == "api_keys" else "*", t)
        for t in tables)
    return q(sql)

def fill(s, role, run):
    return (s.replace("{role}", role).replace("{run0}", ctx["run0"]).replace("{run}", run or "")
             .replace("{create_token}", TOK["create_token"]).replace("{patch_token}", TOK["patch_token"])
             .replace("{signing_token}", TOK["signing_token"]))

os.makedirs(answers_dir, exist_ok=True)
out = open(results_path, "w")
dump = stored()
out.write("%s\tthe stored state compared around each refused request: %d tables, %d bytes\t%s\n" % (
    "PASS" if dump.count(b"|") > 100 and b"childint" in dump else "FAIL",
    len(set(l.split(b"|")[0] for l in dump.splitlines())), len(dump), repr(dump[:200])))
rows = 0
for line in open(tsv, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    route, method, path, body, prepname, cleanup, role, status, hidden = line.rstrip("\n").split("\t")
    rows += 1
    run = prep(prepname)
    path, body = fill(path, role, run), None if body == "-" else fill(body, role, run)
    before = stored() if not status.startswith("2") else None
    st, headers, data = call(method, path, KEYS[role], body)
    why = []
    if st != int(status):
        why.append("status %d, expected %s" % (st, status))
    if st >= 400:
        try:
            json.loads(data)["error"]["code"]
        except Exception:
            why.append("not a JSON error")
        if st == 401 and "Bearer" not in headers.get("WWW-Authenticate", ""):
            why.append("401 without WWW-Authenticate: Bearer")
    if before is not None and stored() != before:
        why.append("a refused request changed what is stored")
    for h in ([] if hidden == "-" else hidden.split(",")):
        if h.encode() in data:
            why.append("the answer holds %s" % h)
    if st // 100 == 2 and cleanup != "-":
        root("DELETE", fill(cleanup, role, run), ok=(204, 404))
    with open(os.path.join(answers_dir, role), "ab") as f:
        f.write(b"%s %s -> %d\n" % (method.encode(), path.encode(), st) + data + b"\n")
    if st >= 400:
        with open(os.path.join(answers_dir, "errors"), "ab") as f:
            f.write(data + b"\n")
    desc = "%-22s %-13s %s %s -> %s" % (route, role, method, path, status)
    out.write("%s\t%s\t%s\n" % ("FAIL" if why else "PASS", desc,
                                "; ".join(why) + (" | answer: %r" % data[:300] if why else "")))
out.close()
# The secrets authz.sh greps for, one a line: "kind value".
with open(secrets_path, "w") as f:
    for s in sorted(webhook_secrets):
        f.write("webhook_secret %s\n" % s)
    for k, v in TOK.items():
        f.write("token %s\n" % v)
    for r, k in KEYS.items():
        if k:
            f.write("api_key %s\n" % k)
PY

python3 "$T/authz.py" "$T/ctx.json" "$TSV" "$T/results" "$T/answers" "$T/secrets" "$T/keys" \
	2>"$T/authz.err" || { diag "$(tail -n 20 "$T/authz.err")"; bail "the matrix's runner failed"; }
while IFS=$'\t' read -r verdict desc why; do
	if [ "$verdict" = PASS ]; then pass "$desc"; else fail "$desc" "$why"; fi
done <"$T/results"
rows=$(grep -c " -> " "$T/results")
routes=$(grep -v '^#' "$TSV" | cut -f1 | sort -u | wc -l)
check_eval "the matrix has every route x 8 roles ($routes routes, $rows rows)" \
	'[ "$rows" = $((routes * 8)) ] && [ "$routes" -ge 30 ]'
# Every /api/v1 route of the responder's table is in the matrix.
grep -oE '"(GET|POST|PUT|PATCH|DELETE)",[[:space:]]*"/api/v1/[^"]*"' "$top_srcdir/fcgi/routes.c" |
	sed 's/^"\([A-Z]*\)",[[:space:]]*"\([^"]*\)"$/\1 \2/' | sort -u >"$T/routes.table"
grep -v '^#' "$TSV" | cut -f2,3 | sed -e 's/\t/ /' -e 's/?.*//' \
	-e 's#/\(childspace\|victim\|childint\|victim-int\|gitlab-com\|vpc\|victim-stack\|{run0}\|{run}\|guest\)\(/\|$\)#/{}\2#g' \
	-e 's#/\(childspace\|victim\|childint\|victim-int\|gitlab-com\|vpc\|victim-stack\|{run0}\|{run}\|guest\)\(/\|$\)#/{}\2#g' |
	sort -u >"$T/routes.matrix"
missing=$(comm -23 "$T/routes.table" "$T/routes.matrix" | tr '\n' ';')
check_eval "every /api/v1 route of fcgi/routes.c is in authz.tsv ($(wc -l <"$T/routes.table") routes)" \
	'[ -s "$T/routes.table" ] && [ -z "$missing" ]' || diag "missing: $missing"

# --------------------------------------------------------- no secrets ----

# Refused webhooks put lines in the responder's log: with a token one byte
# off each secret, and with the right one and a body that is not JSON.
SECRET_NOW=$(awk '$1 == "webhook_secret" { print $2 }' "$T/secrets" | while read -r s; do
	http POST "$BASE/webhooks/gitlab/childint" -H "X-Gitlab-Token: ${s%?}x" \
		-H 'Content-Type: application/json' --data-binary '{}'
	[ "$HTTP_STATUS" = 401 ] || echo "not 401: ${s:0:8}"
done)
check_eval "refused webhooks with tokens one byte off each secret: 401" '[ -z "$SECRET_NOW" ]' ||
	diag "$SECRET_NOW"
http GET "$BASE/api/v1/integrations/childint/details" -H "Authorization: Bearer $ADMIN_KEY"
SECRET_CHILD=$(jv 'd["webhook_secret"]')
http POST "$BASE/webhooks/gitlab/childint" -H "X-Gitlab-Token: $SECRET_CHILD" \
	-H 'Content-Type: application/json' --data-binary 'not json'
check "the right token and a body that is not JSON: 400" json_error 400 invalid_json
check_eval "the responder logged the refusals ($(wc -l <"$LOG") lines)" \
	'[ "$(grep -c "refused" "$LOG")" -ge 5 ]'
HTTP_CMD=

# holds FILE KIND...: the secrets of those kinds FILE holds (first 8 characters each).
holds() {
	local file=$1 kind value found=
	shift
	while read -r kind value; do
		case " $* " in *" $kind "*) ;; *) continue ;; esac
		grep -qaF -- "$value" "$file" 2>/dev/null && found="$found $kind:${value:0:8}…"
	done <"$T/secrets"
	echo "$found"
}
nsecrets=$(grep -c . "$T/secrets")
nwebhook=$(grep -c '^webhook_secret ' "$T/secrets")
check_eval "secrets to look for: $nwebhook webhook secrets (made and rotated), the API tokens, the signing token, $(wc -l <"$T/keys") API keys" \
	'[ "$nwebhook" -ge 5 ] && [ "$nsecrets" -ge 17 ]'
for role in none read write sibling stranger; do
	found=$(holds "$T/answers/$role" webhook_secret token api_key)
	check_eval "no secret in any answer $role got ($(grep -c ' -> ' "$T/answers/$role") answers)" \
		'[ -s "$T/answers/$role" ] && [ -z "$found" ] && ! grep -q webhook_secret "$T/answers/$role"' ||
		diag "found:$found"
done
for role in admin parent-admin root; do
	found=$(holds "$T/answers/$role" token api_key)
	check_eval "no API token, signing token or API key in any answer $role got (write-only, hashed)" \
		'[ -s "$T/answers/$role" ] && [ -z "$found" ]' || diag "found:$found"
done
found=$(holds "$T/answers/errors" webhook_secret token api_key)
check_eval "no secret in any error message ($(grep -c . "$T/answers/errors") errors)" \
	'[ -s "$T/answers/errors" ] && [ -z "$found" ]' || diag "found:$found"
for f in "$LOG" "$N/error.log" "$N/access.log"; do
	found=$(holds "$f" webhook_secret token api_key)
	check_eval "no secret in ${f#"$T"/} ($(wc -l <"$f") lines)" '[ -f "$f" ] && [ -z "$found" ]' ||
		diag "found:$found"
done
check_eval "the responder served it all in one process (PID $PID_BEFORE)" \
	'[ "$(cat "$PIDFILE")" = "$PID_BEFORE" ] && kill -0 "$PID_BEFORE" 2>/dev/null'
ic=$(as_run_user sqlite3 "$DB" "PRAGMA integrity_check" 2>&1)
check_eval "PRAGMA integrity_check: ok" '[ "$ic" = ok ]' || diag "$ic"

if [ "$T_FAILED" != 0 ]; then
	show_log "$N/error.log"
	show_log "$LOG"
fi
done_testing
