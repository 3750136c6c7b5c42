#!/bin/bash
# A hostile-input battery (SPEC §7, issue 7) through real nginx (the
# repository's nginx/stackhook.conf) in front of TWO responder processes
# started by spawn-fcgi -F 2.
#
# Every case of the table below (in the Python part, CASES) is one crafted
# request with the status -- and, for the responder's answers, the error
# code and field -- it must get: wrong methods on every route, bad and
# missing Content-Length, short bodies, truncated and deeply nested JSON,
# wrong types for every field of every body, oversize values, invalid
# UTF-8, NUL bytes, C1 controls, duplicate keys, path traversal, SQL
# metacharacters, header and log injection, tokens and API keys off by one
# byte, another space's objects, bad query strings and bad webhook
# signatures.  Where nginx refuses a request itself (a negative or
# non-numeric Content-Length, a NUL in the path, a CR in a header, ...) the
# case asserts nginx's answer (code "nginx": not the responder's JSON), and
# the same defect is then sent straight to the responder's FastCGI socket
# (kind "fcgi") to check the responder's own answer.
#
# After the battery: the responder processes are the same PIDs, the
# database passes PRAGMA integrity_check (read as the service user), and no
# refused request stored anything -- the rows of every table (content, not
# only counts; counters and api_keys.last_used_at excepted: refusals are
# counted, SPEC §4.1) and the files of every spool directory are what they
# were.  Requests meant to succeed (values at their limits, SQL
# metacharacters stored verbatim, a correctly signed webhook) run after that
# comparison.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 sqlite3

web_instance
# Above SH_PLAN_MAX (1 MiB), so a plan of 1 MiB + 1 reaches the field check.
sed -i 's/^max_body .*/max_body        = 2M/' "$CONF"

serve_responders 2
PIDS_BEFORE=$(sort -n "$PIDFILE" | tr '\n' ' ')
check_eval "nginx + two responders (spawn-fcgi -F 2: PIDs $PIDS_BEFORE) serve $BASE" \
	'[ "$(echo $PIDS_BEFORE | wc -w)" = 2 ]'

# ------------------------------------------------------------ fixtures ----

# fixture DESC STATUS KEY METHOD PATH [BODY]: a setup request that must work.
fixture() {
	local desc=$1 want=$2
	shift 2
	api_as "$@"
	status_is "$want" || { last_diag; bail "setup: $desc: expected $want"; }
}

# integration_fixture VAR NAME JSON-MEMBERS: the integration NAME made by
# the root admin (JSON-MEMBERS: the rest of its body), its webhook secret in
# VAR.
integration_fixture() {
	fixture "$2" 201 "$ROOT" POST /api/v1/integrations "{\"name\":\"$2\",$3}"
	printf -v "$1" '%s' "$(jv 'd["webhook_secret"]')"
}

ROOT=$ADMIN_KEY
TOKEN_PROD=glpat-HOSTILE-prod-5f8Kq2Lm4R
TOKEN_OTHER=glpat-HOSTILE-other-9xWv3Tz7Q
SIGN_KEY_B64=$(python3 -c 'import base64; print(base64.b64encode(bytes(range(7, 39))).decode())')
SIGNING_TOKEN=whsec_$SIGN_KEY_B64

fixture "ParentSpace" 201 "$ROOT" POST /api/v1/spaces '{"name":"ParentSpace"}'
fixture "ChildSpace" 201 "$ROOT" POST /api/v1/spaces '{"name":"ChildSpace","parent":"parentspace"}'
fixture "SiblingSpace" 201 "$ROOT" POST /api/v1/spaces \
	'{"name":"SiblingSpace","parent":"parentspace","inherit":false}'
fixture "OtherSpace" 201 "$ROOT" POST /api/v1/spaces '{"name":"OtherSpace"}'
integration_fixture SECRET_PROD "GitLab Prod" \
	"\"space\":\"parentspace\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$TOKEN_PROD\""
integration_fixture SECRET_OTHER "Other GL" \
	"\"space\":\"otherspace\",\"api_host_url\":\"https://gitlab.other.example\",\"api_token\":\"$TOKEN_OTHER\""
integration_fixture SECRET_SIGNED Signed \
	"\"space\":\"parentspace\",\"api_host_url\":\"https://gitlab.example.com\",\"signing_token\":\"$SIGNING_TOKEN\""
integration_fixture SECRET_DEFAULT GitLab.com '"type":"default","api_host_url":"https://gitlab.com"'
integration_fixture SECRET_GONE Gone '"space":"parentspace","api_host_url":"https://gitlab.example.com"'
fixture "Gone deleted" 204 "$ROOT" DELETE /api/v1/integrations/gone
fixture "VPC" 201 "$ROOT" POST /api/v1/stacks \
	'{"name":"VPC","space":"childspace","integration":"gitlab-prod","namespace":"group-1","repository":"project-a","branch":"main"}'
fixture "Web" 201 "$ROOT" POST /api/v1/stacks \
	'{"name":"Web","space":"otherspace","integration":"other-gl","namespace":"group-2","repository":"web","branch":"main"}'
fixture "bob reads ChildSpace" 200 "$ROOT" PUT /api/v1/spaces/childspace/members/bob '{"role":"read"}'
fixture "carol administers OtherSpace" 200 "$ROOT" PUT /api/v1/spaces/otherspace/members/carol '{"role":"admin"}'
BOB=$(new_key bob)
CAROL=$(new_key carol)
ERIN=$(new_key erin)
REVOKED=$(new_key rita)
rita_id=$("$SH_CLI" -c "$CONF" key list | awk -F'\t' '$2 == "rita" { print $1 }')
"$SH_CLI" -c "$CONF" key revoke "$rita_id" >/dev/null 2>>"$T/log/keys.err" ||
	bail "cannot revoke rita's key"
for k in BOB CAROL ERIN REVOKED; do
	[[ ${!k} =~ ^[A-Za-z0-9_-]{20,}$ ]] || bail "no key for $k"
done

# push SLUG SECRET PROJECT SHA: a push to main that creates a tracked run.
push() {
	http POST "$BASE/webhooks/gitlab/$1" -H "X-Gitlab-Token: $2" -H 'X-Gitlab-Event: Push Hook' \
		-H 'Content-Type: application/json' --data-binary \
		"{\"object_kind\":\"push\",\"ref\":\"refs/heads/main\",\"before\":\"95790bf891e76fee5e1747ab589903a6a1f80f22\",\"after\":\"$4\",\"checkout_sha\":\"$4\",\"project\":{\"id\":$5,\"path_with_namespace\":\"$3\"},\"commits\":[],\"total_commits_count\":0}"
}
push gitlab-prod "$SECRET_PROD" group-1/project-a da1560886d4f094c3e6c9ef40349f7d38b5d27d7 15
status_is 202 || { last_diag; bail "setup: the push to VPC was not accepted"; }
RUN_VPC=$(jv 'd["runs"][0]["id"]')
push other-gl "$SECRET_OTHER" group-2/web 1b12f15a11fc6e62177bef08f47bc7b5ce50b141 16
status_is 202 || { last_diag; bail "setup: the push to Web was not accepted"; }
RUN_WEB=$(jv 'd["runs"][0]["id"]')
pass "fixtures: 4 spaces, 5 integrations (1 deleted), 2 stacks, 2 runs, 5 users"

# ------------------------------------------------------ stored state ----

TABLES=$(as_run_user sqlite3 "$DB" \
	"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")

# snapshot: per table its row count and a digest of its rows (counters and
# api_keys.last_used_at left out), then every spool file with its digest.
snapshot() {
	local t cols
	for t in $TABLES; do
		case $t in
		counters) echo "counters (not compared: refusals are counted)"; continue ;;
		api_keys) cols="id, user_id, hash, prefix, created_at, revoked_at" ;;
		*) cols="*" ;;
		esac
		printf '%s rows=%s sha=%s\n' "$t" \
			"$(as_run_user sqlite3 "$DB" "SELECT count(*) FROM $t")" \
			"$(as_run_user sqlite3 "$DB" "SELECT $cols FROM $t ORDER BY rowid" | sha256sum | cut -c1-16)"
	done
	(cd "$SPOOL" && find . -type f ! -name lock -print0 | sort -z | xargs -0r sha256sum) |
		sed 's/^\([0-9a-f]\{16\}\)[0-9a-f]*/spool \1/'
}

integrity() {
	as_run_user sqlite3 "$DB" "PRAGMA integrity_check" 2>&1
}

check_eval "setup left spool entries to compare (spool/new holds $(find "$SPOOL/new" -type f | wc -l) files)" \
	'[ "$(find "$SPOOL/new" -type f | wc -l)" -ge 1 ]'
snapshot >"$T/state.before"

# -------------------------------------------------------- the battery ----

cat >"$T/ctx.json" <<EOF
{"port": $PORT, "socket": "$SOCK", "script_name": "/stackhook",
 "keys": {"root": "$ROOT", "bob": "$BOB", "carol": "$CAROL", "erin": "$ERIN", "revoked": "$REVOKED"},
 "secrets": {"prod": "$SECRET_PROD", "other": "$SECRET_OTHER", "signed": "$SECRET_SIGNED",
             "default": "$SECRET_DEFAULT", "gone": "$SECRET_GONE"},
 "signing_key_b64": "$SIGN_KEY_B64",
 "runs": {"vpc": "$RUN_VPC", "web": "$RUN_WEB"}}
EOF

cat >"$T/hostile.py" <<'PY'
import base64, hashlib, hmac, json, os, re, socket, struct, sys, time
import fcgi_wire  # lib.sh: fcgi_wire_py

ctx = json.load(open(sys.argv[1]))
PORT = ctx["port"]
K = ctx["keys"]
S = ctx["secrets"]
RUN_VPC, RUN_WEB = ctx["runs"]["vpc"], ctx["runs"]["web"]
SIGN_KEY = base64.b64decode(ctx["signing_key_b64"])
NOW = int(time.time())

# ---------------------------------------------------------- generators --

def J(obj):
    return json.dumps(obj, ensure_ascii=False).encode()

def rep(s, n):
    return s * n

def deep(n, field="description", name="Deep"):
    """A body whose field's value nests n arrays."""
    return b'{"name":"' + name.encode() + b'","' + field.encode() + b'":' + b"[" * n + b"]" * n + b"}"

def space(**kw):
    d = {"name": "Hostile"}
    d.update(kw)
    return J(d)

def integ(**kw):
    d = {"name": "Hostile", "space": "parentspace", "api_host_url": "https://gitlab.example.com"}
    d.update(kw)
    return J(d)

def stack(**kw):
    d = {"name": "Hostile", "space": "childspace", "namespace": "group-1",
         "repository": "hostile", "branch": "main"}
    d.update(kw)
    return J(d)

SUMMARY = {"add": 1, "change": 0, "destroy": 0}

def trans(**kw):
    # "unconfirmed" is not a move a queued run may make: should a field
    # check let one of these through, the state machine still refuses it.
    d = {"state": "unconfirmed"}
    d.update(kw)
    return J(d)

SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"

def push(**kw):
    d = {"object_kind": "push", "ref": "refs/heads/main",
         "before": "95790bf891e76fee5e1747ab589903a6a1f80f22", "after": SHA,
         "checkout_sha": SHA, "project": {"id": 15, "path_with_namespace": "group-1/project-a"},
         "commits": [], "total_commits_count": 0}
    d.update(kw)
    return J(d)

def big_body(n):
    return b'{"name":"Big","description":"' + b"x" * n + b'"}'

def sig(body, wid="msg_1", ts=None, key=SIGN_KEY):
    ts = str(NOW if ts is None else ts)
    mac = hmac.new(key, wid.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()

def flip(s, i=-1):
    """s with the character at i changed (a different one of the same class)."""
    c = s[i]
    n = "B" if c == "A" else "A" if c.isalpha() else "0" if c != "0" else "1"
    i = i % len(s)
    return s[:i] + n + s[i + 1:]

def bearer(k):
    return {"Authorization": "Bearer " + k}

AUTH = {
    "root": bearer(K["root"]), "bob": bearer(K["bob"]), "carol": bearer(K["carol"]),
    "erin": bearer(K["erin"]), "none": {},
}

def signed_hdrs(body, wid="msg_1", ts=None, signature=None, token=None):
    h = {"X-Gitlab-Token": S["signed"] if token is None else token, "X-Gitlab-Event": "Push Hook",
         "webhook-id": wid, "webhook-timestamp": str(NOW if ts is None else ts)}
    h["webhook-signature"] = sig(body, wid, ts) if signature is None else signature
    return h

PUSH = push()
PUSH_OTHER_PROJECT = push(project={"id": 999, "path_with_namespace": "nobody/nothing"})

# ---------------------------------------------------------------- table --
#
# C(description, method, path, status, code, field=..., auth=..., headers=...,
#   body=..., cl=..., raw=..., kind=..., allow=..., check=...)
#   status  the HTTP status expected
#   code    the error code expected in the responder's JSON answer; "nginx"
#           when nginx must answer itself (no responder JSON); "-" for no
#           error (a success); "a|b" when the documents allow either
#   field   a regex the error's field must match (fullmatch)
#   auth    root (alice, root admin), bob (read on childspace), carol (admin
#           of otherspace), erin (no grants), none; or headers
#   body    bytes (Content-Type: application/json is sent with a body)
#   cl      Content-Length to announce instead of the body's length; None
#           leaves it out
#   raw     the whole request as bytes (nothing added)
#   kind    "http" (through nginx) or "fcgi" (straight to the responder's
#           FastCGI socket; path is PATH_INFO, params= adds or overrides)
#   allow   the Allow header a 405 must carry
#   check   a function of the response, True when it is right

CASES = []

def C(desc, method, path, status, code, **kw):
    kw.update(desc=desc, method=method, path=path, status=status, code=code)
    CASES.append(kw)

D = "/api/v1"
R = "root"

# --- wrong methods, every route ------------------------------------------
for m, p, allow in [
    ("PUT", "/healthz", "GET"),
    ("POST", "/metrics", "GET"),
    ("GET", "/webhooks/gitlab/gitlab-prod", "POST"),
    ("PUT", "/webhooks/gitlab/no-such-integration", "POST"),
    ("DELETE", "/webhooks/gitlab/gitlab-prod", "POST"),
    ("POST", D + "/whoami", "GET"),
    ("DELETE", D + "/spaces", "GET, POST"),
    ("PUT", D + "/spaces/childspace", "GET, PATCH, DELETE"),
    ("POST", D + "/spaces/childspace/members/bob", "PUT, DELETE"),
    ("GET", D + "/spaces/childspace/members/bob", "PUT, DELETE"),
    ("PATCH", D + "/integrations", "GET, POST"),
    ("PUT", D + "/integrations/gitlab-prod", "GET, PATCH, DELETE"),
    ("POST", D + "/integrations/gitlab-prod/details", "GET"),
    ("GET", D + "/integrations/gitlab-prod/rotate-secret", "POST"),
    ("DELETE", D + "/integrations/gitlab-prod/health", "GET"),
    ("DELETE", D + "/stacks", "GET, POST"),
    ("POST", D + "/stacks/vpc", "GET, PATCH, DELETE"),
    ("GET", D + "/stacks/vpc/runs", "POST"),
    ("POST", D + "/runs", "GET"),
    ("DELETE", D + "/runs/" + RUN_VPC, "GET"),
    ("GET", D + "/runs/" + RUN_VPC + "/transitions", "POST"),
    ("POST", D + "/deliveries", "GET"),
    ("DELETE", D + "/audit", "GET"),
    ("BREW", D + "/spaces", "GET, POST"),
    ("OPTIONS", D + "/stacks", "GET, POST"),
    ("HEAD", D + "/whoami", "GET"),
]:
    C("%s %s: 405 with Allow: %s" % (m, p, allow), m, p, 405, "method_not_allowed",
      auth=R, allow=allow, body=b"{}" if m in ("POST", "PUT", "PATCH") else None)
C("TRACE: nginx refuses it itself (405)", "TRACE", D + "/spaces", 405, "nginx", auth=R)
C("a lower-case method (get): nginx 400", "get", D + "/spaces", 400, "nginx", auth=R)
C("an unknown route: 404", "GET", D + "/nothing-here", 404, "not_found", auth=R)
C("an unknown route below a route: 404", "GET", D + "/stacks/vpc/runs/x", 404, "not_found", auth=R)

# --- Content-Length and bodies (through nginx) ---------------------------
def rawreq(method, path, headers, body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    return ("%s /stackhook%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n"
            % (method, path, h)).encode("latin-1") + body

RA = ("Authorization", "Bearer " + K["root"])
CT = ("Content-Type", "application/json")
for cl, st in [("-1", 400), ("abc", 400), ("1e3", 400), ("0x10", 400), ("5, 5", 400),
               ("99999999999999999999999", 400), ("20000000", 413)]:
    C("Content-Length %r: nginx answers %d itself" % (cl, st), "POST", D + "/spaces", st, "nginx",
      raw=rawreq("POST", D + "/spaces", [RA, CT, ("Content-Length", cl)], b'{"name":"x"}'))
C("two different Content-Length headers: nginx 400", "POST", D + "/spaces", 400, "nginx",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Content-Length", "2"), ("Content-Length", "12")],
             b'{"name":"x"}'))
C("Content-Length with Transfer-Encoding: chunked: nginx 400", "POST", D + "/spaces", 400, "nginx",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Content-Length", "12"),
                                     ("Transfer-Encoding", "chunked")], b'{"name":"x"}'))
C("Transfer-Encoding: gzip: nginx 501", "POST", D + "/spaces", 501, "nginx",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Transfer-Encoding", "gzip")], b'{"name":"x"}'))
C("a bad chunk size: nginx 400", "POST", D + "/spaces", 400, "nginx",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Transfer-Encoding", "chunked")], b"zz\r\n{}\r\n0\r\n\r\n"))
C("a body shorter than its Content-Length, then the client stops: nginx gives no answer",
  "POST", D + "/spaces", 0, "nginx", half_close=True,
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Content-Length", "100")], b'{"name":"x"}'))
C("a POST without Content-Length (body ignored): 400 invalid_json (no body)", "POST", D + "/spaces",
  400, "invalid_json", raw=rawreq("POST", D + "/spaces", [RA, CT], b""))
C("Content-Length: 0: 400 invalid_json", "POST", D + "/spaces", 400, "invalid_json",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Content-Length", "0")]))
C("a chunked body (nginx de-chunks it) is checked like any other: 400 unknown_field", "POST",
  D + "/spaces", 400, "unknown_field", field="colour",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Transfer-Encoding", "chunked")],
             b'%x\r\n{"name":"x","colour":"red"}\r\n0\r\n\r\n' % len(b'{"name":"x","colour":"red"}')))
C("a 2.5 MB body (> max_body 2M, < nginx's 10m): the responder's 413", "POST", D + "/spaces",
  413, "payload_too_large", auth=R, body=big_body(2500000))
C("a chunked 2.5 MB body: 413", "POST", D + "/spaces", 413, "payload_too_large",
  raw=rawreq("POST", D + "/spaces", [RA, CT, ("Transfer-Encoding", "chunked")],
             b"%x\r\n" % 2500000 + b"{" + b" " * 2499998 + b"}" + b"\r\n0\r\n\r\n"))
C("a GET with a body: the body is ignored, 200", "GET", D + "/spaces", 200, "-", auth=R,
  body=b"garbage that is not JSON")

# --- the same defects straight to the responder (FastCGI) -----------------
for cl, st, code in [("-1", 400, "bad_request"), ("abc", 400, "bad_request"),
                     ("+12", 400, "bad_request"), (" 12", 400, "bad_request"),
                     ("12 ", 400, "bad_request"), ("1e3", 400, "bad_request"),
                     ("99999999999999999999999", 413, "payload_too_large"),
                     ("18446744073709551616", 413, "payload_too_large"),
                     ("18446744073709551615", 413, "payload_too_large"),
                     ("3000000", 413, "payload_too_large")]:
    C("FastCGI CONTENT_LENGTH=%r: %d %s" % (cl, st, code), "POST", D + "/spaces", st, code,
      kind="fcgi", auth=R, body=b'{"name":"x"}', params={"CONTENT_LENGTH": cl})
C("FastCGI: a body shorter than CONTENT_LENGTH (100, 12 sent): 400 bad_request", "POST",
  D + "/spaces", 400, "bad_request", kind="fcgi", auth=R, body=b'{"name":"x"}',
  params={"CONTENT_LENGTH": "100"})
C("FastCGI: a body longer than CONTENT_LENGTH (only 5 bytes read): 400 invalid_json", "POST",
  D + "/spaces", 400, "invalid_json", kind="fcgi", auth=R, body=b'{"name":"x"}',
  params={"CONTENT_LENGTH": "5"})
C("FastCGI: no REQUEST_METHOD: 400 bad_request", "GET", D + "/spaces", 400, "bad_request",
  kind="fcgi", auth=R, params={"REQUEST_METHOD": None})
C("FastCGI: no PATH_INFO, REQUEST_URI with a bad %-escape: 400 bad_request", "GET", "", 400,
  "bad_request", kind="fcgi", auth=R, params={"PATH_INFO": None,
                                               "REQUEST_URI": "/stackhook/api/v1/spaces/%zz"})
C("FastCGI: no PATH_INFO, REQUEST_URI with %00: 400 bad_request", "GET", "", 400, "bad_request",
  kind="fcgi", auth=R, params={"PATH_INFO": None, "REQUEST_URI": "/stackhook/api/v1/spaces/a%00b"})
C("FastCGI: PATH_INFO with ../ is not normalised: 404", "GET", D + "/stacks/../spaces", 404,
  "not_found", kind="fcgi", auth=R)
C("FastCGI: a webhook with CONTENT_LENGTH=-1 and the right token: 400 bad_request", "POST",
  "/webhooks/gitlab/gitlab-prod", 400, "bad_request", kind="fcgi",
  headers={"X-Gitlab-Token": S["prod"]}, body=PUSH, params={"CONTENT_LENGTH": "-1"})
C("FastCGI: a webhook body shorter than CONTENT_LENGTH: 400 bad_request", "POST",
  "/webhooks/gitlab/gitlab-prod", 400, "bad_request", kind="fcgi",
  headers={"X-Gitlab-Token": S["prod"]}, body=PUSH, params={"CONTENT_LENGTH": str(len(PUSH) + 50)})

# --- truncated and malformed JSON ---------------------------------------
for b in [b'{"name":"x"', b'{"name":', b"{", b'{"name":"x",}', b'{"name":"x"} {}', b"[]",
          b'"str"', b"null", b"123", b"{'name':'x'}", b'{name:"x"}', b'{"name":"x","inherit":NaN}',
          b'{"name":"x"/*c*/}', b"   ", b'{"name":"\xc3',
          b'{"name":"\\u00', b'{"name":"x\\q"}', b'{"name":"x"}]', b'{"a":[1,2}']:
    C("malformed JSON %r: 400 invalid_json" % b[:40], "POST", D + "/spaces", 400, "invalid_json",
      auth=R, body=b)

# --- nesting ---------------------------------------------------------------
C("description nested 32 deep is only a wrong type: 400 invalid_field description",
  "POST", D + "/spaces", 400, "invalid_field", field="description", auth=R, body=deep(32))
for n in (33, 100, 100000):
    C("description nested %d deep: 400 invalid_field naming description" % n, "POST",
      D + "/spaces", 400, "invalid_field", field="description", auth=R, body=deep(n),
      check=lambda r: b"32" in r["body"])
C("labels nested 100 deep (stack): 400 naming labels", "POST", D + "/stacks", 400,
  "invalid_field", field="labels", auth=R,
  body=stack()[:-1] + b',"labels":' + b"[" * 100 + b"]" * 100 + b"}")
C("a top-level array nested 100000 deep: 400 invalid_json", "POST", D + "/spaces", 400,
  "invalid_json", auth=R, body=b"[" * 100000 + b"]" * 100000)
C("100000 unclosed brackets under description: 400 naming description", "POST",
  D + "/spaces", 400, "invalid_field", field="description",
  auth=R, body=b'{"description":' + b"[" * 100000)
C("objects nested 100 deep in summary: 400", "POST", D + "/runs/" + RUN_VPC + "/transitions", 400,
  "invalid_field", field=r"summary(\..*)?", auth=R,
  body=b'{"state":"unconfirmed","summary":' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}")

# --- wrong types for every field of every body ------------------------------
WRONG = {"string": [123, ["x"], {"a": "b"}, True], "bool": ["yes", 1, [], {}],
         "strings": ["x", 5, {"a": 1}, [1]], "object": [[], "x", 3], "int": ["1", -1, 1.5, True]}
bodies = [
    ("POST", D + "/spaces", space, {"name": "string", "id": "string", "parent": "string",
                                    "inherit": "bool", "description": "string"}),
    ("PATCH", D + "/spaces/childspace", lambda **kw: J(kw),
     {"name": "string", "parent": "string", "inherit": "bool", "description": "string"}),
    ("PUT", D + "/spaces/childspace/members/newguy", lambda **kw: J(kw), {"role": "string"}),
    ("POST", D + "/integrations", integ,
     {"name": "string", "type": "string", "space": "string", "api_host_url": "string",
      "user_facing_host_url": "string", "api_token": "string", "signing_token": "string",
      "labels": "strings", "description": "string", "ca_file": "string"}),
    ("PATCH", D + "/integrations/gitlab-prod", lambda **kw: J(kw),
     {"type": "string", "space": "string", "api_host_url": "string",
      "user_facing_host_url": "string", "api_token": "string", "signing_token": "string",
      "labels": "strings", "description": "string", "ca_file": "string"}),
    ("POST", D + "/stacks", stack,
     {"id": "string", "name": "string", "kind": "string", "space": "string",
      "integration": "string", "namespace": "string", "repository": "string",
      "branch": "string", "project_root": "string", "environment": "string",
      "labels": "strings", "description": "string"}),
    ("PATCH", D + "/stacks/vpc", lambda **kw: J(kw),
     {"name": "string", "kind": "string", "space": "string", "integration": "string",
      "namespace": "string", "repository": "string", "branch": "string",
      "project_root": "string", "environment": "string", "labels": "strings",
      "description": "string"}),
    ("POST", D + "/stacks/vpc/runs", lambda **kw: J(kw), {"commit": "string", "ref": "string"}),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans,
     {"state": "string", "summary": "object", "plan": "string", "commit": "string",
      "message": "string"}),
]
i = 0
for method, path, make, fields in bodies:
    for f, t in fields.items():
        # Two wrong values per field, taken in turn from the type's list.
        for v in (WRONG[t][i % len(WRONG[t])], WRONG[t][(i + 1) % len(WRONG[t])]):
            C("%s %s: %s = %s (wrong type): 400 invalid_field naming %s"
              % (method, path, f, json.dumps(v), f), method, path, 400, "invalid_field",
              field=re.escape(f) + (r"(\[\d+\])?" if t == "strings" else ""), auth=R,
              body=make(**{f: v}))
        i += 1
for v in WRONG["int"] + [1e10, 1000000001, 1e999]:
    C("summary.add = %s: 400 invalid_field naming summary.add" % json.dumps(v), "POST",
      D + "/runs/" + RUN_VPC + "/transitions", 400, "invalid_field", field=r"(summary\.)?add",
      auth=R, body=trans(summary={"add": v, "change": 0, "destroy": 0}).replace(b"Infinity", b"1e999"))
C("summary without destroy: 400 missing_field", "POST", D + "/runs/" + RUN_VPC + "/transitions",
  400, "missing_field", field=r"(summary\.)?destroy", auth=R,
  body=trans(summary={"add": 1, "change": 0}))
C("summary with an unknown member: 400 unknown_field", "POST", D + "/runs/" + RUN_VPC + "/transitions",
  400, "unknown_field", field=r"(summary\.)?extra", auth=R,
  body=trans(summary={"add": 1, "change": 0, "destroy": 0, "extra": 1}))

# required fields absent, null, unknown and read-only fields
for method, path, body, f in [
    ("POST", D + "/spaces", b"{}", "name"),
    ("POST", D + "/spaces", b'{"name":null}', "name"),
    ("POST", D + "/integrations", b'{"name":"Hostile","space":"parentspace"}', "api_host_url"),
    ("POST", D + "/integrations", b'{"space":"parentspace","api_host_url":"https://g.example"}', "name"),
    ("POST", D + "/stacks", b'{"name":"Hostile","namespace":"g","repository":"r"}', "branch"),
    ("POST", D + "/stacks", b'{"name":"Hostile","namespace":"g","branch":"main"}', "repository"),
    ("PUT", D + "/spaces/childspace/members/newguy", b"{}", "role"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", b"{}", "state"),
]:
    C("%s %s %s: 400 missing_field %s" % (method, path, body.decode(), f), method, path, 400,
      "missing_field", field=f, auth=R, body=body)
for method, path, body, f, code in [
    ("PATCH", D + "/spaces/childspace", b'{"name":null}', "name", "missing_field|invalid_field"),
    ("PATCH", D + "/stacks/vpc", b'{"branch":null}', "branch", "missing_field|invalid_field"),
    ("PATCH", D + "/spaces/childspace", b'{"id":"elsewhere"}', "id", "name_immutable"),
    ("PATCH", D + "/integrations/gitlab-prod", b'{"name":"GitLab Other"}', "name", "name_immutable"),
    ("PATCH", D + "/stacks/vpc", b'{"id":"vpc2"}', "id", "name_immutable"),
    ("POST", D + "/spaces", b'{"name":"x","created_at":"2020-01-01T00:00:00Z"}', "created_at", "unknown_field"),
    ("PATCH", D + "/integrations/gitlab-prod", b'{"webhook_secret":"mine"}', "webhook_secret", "unknown_field"),
    ("PATCH", D + "/integrations/gitlab-prod", b'{"token_last4":"abcd"}', "token_last4", "unknown_field"),
    ("PATCH", D + "/integrations/gitlab-prod", b'{"slug":"other"}', "slug", "unknown_field"),
    ("PATCH", D + "/stacks/vpc", b'{"project_id":1}', "project_id", "unknown_field"),
    ("POST", D + "/stacks/vpc/runs", b'{"sha":"' + SHA.encode() + b'"}', "sha", "unknown_field"),
    ("PUT", D + "/spaces/childspace/members/newguy", b'{"role":"read","space":"root"}', "space", "unknown_field"),
]:
    C("%s %s %s: 400 %s" % (method, path, body.decode(), code), method, path, 400, code,
      field=f, auth=R, body=body)

# values of the right type but not of the allowed form
for method, path, body, f in [
    ("PUT", D + "/spaces/childspace/members/newguy", b'{"role":"owner"}', "role"),
    ("PUT", D + "/spaces/childspace/members/newguy", b'{"role":"ADMIN"}', "role"),
    ("POST", D + "/integrations", integ(type="special"), "type"),
    ("POST", D + "/integrations", integ(api_token="abc"), "api_token"),
    ("POST", D + "/integrations", integ(signing_token="whsec_c2hvcnQ="), "signing_token"),
    ("POST", D + "/integrations", integ(signing_token="not-a-signing-token"), "signing_token"),
    ("POST", D + "/integrations", integ(ca_file="relative/ca.pem"), "ca_file"),
    ("POST", D + "/integrations", integ(api_host_url="javascript:alert(1)"), "api_host_url"),
    ("POST", D + "/integrations", integ(api_host_url="file:///etc/passwd"), "api_host_url"),
    ("POST", D + "/integrations", integ(name="!!!"), "name"),
    ("POST", D + "/integrations", integ(name=""), "name"),
    ("POST", D + "/stacks", stack(kind="lambda"), "kind"),
    ("POST", D + "/stacks", stack(branch="a..b"), "branch"),
    ("POST", D + "/stacks", stack(branch="main.lock"), "branch"),
    ("POST", D + "/stacks", stack(namespace="../etc"), "namespace"),
    ("POST", D + "/stacks", stack(namespace="group-1/"), "namespace"),
    ("POST", D + "/stacks", stack(project_root="../../etc"), "project_root"),
    ("POST", D + "/stacks", stack(project_root="infra/./vpc"), "project_root"),
    ("POST", D + "/stacks", stack(environment="prod;rm -rf"), "environment"),
    ("POST", D + "/stacks", stack(id="Not A Slug"), "id"),
    ("POST", D + "/stacks", stack(id="-vpc"), "id"),
    ("POST", D + "/stacks", stack(id="a--b"), "id"),
    ("POST", D + "/spaces", space(id="x/y"), "id"),
    ("POST", D + "/spaces", space(name=""), "name"),
    ("POST", D + "/stacks/vpc/runs", J({"commit": "xyz"}), "commit"),
    ("POST", D + "/stacks/vpc/runs", J({"commit": SHA + "0"}), "commit"),
    ("POST", D + "/stacks/vpc/runs", J({"commit": SHA.upper().replace("D", "G")}), "commit"),
    ("POST", D + "/stacks/vpc/runs", J({"ref": "refs/heads/../x"}), "ref"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans(state="exploded"), "state"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans(state="preparing", commit="nothex"), "commit"),
]:
    C("%s %s %s: 400 invalid_field %s" % (method, path, body[:60], f), method, path, 400,
      "invalid_field", field=f, auth=R, body=body)

# --- oversize values -------------------------------------------------------
L65 = rep("a", 65)
for method, path, body, f in [
    ("POST", D + "/spaces", space(name=L65), "name"),
    ("POST", D + "/spaces", space(name=rep("\u00e9", 65)), "name"),
    ("POST", D + "/spaces", space(name=rep("\U0001F600", 65)), "name"),
    ("POST", D + "/spaces", space(name=rep("a", 100000)), "name"),
    ("POST", D + "/spaces", space(id=L65), "id"),
    ("POST", D + "/spaces", space(description=rep("d", 4097)), "description"),
    ("POST", D + "/integrations", integ(name=L65), "name"),
    ("POST", D + "/integrations", integ(labels=[L65]), r"labels\[0\]"),
    ("POST", D + "/integrations", integ(labels=["ok", "fine", L65]), r"labels\[2\]"),
    ("POST", D + "/integrations", integ(labels=["l%d" % n for n in range(33)]), "labels"),
    ("POST", D + "/integrations", integ(labels=[""]), r"labels\[0\]"),
    ("POST", D + "/integrations", integ(description=rep("d", 16385)), "description"),
    ("POST", D + "/integrations", integ(api_host_url="https://g.example/" + rep("p", 2040)), "api_host_url"),
    ("POST", D + "/integrations", integ(api_token=rep("t", 1025)), "api_token"),
    ("POST", D + "/integrations", integ(ca_file="/" + rep("c", 1024)), "ca_file"),
    ("POST", D + "/stacks", stack(name=L65), "name"),
    ("POST", D + "/stacks", stack(id=L65), "id"),
    ("POST", D + "/stacks", stack(labels=["l%d" % n for n in range(33)]), "labels"),
    ("POST", D + "/stacks", stack(labels=[L65]), r"labels\[0\]"),
    ("POST", D + "/stacks", stack(description=rep("d", 4097)), "description"),
    ("POST", D + "/stacks", stack(namespace=rep("n", 1025)), "namespace"),
    ("POST", D + "/stacks", stack(repository=rep("r", 256)), "repository"),
    ("POST", D + "/stacks", stack(branch=rep("b", 256)), "branch"),
    ("POST", D + "/stacks", stack(environment=rep("e", 256)), "environment"),
    ("POST", D + "/stacks", stack(project_root=rep("p", 1025)), "project_root"),
    ("PATCH", D + "/stacks/vpc", J({"description": rep("d", 4097)}), "description"),
    ("PATCH", D + "/spaces/childspace", J({"name": L65}), "name"),
    ("POST", D + "/stacks/vpc/runs", J({"ref": rep("r", 256)}), "ref"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans(message=rep("m", 4097)), "message"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans(plan=rep("p", 1048577)), "plan"),
]:
    C("%s %s: %s too long: 400 invalid_field" % (method, path, f), method, path, 400,
      "invalid_field", field=f, auth=R, body=body)

# --- invalid UTF-8, NUL, controls, duplicates ----------------------------
for raw, what in [(b"\xff", "0xff"), (b"\xc0\xaf", "overlong /"), (b"\xe0\x80\xaf", "3-byte overlong /"),
                  (b"\xc0\xae\xc0\xae", "overlong .."), (b"\xed\xa0\x80", "a UTF-16 surrogate"),
                  (b"\xf4\x90\x80\x80", "past U+10FFFF"), (b"a\xc3", "a cut sequence"),
                  (b"\xf8\x88\x80\x80\x80", "a 5-byte form")]:
    C("name holding %s: 400 invalid_field naming name" % what, "POST", D + "/spaces", 400,
      "invalid_field", field="name", auth=R, body=b'{"name":"x' + raw + b'y"}')
C("description with invalid UTF-8 (PATCH): 400 naming description", "PATCH", D + "/spaces/childspace",
  400, "invalid_field", field="description", auth=R, body=b'{"description":"ok \xfe ok"}')
C("a label with invalid UTF-8: 400 naming labels", "POST", D + "/stacks", 400, "invalid_field",
  field=r"labels(\[0\])?", auth=R, body=stack()[:-1] + b',"labels":["\xc3\x28"]}')
C("a member name that is not UTF-8: 400 invalid_json", "POST", D + "/spaces", 400, "invalid_json",
  auth=R, body=b'{"na\xffme":"x"}')
C("a lone surrogate escape \\ud800: 400", "POST", D + "/spaces", 400, "invalid_json|invalid_field",
  auth=R, body=b'{"name":"x\\ud800y"}')
C("a raw NUL byte inside a string: 400 invalid_json", "POST", D + "/spaces", 400, "invalid_json",
  auth=R, body=b'{"name":"x\x00y"}')
C("a raw NUL byte after the object: 400 invalid_json", "POST", D + "/spaces", 400, "invalid_json",
  auth=R, body=b'{"name":"x"}\x00')
C("\\u0000 in a name: 400", "POST", D + "/spaces", 400, "invalid_json|invalid_field", auth=R,
  body=b'{"name":"x\\u0000y"}')
C("\\u0000 in a member name: 400", "POST", D + "/spaces", 400, "invalid_json|unknown_field", auth=R,
  body=b'{"name\\u0000":"x"}')
C("\\u0000 in an API token: 400", "POST", D + "/integrations", 400, "invalid_json|invalid_field",
  auth=R, body=integ(api_token="glpat-\u0000-tail"))
C("\\u0000 in a transition message: 400", "POST", D + "/runs/" + RUN_VPC + "/transitions", 400,
  "invalid_json|invalid_field", auth=R, body=trans(message="a\u0000b"))
for ch, what in [("\u0085", "NEL (C1)"), ("\u009b", "CSI (C1)"), ("\u0080", "U+0080 (C1)"),
                 ("\u0007", "BEL"), ("\u001b", "ESC"), ("\u007f", "DEL"), ("\t", "a tab"),
                 ("\n", "a line break"), ("\r", "a carriage return")]:
    C("a space name with %s: 400 invalid_field naming name" % what, "POST", D + "/spaces", 400,
      "invalid_field", field="name", auth=R, body=space(name="a" + ch + "b"))
C("raw C1 bytes (C2 85) in a stack name: 400", "POST", D + "/stacks", 400, "invalid_field",
  field="name", auth=R, body=stack()[:-1].replace(b'"Hostile"', b'"Ho\xc2\x85stile"') + b"}")
for ch, what in [("\u0085", "NEL (C1)"), ("\u001b", "ESC"), ("\u0008", "a backspace")]:
    C("a description with %s: 400 naming description" % what, "POST", D + "/spaces", 400,
      "invalid_field", field="description", auth=R, body=space(description="line" + ch + "x"))
C("a label with NEL (C1): 400 naming labels[0]", "POST", D + "/integrations", 400, "invalid_field",
  field=r"labels\[0\]", auth=R, body=integ(labels=["a\u0085b"]))
C("a branch with ESC: 400 naming branch", "POST", D + "/stacks", 400, "invalid_field",
  field="branch", auth=R, body=stack(branch="main\u001b[31m"))
for method, path, body, f in [
    ("POST", D + "/spaces", b'{"name":"a","name":"b"}', "name"),
    ("PATCH", D + "/spaces/childspace", b'{"description":"a","description":"b"}', "description"),
    ("PUT", D + "/spaces/childspace/members/bob", b'{"role":"read","role":"admin"}', "role"),
    ("PATCH", D + "/stacks/vpc", b'{"branch":"main","branch":"evil"}', "branch"),
    ("PATCH", D + "/integrations/gitlab-prod", b'{"api_token":"glpat-1111","api_token":"glpat-2222"}',
     "api_token"),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", b'{"state":"canceled","state":"preparing"}', "state"),
]:
    C("a field given twice (%s %s): 400 invalid_field naming %s" % (method, path, f), method, path,
      400, "invalid_field", field=f, auth=R, body=body)

# --- path traversal and odd ids ------------------------------------------
# GETs as the root admin, grouped by the answer they must get.
for st, code, paths in [
    (404, "not_found", [
        D + "/spaces/..",                                       # nginx: /stackhook/api/v1/
        D + "/spaces/%2e%2e/%2e%2e/healthz",                    # nginx: /stackhook/api/healthz
        D + "/spaces/%252e%252e",
        D + "/spaces/%252e%252e%252fwhoami",
        D + "/spaces/" + rep("a", 300),
        D + "/stacks/" + rep("b", 5000),
        D + "/spaces/%C3%A9t%C3%A9",
        D + "/spaces/%ff%fe",
        D + "/spaces/%c0%ae%c0%ae",
        D + "/spaces/..%5c..%5cetc",
        D + "/stacks/VPC",
        D + "/stacks/vpc%20",
        D + "/stacks/vpc;x=1",
        D + "/stacks/%25",
        D + "/stacks/_",
        D + "/stacks/*",
        D + "/integrations/gitlab-prod%2f..%2fdetails",
        "/API/V1/WHOAMI",
    ]),
    (404, "nginx", [
        D + "/spaces/../../../../etc/passwd",                   # nginx: /etc/passwd, outside /stackhook/
    ]),
    (400, "nginx", [
        D + "/spaces/../../../../../etc/passwd",                # above the root
        D + "/spaces/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc",
        D + "/spaces/childspace%00",
        D + "/spaces/child%00space",
        D + "/stacks/vpc%00.json",
    ]),
    (405, "method_not_allowed", [D + "/spaces/childspace%2fmembers%2fbob"]),
    (414, "nginx", [D + "/runs/" + rep("c", 20000)]),
    (200, "-", [D + "/runs/%2e"]),                              # nginx: /stackhook/api/v1/runs/ (the list)
]:
    for p in paths:
        C("GET %s: %d %s" % (p[:90], st, code), "GET", p, st, code, auth=R)
C("raw UTF-8 bytes in the path: 404", "GET", D + "/spaces/\u00e9t\u00e9", 404, "not_found",
  raw=rawreq("GET", "/api/v1/spaces/", [RA]).replace(b"/spaces/ ", "/spaces/\u00e9t\u00e9 ".encode()))
for m, p, st, code in [
    ("DELETE", D + "/integrations/.", 405, "method_not_allowed"),   # nginx: /api/v1/integrations/
    ("DELETE", D + "/stacks/%2e%2e%2fspaces%2fparentspace", 409, "conflict"),  # a real route, refused
    ("PATCH", D + "/stacks/..%2f..%2fspaces%2fchildspace", 404, "not_found"),
    ("POST", "/webhooks/gitlab/..%2f..%2fapi%2fv1%2fspaces", 400, "missing_field"),  # nginx: POST /api/v1/spaces
    ("POST", "/webhooks/gitlab/gitlab-prod%00", 400, "nginx"),
    ("POST", "/webhooks/gitlab/" + rep("s", 300), 404, "not_found"),
    ("POST", "/webhooks/gitlab/gitlab-prod%2e", 404, "not_found"),
    ("POST", "/webhooks/gitlab/GITLAB-PROD", 404, "not_found"),
    ("POST", "/webhooks/gitlab/%2e%2e", 404, "not_found"),            # nginx: /stackhook/webhooks/
    ("PUT", D + "/spaces/childspace/members/..%2f..%2froot", 405, "method_not_allowed"),
]:
    C("%s %s: %d %s" % (m, p[:90], st, code), m, p, st, code, auth=R,
      headers={"X-Gitlab-Token": S["prod"]} if p.startswith("/webhooks") else {},
      body=b'{"description":"x"}' if m in ("PATCH", "POST") else None)
for user, st, code in [("x'%20OR%20'1'='1", 400, "invalid_field"), ("a%20b", 400, "invalid_field"),
                       (rep("u", 65), 400, "invalid_field"), ("%C3%A9%C3%A9", 400, "invalid_field"),
                       ("%22%3B%20DROP%20TABLE%20users%3B--", 400, "invalid_field")]:
    C("PUT a role for the user %s: %d %s" % (user[:40], st, code), "PUT",
      D + "/spaces/childspace/members/" + user, st, code, auth=R, body=b'{"role":"read"}')

# --- SQL metacharacters --------------------------------------------------
SQLI = ["'%20OR%201=1%20--", "x'%20OR%20'1'='1", "%22%3B%20DROP%20TABLE%20spaces%3B%20--",
        "1%20UNION%20SELECT%20*%20FROM%20api_keys--", "root'--"]
for i, s in enumerate(SQLI):
    C("GET /spaces/%s: 404" % s, "GET", D + "/spaces/" + s, 404, "not_found", auth=R)
    C("GET /stacks/%s: 404" % s, "GET", D + "/stacks/" + s, 404, "not_found", auth=R)
    C("GET /integrations/%s/details: 404" % s, "GET", D + "/integrations/" + s + "/details", 404,
      "not_found", auth=R)
    C("GET /runs/%s: 404" % s, "GET", D + "/runs/" + s, 404, "not_found", auth=R)
    m, p = [("PATCH", "/stacks/"), ("DELETE", "/spaces/"), ("DELETE", "/integrations/"),
            ("POST", "/runs/"), ("DELETE", "/stacks/")][i]
    C("%s %s%s: 404" % (m, p, s), m, D + p + s + ("/transitions" if p == "/runs/" else ""), 404,
      "not_found", auth=R, body=b'{"description":"x"}' if m == "PATCH" else
      b'{"state":"canceled"}' if m == "POST" else None)
    C("DELETE /spaces/childspace/members/%s (not a user name): 400" % s, "DELETE",
      D + "/spaces/childspace/members/" + s, 400, "invalid_field", auth=R)
    C("webhook to /webhooks/gitlab/%s: 404" % s, "POST", "/webhooks/gitlab/" + s, 404, "not_found",
      headers={"X-Gitlab-Token": S["prod"]}, body=PUSH)
for body, f, st, code in [
    (space(id="x' OR 1=1 --"), "id", 400, "invalid_field"),
    (space(parent="root' OR '1'='1"), "parent", 404, "not_found"),
    (space(parent="\"; DROP TABLE spaces; --"), "parent", 404, "not_found"),
]:
    C("POST /spaces with %s: %s" % (body.decode()[:60], st), "POST", D + "/spaces", st, code,
      field=f, auth=R, body=body)
for body, f, st, code in [
    (integ(space="parentspace' OR '1'='1"), "space", 404, "not_found"),
    (integ(space="'; DELETE FROM integrations; --"), "space", 404, "not_found"),
]:
    C("POST /integrations with %s: %s" % (body.decode()[:60], st), "POST", D + "/integrations", st,
      code, field=f, auth=R, body=body)
for body, f, st, code in [
    (stack(integration="gitlab-prod' OR '1'='1"), "integration", 404, "not_found"),
    (stack(space="childspace'--"), "space", 404, "not_found"),
    (stack(namespace="g'; DROP TABLE stacks; --"), "namespace", 400, "invalid_field"),
    (stack(kind="stack' OR '1'='1"), "kind", 400, "invalid_field"),
]:
    C("POST /stacks with %s: %s" % (body.decode()[:70], st), "POST", D + "/stacks", st, code,
      field=f, auth=R, body=body)
C("PATCH /stacks/vpc integration \"x' OR 1=1 --\": 404", "PATCH", D + "/stacks/vpc", 404,
  "not_found", field="integration", auth=R, body=J({"integration": "x' OR 1=1 --"}))
# every field whose form is restricted, holding SQL: 400 naming it (404 for
# a reference to an object nobody can see)
SQ = "x' OR '1'='1' --"
for method, path, make, fields in [
    ("POST", D + "/spaces", space, {"id": 400, "parent": 404}),
    ("PATCH", D + "/spaces/childspace", lambda **kw: J(kw), {"parent": 404}),
    ("POST", D + "/integrations", integ,
     {"type": 400, "space": 404, "api_host_url": 400, "user_facing_host_url": 400,
      "signing_token": 400, "ca_file": 400}),
    ("PATCH", D + "/integrations/gitlab-prod", lambda **kw: J(kw),
     {"type": 400, "space": 404, "api_host_url": 400, "user_facing_host_url": 400,
      "signing_token": 400, "ca_file": 400}),
    ("POST", D + "/stacks", stack,
     {"id": 400, "kind": 400, "space": 404, "integration": 404, "namespace": 400,
      "repository": 400, "branch": 400, "environment": 400}),
    ("PATCH", D + "/stacks/vpc", lambda **kw: J(kw),
     {"kind": 400, "space": 404, "integration": 404, "namespace": 400, "repository": 400,
      "branch": 400, "environment": 400}),
    ("POST", D + "/stacks/vpc/runs", lambda **kw: J(kw), {"commit": 400, "ref": 400}),
    ("POST", D + "/runs/" + RUN_VPC + "/transitions", trans, {"state": 400, "commit": 400}),
]:
    for f, st in fields.items():
        C("%s %s: %s = %s: %d naming %s" % (method, path, f, SQ, st, f), method, path, st,
          "invalid_field" if st == 400 else "not_found", field=f, auth=R, body=make(**{f: SQ}))
C("PUT members role \"admin' --\": 400", "PUT", D + "/spaces/childspace/members/bob", 400,
  "invalid_field", field="role", auth=R, body=J({"role": "admin' --"}))
C("transition state \"canceled' --\": 400", "POST", D + "/runs/" + RUN_VPC + "/transitions", 400,
  "invalid_field", field="state", auth=R, body=J({"state": "canceled' --"}))

# --- query strings -----------------------------------------------------------
for q in ["limit=0", "limit=-1", "limit=501", "limit=abc", "limit=1.5", "limit=1e2", "limit=",
          "limit=0x10", "limit=99999999999999999999", "limit=%00", "limit=%zz", "limit=%205",
          "limit=10%20OR%201=1", "limit=" + rep("9", 5000)]:
    C("GET /spaces?%s: 400 invalid_field limit" % q[:40], "GET", D + "/spaces?" + q, 400,
      "invalid_field", field="limit", auth=R)
for coll in ["stacks", "runs", "integrations", "deliveries", "audit"]:
    C("GET /%s?limit=0: 400 invalid_field limit" % coll, "GET", D + "/" + coll + "?limit=0", 400,
      "invalid_field", field="limit", auth=R)
for q in ["after=abc", "after=-1", "after=1.5", "after=%00", "after=99999999999999999999999",
          "after='%20OR%201=1--", "after=" + rep("1", 5000)]:
    C("GET /stacks?%s: 400 invalid_field after" % q[:40], "GET", D + "/stacks?" + q, 400,
      "invalid_field", field="after", auth=R)
def empty_list(r):
    try:
        return json.loads(r["body"])["items"] == []
    except Exception:
        return False
for q in ["runs?state=bogus", "runs?state='%20OR%201=1%20--", "stacks?space='%20OR%201=1%20--", "stacks?integration=x'%20OR%20'1'='1",
          "runs?stack='%20OR%20''='", "stacks?space=%25", "stacks?integration=_"]:
    C("GET /%s: never more than nothing (200 empty, or 404|400)" % q, "GET", D + "/" + q,
      "200|404|400", "-|not_found|invalid_field", auth=R,
      check=lambda r: r["status"] != 200 or empty_list(r))
C("GET /deliveries?integration=' OR 1=1 --: 404", "GET", D + "/deliveries?integration='%20OR%201=1%20--",
  404, "not_found", auth=R)
C("GET /audit?space=' OR 1=1 --: 404", "GET", D + "/audit?space='%20OR%201=1%20--", 404,
  "not_found", auth=R)

# --- header injection ------------------------------------------------------
def no_injected(r):
    return not any(k.lower() in ("set-cookie", "x-injected") for k, _ in r["headers"])
for p in [D + "/stacks/x%0d%0aSet-Cookie:%20pwn=1", D + "/stacks/x%0aX-Injected:%201",
          D + "/spaces?after=1%0d%0aSet-Cookie:%20pwn=1"]:
    C("CR/LF in the path or query (%s): 404|400 and no injected header" % p[16:50], "GET", p,
      "404|400", "not_found|invalid_field", auth=R, check=no_injected)
C("a CR inside a header value: nginx 400", "GET", D + "/whoami", 400, "nginx",
  raw=rawreq("GET", D + "/whoami", [("X-Note", "a\rX-Injected: 1"), RA]))
C("a header folded onto the next line (obs-fold): nginx 400", "GET", D + "/whoami", 400, "nginx",
  raw=rawreq("GET", D + "/whoami", [RA, ("X-Note", "a\r\n folded")]))
C("a NUL inside a header value: nginx 400", "GET", D + "/whoami", 400, "nginx",
  raw=rawreq("GET", D + "/whoami", [("Authorization", "Bearer " + K["root"] + "\x00x")]))
C("two Authorization headers: nginx 400", "GET", D + "/whoami", 400, "nginx",
  raw=rawreq("GET", D + "/whoami", [RA, ("Authorization", "Bearer " + K["erin"])]))
C("Remote-User: alice without a key (trust_remote_user = no): 401", "GET", D + "/whoami", 401,
  "unauthorized", headers={"Remote-User": "alice", "X-Remote-User": "alice",
                           "X-Forwarded-User": "alice"})
C("a webhook token in X_Gitlab_Token (underscores: nginx drops it): 401", "POST",
  "/webhooks/gitlab/gitlab-prod", 401, "unauthorized",
  raw=rawreq("POST", "/webhooks/gitlab/gitlab-prod", [("X_Gitlab_Token", S["prod"]), CT,
             ("Content-Length", str(len(PUSH)))], PUSH))
C("Host: evil.example does not move webhook_url off public_url", "GET",
  D + "/integrations/gitlab-prod/details", 200, "-",
  raw=rawreq("GET", D + "/integrations/gitlab-prod/details", [RA]).replace(
      b"Host: 127.0.0.1", b"Host: evil.example"),
  check=lambda r: b"evil" not in r["body"] and b"127.0.0.1" in r["body"])
LOGMARK = "FORGED-LOG-LINE"
C("a webhook slug with %0a (log injection attempt): 404", "POST",
  "/webhooks/gitlab/x%0a" + LOGMARK + ":%20admin%20alice%20logged%20in", 404, "not_found",
  headers={"X-Gitlab-Token": S["prod"]}, body=PUSH)
C("a webhook slug with %0d%0a (log injection attempt): 404", "POST",
  "/webhooks/gitlab/x%0d%0a" + LOGMARK + "-CRLF", 404, "not_found", body=PUSH)
C("a webhook member name with \\n (log injection attempt): 400", "POST", "/webhooks/gitlab/gitlab-prod",
  400, "invalid_field|invalid_json", headers={"X-Gitlab-Token": S["prod"]},
  body=b'{"x\\n' + LOGMARK.encode() + b'-JSON: hi":' + b"[" * 40 + b"]" * 40 + b"}")

# --- API keys -------------------------------------------------------------
KR = K["root"]
for hv, what in [("Bearer", "Bearer alone"), ("Bearer ", "Bearer and a space"),
                 ("Basic YWxpY2U6c2VjcmV0", "Basic alice:secret"),
                 ("Basic " + base64.b64encode(("alice:" + KR).encode()).decode(), "Basic with the key as password"),
                 ("Digest username=\"alice\"", "Digest"), ("Token " + KR, "Token scheme"),
                 (KR, "the bare key"), ("Bearer " + flip(KR), "the key, last byte changed"),
                 ("Bearer " + flip(KR, 4), "the key, 5th byte changed"),
                 ("Bearer " + flip(KR, 20), "the key, 21st byte changed"),
                 ("Bearer " + KR[:-1], "the key less its last byte"), ("Bearer " + KR + "x", "the key and one byte more"),
                 ("Bearer " + KR.swapcase(), "the key in the other case"),
                 ("Bearer " + KR[:12], "the key's prefix"), ("Bearer " + KR + " " + KR, "the key twice"),
                 ("Bearer\t" + KR, "a tab after Bearer"),
                 ("Bearer " + rep("k", 7000), "a 7 KB key"), ("Bearer ' OR 1=1 --", "SQL"),
                 ("Bearer " + K["revoked"], "a revoked key"), ("Bearer " + S["prod"], "a webhook secret as key"),
                 ("Bearer " + KR.replace("shk_", "shk-"), "the key with a bad prefix")]:
    C("Authorization: %s: 401" % what, "GET", D + "/whoami", 401, "unauthorized",
      headers={"Authorization": hv},
      check=lambda r: any(k.lower() == "www-authenticate" and "Bearer" in v for k, v in r["headers"]))
C("Authorization: a 10 KB key: nginx 400 (header too large)", "GET", D + "/whoami", 400, "nginx",
  headers={"Authorization": "Bearer " + rep("k", 10240)})
C("a revoked key cannot write: 401", "POST", D + "/spaces", 401, "unauthorized",
  headers={"Authorization": "Bearer " + K["revoked"]}, body=space(name="Revoked"))
C("no key on a write: 401", "POST", D + "/spaces", 401, "unauthorized", auth="none", body=space())
C("a key off by one byte on a write: 401", "DELETE", D + "/stacks/vpc", 401, "unauthorized",
  headers={"Authorization": "Bearer " + flip(KR)})

# --- another space's objects by id ------------------------------------------
# Each user's requests, (METHOD, PATH[, BODY[, FIELD the error names]]),
# grouped by the answer they must get.
for who, st, code, reqs in [
    ("carol", 404, "not_found", [
        ("GET", "/stacks/vpc"),
        ("PATCH", "/stacks/vpc", J({"description": "mine"})),
        ("DELETE", "/stacks/vpc"),
        ("POST", "/stacks/vpc/runs", b"{}"),
        ("GET", "/runs/" + RUN_VPC),
        ("POST", "/runs/" + RUN_VPC + "/transitions", J({"state": "canceled"})),
        ("GET", "/integrations/gitlab-prod"),
        ("GET", "/integrations/gitlab-prod/details"),
        ("GET", "/integrations/gitlab-prod/health"),
        ("PATCH", "/integrations/gitlab-prod", J({"description": "mine"})),
        ("DELETE", "/integrations/gitlab-prod"),
        ("POST", "/integrations/gitlab-prod/rotate-secret"),
        ("GET", "/spaces/childspace"),
        ("PATCH", "/spaces/childspace", J({"description": "mine"})),
        ("DELETE", "/spaces/siblingspace"),
        ("PUT", "/spaces/childspace/members/carol", J({"role": "admin"})),
        ("DELETE", "/spaces/childspace/members/bob"),
        ("POST", "/spaces", space(parent="childspace"), "parent"),
        ("POST", "/integrations", integ(space="parentspace"), "space"),
        ("POST", "/stacks", stack(space="childspace"), "space"),
        ("PATCH", "/stacks/web", J({"space": "childspace"}), "space"),
        ("PATCH", "/stacks/web", J({"integration": "gitlab-prod"}), "integration"),
        ("GET", "/deliveries?integration=gitlab-prod"),
        ("GET", "/audit?space=parentspace"),
    ]),
    # moving her space needs admin of its parent (root) first
    ("carol", 403, "forbidden", [("PATCH", "/spaces/otherspace", J({"parent": "childspace"}))]),
    ("bob", 403, "forbidden", [
        ("PATCH", "/stacks/vpc", J({"branch": "evil"})),
        ("POST", "/runs/" + RUN_VPC + "/transitions", J({"state": "canceled"})),
        ("PUT", "/spaces/childspace/members/bob", J({"role": "admin"})),
        ("GET", "/integrations/gitlab-prod/details"),
    ]),
    ("bob", 404, "not_found", [
        ("GET", "/runs/" + RUN_WEB),
        ("GET", "/stacks/web"),
        ("GET", "/integrations/other-gl"),
    ]),
    ("erin", 403, "forbidden", [
        ("GET", "/integrations/gitlab-com/details"),
        ("PATCH", "/integrations/gitlab-com", J({"description": "mine"})),
        ("POST", "/integrations/gitlab-com/rotate-secret"),
        ("DELETE", "/integrations/gitlab-com"),
        ("POST", "/integrations", integ(type="default", space="root")),
        ("GET", "/deliveries"),
        ("GET", "/audit"),
    ]),
    ("erin", 404, "not_found", [
        ("POST", "/spaces", space(), "parent"),
        ("POST", "/stacks", stack(space="root"), "space"),
    ]),
]:
    for m, p, body, f in ((req + (None, None))[:4] for req in reqs):
        C("%s: %s %s: %s" % (who, m, p, st), m, D + p, st, code, auth=who, body=body,
          **({"field": f} if f else {}))
C("carol's list of integrations does not hold gitlab-prod", "GET", D + "/integrations?limit=500",
  200, "-", auth="carol", check=lambda r: b"gitlab-prod" not in r["body"])
C("erin's list of stacks is empty", "GET", D + "/stacks", 200, "-", auth="erin", check=empty_list)

# --- webhooks: tokens --------------------------------------------------------
WP = "/webhooks/gitlab/gitlab-prod"
SP = S["prod"]
for tok, what in [(None, "no X-Gitlab-Token"), ("", "an empty token"), (flip(SP), "last byte changed"),
                  (flip(SP, 0), "first byte changed"), (flip(SP, 16), "17th byte changed"),
                  (SP[:-1], "one byte short"), (SP + "x", "one byte more"), (SP + SP, "twice"),
                  (SP.swapcase(), "other case"), (rep("t", 7000), "a 7 KB token"),
                  (S["other"], "another integration's secret"), (S["gone"], "a deleted integration's secret"),
                  (K["root"], "the root admin's API key"), ("' OR 1=1 --", "SQL")]:
    C("webhook with %s: 401" % what, "POST", WP, 401, "unauthorized", body=PUSH,
      headers={} if tok is None else {"X-Gitlab-Token": tok, "X-Gitlab-Event": "Push Hook"})
C("webhook with a 10 KB token: nginx 400", "POST", WP, 400, "nginx", body=PUSH,
  headers={"X-Gitlab-Token": rep("t", 10240)})
C("webhook with the token in the query string only: 401", "POST", WP + "?token=" + SP, 401,
  "unauthorized", body=PUSH)
C("webhook with the token as Authorization: Bearer: 401", "POST", WP, 401, "unauthorized",
  body=PUSH, headers={"Authorization": "Bearer " + SP})
C("webhook to a deleted integration, its old secret: 404", "POST", "/webhooks/gitlab/gone", 404,
  "not_found", body=PUSH, headers={"X-Gitlab-Token": S["gone"]})
C("webhook to an unknown integration with a valid secret: 404", "POST", "/webhooks/gitlab/nope",
  404, "not_found", body=PUSH, headers={"X-Gitlab-Token": SP})

# --- webhooks: bodies (right token: refused with 4xx, nothing stored) ---------
TOK = {"X-Gitlab-Token": SP, "X-Gitlab-Event": "Push Hook"}
for body, st, code, f, what in [
    (b"not json", 400, "invalid_json", None, "not JSON"),
    (b"[]", 400, "invalid_json", None, "an array"),
    (b"", 400, "invalid_json", None, "empty"),
    (PUSH[:-1], 400, "invalid_json", None, "truncated"),
    (PUSH + b"{}", 400, "invalid_json", None, "data after the object"),
    (PUSH[:-1] + b',"x":"\x00"}', 400, "invalid_json", None, "a raw NUL"),
    (PUSH[:-1] + b',"x":"\\u0000"}', 400, "invalid_json|invalid_field", None, "\\u0000"),
    (b'{"object_kind":"push","x":' + b"[" * 100000 + b"]" * 100000 + b"}", 400,
     "invalid_json|invalid_field", None, "nested 100000 deep"),
    (PUSH[:-1] + b',"x":' + b"[" * 33 + b"]" * 33 + b"}", 400, "invalid_field", "x", "nested 33 deep"),
    (push(ref="refs/heads/\xff").replace(b"\xc3\xbf", b"\xff"), 400, "invalid_field", "ref", "invalid UTF-8 in ref"),
    (push(after="xyz", checkout_sha="xyz"), 400, "invalid_field", "(after|checkout_sha)", "a short sha"),
    (push(checkout_sha=SHA[:-1] + "g"), 400, "invalid_field", "checkout_sha", "a non-hex sha"),
    (push(ref=5), 400, "invalid_field", "ref", "a numeric ref"),
    (push(ref="refs/heads/a..b"), 400, "invalid_field", "ref", "a ref with .."),
    (push(ref="refs/heads/" + rep("r", 5000)), 400, "invalid_field", "ref", "a 5000-byte ref"),
    (push(project=None), 400, "missing_field|invalid_field", r"project(\..*)?", "project null"),
    (push(project={"id": 15}), 400, "missing_field", r"project\.path_with_namespace", "no path_with_namespace"),
    (push(project={"id": "15", "path_with_namespace": "group-1/project-a"}), 400, "invalid_field",
     r"project\.id", "a string project.id"),
    (push(project={"id": 15, "path_with_namespace": "group-1/../../etc"}), 400, "invalid_field",
     r"project\.path_with_namespace", "a path with .."),
    (b'{"object_kind":"push","object_kind":"tag_push"}' , 400, "invalid_json|invalid_field|missing_field",
     None, "object_kind given twice"),
]:
    C("webhook (right token), body %s: %d %s" % (what, st, code), "POST", WP, st, code, headers=TOK,
      body=body, **({"field": f} if f else {}))
C("webhook (right token), a 2.5 MB body: 413", "POST", WP, 413, "payload_too_large", headers=TOK,
  body=PUSH[:-1] + b',"pad":"' + b"p" * 2500000 + b'"}')
C("webhook (right token), Idempotency-Key of 300 bytes: 400", "POST", WP, 400, "bad_request",
  headers=dict(TOK, **{"Idempotency-Key": rep("k", 300)}), body=PUSH)
C("webhook (right token), Idempotency-Key with a space inside: 400", "POST", WP, 400, "bad_request",
  headers=dict(TOK, **{"Idempotency-Key": "key with space"}), body=PUSH)

# --- webhooks: signatures (the Signed integration) ---------------------------
SGP = "/webhooks/gitlab/signed"
B = PUSH_OTHER_PROJECT
for hdrs, what in [
    ({"X-Gitlab-Token": S["signed"]}, "no webhook-* headers"),
    (signed_hdrs(B, ts="abc", signature=sig(B, ts=0)), "timestamp abc"),
    (signed_hdrs(B, ts=NOW - 600), "timestamp 10 minutes old (signed)"),
    (signed_hdrs(B, ts=NOW + 600), "timestamp 10 minutes ahead (signed)"),
    (signed_hdrs(B, ts=NOW - 301), "timestamp 301 s old (signed)"),
    (signed_hdrs(B, ts=-1), "timestamp -1"),
    (signed_hdrs(B, ts=0), "timestamp 0"),
    (signed_hdrs(B, ts="99999999999999999999999"), "timestamp overflowing 64 bits"),
    (signed_hdrs(B, ts="+%d" % NOW), "timestamp with a + sign"),
    (signed_hdrs(B, ts="%d.5" % NOW), "timestamp with a fraction"),
    (signed_hdrs(B, ts="0x%x" % NOW), "timestamp in hex"),
    (signed_hdrs(B, ts="%de0" % NOW), "timestamp with an exponent"),
    (signed_hdrs(B, ts=""), "an empty timestamp"),
    (signed_hdrs(B, signature=sig(PUSH)), "the signature of another body"),
    (signed_hdrs(B, signature=flip(sig(B), 10)), "a signature off by one byte"),
    (signed_hdrs(B, signature="v1,"), "an empty v1 signature"),
    (signed_hdrs(B, signature=""), "an empty signature header"),
    (signed_hdrs(B, signature=sig(B).replace("v1,", "v2,")), "the right MAC labelled v2"),
    (signed_hdrs(B, signature=sig(B).replace("v1,", "")), "the right MAC without v1,"),
    (signed_hdrs(B, signature="v1,bad v1,worse"), "two wrong entries"),
    (signed_hdrs(B, signature=sig(B, key=b"another key of 32 bytes........")), "a MAC under another key"),
    (signed_hdrs(B, wid="msg_2", signature=sig(B, wid="msg_1")), "a MAC for another webhook-id"),
    (signed_hdrs(B, signature=sig(B, ts=NOW - 1)), "a MAC for another timestamp"),
    (signed_hdrs(B, token=flip(S["signed"])), "a good signature but a wrong token"),
    (signed_hdrs(B, token=""), "a good signature and an empty token"),
]:
    C("signed webhook, %s: 401" % what, "POST", SGP, 401, "unauthorized", headers=hdrs, body=B)
PY
# The runner, after the table (same Python file).
cat >>"$T/hostile.py" <<'PY'

# ------------------------------------------------------------- sending --

def http_request(c):
    if "raw" in c:
        data = c["raw"]
    else:
        hdrs = [("Host", "127.0.0.1")]
        auth = c.get("auth", "none")
        hdrs += list(AUTH.get(auth, {}).items())
        hdrs += list(c.get("headers", {}).items())
        body = c.get("body")
        if body is not None:
            hdrs.append(("Content-Type", "application/json"))
            hdrs.append(("Content-Length", str(len(body))))
        hdrs.append(("Connection", "close"))
        data = ("%s /stackhook%s HTTP/1.1\r\n" % (c["method"], c["path"])).encode("latin-1")
        data += "".join("%s: %s\r\n" % kv for kv in hdrs).encode("utf-8")
        data += b"\r\n" + (body or b"")
    s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    try:
        try:
            s.sendall(data)
            if c.get("half_close"):
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            out += b
    finally:
        s.close()
    if not out:
        return {"status": 0, "headers": [], "body": b""}
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return {"status": status, "headers": headers, "body": body}

def fcgi_request(c):
    body = c.get("body") or b""
    params = {"REQUEST_METHOD": c["method"], "PATH_INFO": c["path"], "SCRIPT_NAME": ctx["script_name"],
              "REQUEST_URI": ctx["script_name"] + c["path"], "QUERY_STRING": "",
              "CONTENT_LENGTH": str(len(body)) if body else "", "REMOTE_ADDR": "127.0.0.1",
              "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    if body:
        params["CONTENT_TYPE"] = "application/json"
    for k, v in list(AUTH.get(c.get("auth", "none"), {}).items()) + list(c.get("headers", {}).items()):
        params["HTTP_" + k.upper().replace("-", "_")] = v
    params.update(c.get("params", {}))
    pairs = b"".join(fcgi_wire.pair(k.encode(), v.encode("latin-1"))
                     for k, v in params.items() if v is not None)
    data = fcgi_wire.record(1, struct.pack(">HB5x", 1, 0))
    data += fcgi_wire.record(4, pairs) + fcgi_wire.record(4, b"")
    data += fcgi_wire.record(5, body) + fcgi_wire.record(5, b"") if body else fcgi_wire.record(5, b"")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(ctx["socket"])
    s.sendall(data)
    out, _ = fcgi_wire.answer(s)
    s.close()
    head, _, rbody = out.partition(b"\r\n\r\n")
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in head.decode("latin-1").split("\r\n") if ":" in l]
    status = 0
    for k, v in headers:
        if k.lower() == "status":
            status = int(v.split()[0])
    return {"status": status, "headers": headers, "body": rbody}

def judge(c, r):
    """None when the answer is right, else why not."""
    want = [int(x) for x in str(c["status"]).split("|")]
    if r["status"] not in want:
        return "status %d, expected %s" % (r["status"], c["status"])
    ctype = dict((k.lower(), v) for k, v in r["headers"]).get("content-type", "")
    if "application/json" in ctype:
        try:
            r["body"].decode("utf-8")
        except UnicodeDecodeError as e:
            return "the JSON answer is not valid UTF-8 (%s): %r" % (e, r["body"][:120])
    codes = c["code"].split("|")
    if c["code"] == "nginx":
        if "application/json" in ctype:
            return "expected nginx's own answer, got the responder's JSON"
    else:
        err = None
        if r["status"] >= 400 and c["method"] == "HEAD":
            pass  # no body: the status and the Allow header tell
        elif r["status"] >= 400:
            if "application/json" not in ctype:
                return "not a JSON answer (Content-Type %r)" % ctype
            try:
                err = json.loads(r["body"])["error"]
            except Exception as e:
                return "no JSON error object (%s)" % e
            if err.get("code") not in codes:
                return "error code %r, expected %s" % (err.get("code"), c["code"])
            if "field" in c and not re.fullmatch(c["field"], err.get("field") or ""):
                return "error field %r, expected %s" % (err.get("field"), c["field"])
        elif "-" not in codes:
            return "status %d but an error %s was expected" % (r["status"], c["code"])
    if c.get("allow"):
        allow = dict((k.lower(), v) for k, v in r["headers"]).get("allow")
        if allow is None or sorted(a.strip() for a in allow.split(",")) != sorted(
                a.strip() for a in c["allow"].split(",")):
            return "Allow: %r, expected %r" % (allow, c["allow"])
    if c.get("check") and not c["check"](r):
        return "the answer fails the case's own check"
    return None

results = open(sys.argv[2], "w")
for n, c in enumerate(CASES, 1):
    try:
        r = fcgi_request(c) if c.get("kind") == "fcgi" else http_request(c)
        why = judge(c, r)
    except Exception as e:
        r, why = {"status": 0, "headers": [], "body": b""}, "no answer: %r" % e
    desc = "[%s] %s" % ("fcgi" if c.get("kind") == "fcgi" else "nginx", c["desc"])
    desc = desc.replace("\n", " ").replace("#", "No.")
    got = str(r["status"])
    try:
        got += " " + json.loads(r["body"])["error"]["code"]
    except Exception:
        pass
    if why is None:
        results.write("PASS\t%s (got %s)\n" % (desc, got))
    else:
        shown = c["raw"][:200] if "raw" in c else ("%s %s" % (c["method"], c["path"][:150])).encode()
        results.write("FAIL\t%s\t%s | request: %r | answer: %d %r\n" % (
            desc, why, shown, r["status"], r["body"][:300]))
results.close()
PY

fcgi_wire_py "$T"
python3 "$T/hostile.py" "$T/ctx.json" "$T/results" 2>"$T/hostile.err" ||
	{ diag "$(tail -n 20 "$T/hostile.err")"; bail "the battery's runner failed"; }
CASES=$(wc -l <"$T/results")
while IFS=$'\t' read -r verdict desc why; do
	if [ "$verdict" = PASS ]; then
		pass "$desc"
	else
		fail "$desc" "$why"
	fi
done <"$T/results"
check_eval "the battery sent at least 150 crafted requests ($CASES)" '[ "$CASES" -ge 150 ]'

# ------------------------------------------------------------- afterwards ----

HTTP_CMD=

# shellcheck disable=SC2034 # used by check_eval
PIDS_AFTER=$(sort -n "$PIDFILE" | tr '\n' ' ')
alive=0
for pid in $PIDS_BEFORE; do
	kill -0 "$pid" 2>/dev/null && ! is_zombie "$pid" &&
		grep -q stackhook.fcgi "/proc/$pid/cmdline" 2>/dev/null && alive=$((alive + 1))
done
check_eval "the same two responder processes served the whole battery (PIDs $PIDS_BEFORE, alive: $alive)" \
	'[ "$PIDS_AFTER" = "$PIDS_BEFORE" ] && [ "$alive" = 2 ]'
http GET "$BASE/healthz"
check "the responders still answer /healthz" status_is 200
ic=$(integrity)
check_eval "PRAGMA integrity_check (as $RUN_USER): ok" '[ "$ic" = ok ]' || diag "$ic"
snapshot >"$T/state.after"
check_eval "no refused request stored anything ($(echo $TABLES | wc -w) tables, spool files)" \
	'cmp -s "$T/state.before" "$T/state.after"' ||
	diag "$(diff "$T/state.before" "$T/state.after")"
# A log line begins with the responder's "stackhook.fcgi[PID]: LEVEL: ".
forged=$(grep -v '^stackhook\.fcgi\[[0-9]*\]: [a-z]*: ' "$LOG" | grep -F "FORGED-LOG-LINE" | head -n 5)
check_eval "no request could start a line of the responder's log of its own (log injection)" \
	'[ -z "$forged" ]' || diag "forged lines in the responder's log:" "$forged"
check_eval "no 5xx answer in nginx's access log" \
	'! grep -E "\" 5[0-9][0-9] " "$N/access.log" | grep -v "\" 501 " | grep -q .' ||
	diag "$(grep -E '" 5[0-9][0-9] ' "$N/access.log" | head -n 5)"
check_eval "the responder logged no crash or internal error" \
	'! grep -qiE "internal:|assert|segfault|abort" "$LOG"' || diag "$(grep -iE 'internal:|assert' "$LOG" | head)"
for s in "$SECRET_PROD" "$SECRET_OTHER" "$SECRET_SIGNED" "$SECRET_DEFAULT" "$TOKEN_PROD" \
	"$TOKEN_OTHER" "$SIGNING_TOKEN" "$ROOT" "$BOB" "$CAROL" "$ERIN"; do
	grep -qaF -- "$s" "$LOG" && leaked="${leaked:-}${s:0:8}… "
done
# (nginx's own error log, at level info here, quotes the header lines it
# refuses -- keys included -- and its access log the query strings clients
# put tokens in: the responder's log is the one that must never hold one.)
check_eval "no secret, token or API key in the responder's log" '[ -z "${leaked:-}" ]' ||
	diag "leaked: $leaked"

# ------------------------------------------------- meant to succeed ----

# accepted DESC STATUS PYTHON-CONDITION(on d) KEY METHOD PATH [BODY]
accepted() {
	local desc=$1 want=$2 cond=$3
	shift 3
	api_as "$@"
	check_eval "$desc" 'status_is "$want" && [ "$(jv "bool($cond)")" = true ]'
}
N64=$(printf 'é%.0s' $(seq 64))
accepted "a space name of 64 characters (128 bytes): 201" 201 "d['name'] == '$N64'" \
	"$ROOT" POST /api/v1/spaces "{\"name\":\"$N64\",\"id\":\"sixty-four\"}"
SQLNAME="Robert'); DROP TABLE stacks;--"
accepted "a stack named $SQLNAME, branch main'--: 201, stored verbatim" 201 \
	"d['name'] == \"$SQLNAME\" and d['branch'] == \"main'--\"" "$ROOT" POST /api/v1/stacks \
	"{\"name\":\"$SQLNAME\",\"id\":\"bobby\",\"space\":\"childspace\",\"namespace\":\"group-1\",\"repository\":\"bobby\",\"branch\":\"main'--\",\"description\":\"\\\" OR 1=1; --\"}"
accepted "... and reads back the same" 200 \
	"d['name'] == \"$SQLNAME\" and d['description'] == '\" OR 1=1; --'" "$ROOT" GET /api/v1/stacks/bobby
check_eval "... and the stacks table is still there" \
	'[ "$(as_run_user sqlite3 "$DB" "SELECT count(*) FROM stacks")" = 3 ]'
LABELS=$(python3 -c 'import json; print(json.dumps(["l%02d" % n for n in range(31, -1, -1)]))')
accepted "32 labels and a description of 4096 characters: 200, labels stored sorted" 200 \
	"d['labels'] == sorted(d['labels']) and len(d['labels']) == 32 and len(d['description']) == 4096" \
	"$ROOT" PATCH /api/v1/stacks/bobby "{\"labels\":$LABELS,\"description\":\"$(printf 'd%.0s' $(seq 4096))\"}"
accepted "labels with a duplicate are stored once: 200" 200 "d['labels'] == ['a', 'b']" \
	"$ROOT" PATCH /api/v1/stacks/bobby '{"labels":["b","a","b"]}'
accepted "a description with \\u0000 spelled out (an escaped backslash) is text: 200" 200 \
	"d['description'] == 'a \\\\u0000 b'" "$ROOT" PATCH /api/v1/stacks/bobby '{"description":"a \\u0000 b"}'
python3 - "$SIGN_KEY_B64" "$T/signed.json" "$T/signed.hdr" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = base64.b64decode(sys.argv[1])
body = json.dumps({"object_kind": "push", "ref": "refs/heads/main",
                   "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
                   "after": "1111111111111111111111111111111111111111",
                   "checkout_sha": "1111111111111111111111111111111111111111",
                   "project": {"id": 999, "path_with_namespace": "nobody/nothing"},
                   "commits": [], "total_commits_count": 0}).encode()
ts = str(int(time.time()))
mac = hmac.new(key, b"msg_ok." + ts.encode() + b"." + body, hashlib.sha256).digest()
open(sys.argv[2], "wb").write(body)
open(sys.argv[3], "w").write("webhook-id: msg_ok\nwebhook-timestamp: %s\nwebhook-signature: v1,bad v1,%s\n"
                             % (ts, base64.b64encode(mac).decode()))
PY
http POST "$BASE/webhooks/gitlab/signed" -H "X-Gitlab-Token: $SECRET_SIGNED" -H 'X-Gitlab-Event: Push Hook' \
	-H 'Content-Type: application/json' -H "@$T/signed.hdr" --data-binary "@$T/signed.json"
check_eval "a correctly signed webhook (among a wrong v1 entry) is taken: 200 ignored" \
	'status_is 200 && json_str status ignored'
PIDS_END=$(sort -n "$PIDFILE" | tr '\n' ' ')
ic=$(integrity)
check_eval "after the accepted requests: the same PIDs and integrity_check ok" \
	'[ "$PIDS_END" = "$PIDS_BEFORE" ] && [ "$ic" = ok ]'

if [ "$T_FAILED" != 0 ]; then
	show_log "$N/error.log"
	show_log "$LOG"
fi
done_testing
