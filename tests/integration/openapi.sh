#!/bin/bash
# docs/openapi.yaml, the contract of the HTTP routes (SPEC §4.2), against the
# responder behind real nginx + spawn-fcgi (the repository's snippet):
#  (a) the document itself (tests/integration/openapi_check.py lint): OpenAPI
#      3.0 structure, references, schemas valid once converted to JSON
#      Schema, every route of fcgi/routes.c documented and nothing else, the
#      error codes of core/err.c;
#  (b) every documented route exercised on a throw-away instance -- success
#      and the main errors (400, 401, 403, 404, 405, 409, 413, 422) -- each
#      answer checked against the document: its status listed for the
#      operation, its Content-Type, its JSON body against the response
#      schema (strictly: an undocumented field fails), required headers
#      (WWW-Authenticate, Allow); the request too: a body or parameter the
#      responder accepts must be valid for the document, and those marked
#      REQ=invalid below must be refused by it;
#  (c) every documented operation answered 2xx at least once, and every
#      documented path answers another method with 405 and the documented
#      methods in Allow.
# Keys are passed to ex() by variable name, so shellcheck sees them unused:
# shellcheck disable=SC2034
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl

# A Python with the Debian modules (python3-yaml, python3-jsonschema): the
# system's first, since a python3 earlier in PATH may lack them.
PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml, jsonschema' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip_all "python3 with yaml and jsonschema (python3-yaml, python3-jsonschema) is not installed"

SPEC=$top_srcdir/docs/openapi.yaml
CHECK=$top_srcdir/tests/integration/openapi_check.py
[ -f "$SPEC" ] || bail "$SPEC is missing"

web_instance
KEY=$ADMIN_KEY

# relay FILE: the checker's "PASS desc" / "FAIL desc" / "# diag" lines as TAP.
relay() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) pass "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		"#"*) printf '%s\n' "$line" ;;
		esac
	done <"$1"
}

# run_check NAME ARGS...: the checker, its points relayed; a crash fails.
run_check() {
	local name=$1
	shift
	"$PY" "$CHECK" "$@" >"$T/$name.out" 2>"$T/$name.err"
	local rc=$?
	relay "$T/$name.out"
	if [ "$rc" != 0 ] || [ -s "$T/$name.err" ]; then
		fail "openapi_check.py $1 ran cleanly" "exit status $rc" "$(head -c 2000 "$T/$name.err")"
	fi
}

# ========================================================================
# (a) the document
# ========================================================================
run_check lint lint "$SPEC" "$top_srcdir/fcgi/routes.c" "$top_srcdir/core/err.c"

# ========================================================================
# (b) the answers
# ========================================================================
serve_deployed

EX=$T/exchanges
mkdir -p "$EX"
EX_N=0

# ex DESC EXPECT WHO METHOD TARGET [BODY [CURL ARGS...]]: one request through
# nginx, recorded for the checker.  EXPECT is the status the test expects,
# optionally with the error code ("409:stack_detached").  WHO is the name of
# the variable holding the key, or - for none.  BODY - sends none.  With
# REQ=invalid the document must refuse the request; with REQ=valid it must
# accept it (a 2xx answer implies valid).
ex() {
	local desc=$1 expect=$2 who=$3 method=$4 target=$5 body=${6--} f args=()
	shift 5
	[ $# -gt 0 ] && shift
	EX_N=$((EX_N + 1))
	f=$EX/$(printf '%04d' "$EX_N")
	[ "$who" != - ] && args+=(-H "Authorization: Bearer ${!who}")
	if [ "$body" != - ]; then
		printf '%s' "$body" >"$f.req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$f.req")
	fi
	http "$method" "$BASE$target" "${args[@]}" "$@"
	cp "$T/http.head" "$f.head"
	cp "$T/http.body" "$f.body"
	printf '%s\n%s\n%s\n%s\n%s\n%s' "$desc" "$method" "$target" "$expect" \
		"$HTTP_STATUS" "${REQ:-}" >"$f.meta"
}

# jget PATH: a value of the last answer (dots between keys and indexes).
jget() {
	"$PY" - "$T/http.body" "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2].split(".") if sys.argv[2] else []:
    d = d[int(k)] if isinstance(d, list) else d[k]
print("null" if d is None else d if isinstance(d, str) else json.dumps(d))
PY
}

long() {
	head -c "$1" /dev/zero | tr '\0' "${2:-x}"
}

# --- operations ------------------------------------------------------------
ex "healthy" 200 - GET /healthz
ex "metrics from the loopback" 200 - GET /metrics
ex "metrics from another address: the snippet refuses" 403 - GET /metrics - --interface 127.0.0.2
[ "$HTTP_RC" = 45 ] && { rm -f "$EX/$(printf '%04d' "$EX_N")".*; EX_N=$((EX_N - 1)); }
ex "a path nobody serves" 404:not_found - GET /no/such/route
ex "no key" 401:unauthorized - GET /api/v1/whoami
BAD_KEY=shk_not-a-real-key-at-all
ex "a key that is not valid" 401:unauthorized BAD_KEY GET /api/v1/whoami
ex "a root admin" 200 KEY GET /api/v1/whoami

# --- spaces ----------------------------------------------------------------
ex "ParentSpace" 201 KEY POST /api/v1/spaces '{"name":"ParentSpace","description":"The platform team\nline two"}'
ex "ChildSpace below it" 201 KEY POST /api/v1/spaces '{"name":"ChildSpace","parent":"parentspace","inherit":true}'
ex "SiblingSpace, not inheriting" 201 KEY POST /api/v1/spaces '{"id":"siblingspace","name":"SiblingSpace","parent":"parentspace","inherit":false,"description":null}'
ex "an id taken" 409:conflict KEY POST /api/v1/spaces '{"name":"ChildSpace"}'
REQ=invalid ex "an unknown field" 400:unknown_field KEY POST /api/v1/spaces '{"name":"X","colour":"red"}'
REQ=invalid ex "a name of 65 characters" 400:invalid_field KEY POST /api/v1/spaces "{\"name\":\"$(long 65)\"}"
REQ=valid ex "a name of 64 characters" 201 KEY POST /api/v1/spaces "{\"name\":\"$(long 64 y)\"}"
REQ=invalid ex "a name with a control character" 400:invalid_field KEY POST /api/v1/spaces '{"name":"tab\there"}'
REQ=invalid ex "a description of 4097 characters" 400:invalid_field KEY POST /api/v1/spaces "{\"name\":\"Long\",\"description\":\"$(long 4097)\"}"
REQ=invalid ex "no name" 400:missing_field KEY POST /api/v1/spaces '{"description":"nameless"}'
REQ=invalid ex "inherit not a boolean" 400:invalid_field KEY POST /api/v1/spaces '{"name":"Z","inherit":"yes"}'
REQ=invalid ex "an id that is not a slug" 400:invalid_field KEY POST /api/v1/spaces '{"name":"Z","id":"Not A Slug"}'
REQ=invalid ex "not JSON" 400:invalid_json KEY POST /api/v1/spaces 'name=x'
REQ=invalid ex "a name null (docs/api.md: missing_field)" 400:missing_field KEY POST /api/v1/spaces '{"name":null}'
REQ=invalid ex "a name that is not UTF-8" 400:invalid_field KEY POST /api/v1/spaces "$(printf '{"name":"caf\xe9"}')"
REQ=invalid ex "a description nested 33 levels" 400:invalid_field KEY POST /api/v1/spaces \
	"{\"name\":\"Deep\",\"description\":$(long 33 '[')$(long 33 ']')}"
ex "a field given twice" 400:invalid_field KEY POST /api/v1/spaces '{"name":"Twice","name":"Twice"}'
REQ=invalid ex "a JSON array" 400:invalid_json KEY POST /api/v1/spaces '["name"]'
REQ=valid ex "a parent that does not exist" 404:not_found KEY POST /api/v1/spaces '{"name":"Orphan","parent":"nowhere"}'
big_body "$T/big.json" 100000
ex "a body over max_body" 413:payload_too_large KEY POST /api/v1/spaces - \
	-H 'Content-Type: application/json' --data-binary "@$T/big.json"
ex "the list" 200 KEY GET /api/v1/spaces
ex "a page of one" 200 KEY GET '/api/v1/spaces?limit=1'
NEXT=$(jget next)
ex "the next page" 200 KEY GET "/api/v1/spaces?limit=1&after=$NEXT"
ex "limit 500" 200 KEY GET '/api/v1/spaces?limit=500'
REQ=invalid ex "limit 0" 400:invalid_field KEY GET '/api/v1/spaces?limit=0'
REQ=invalid ex "limit 501" 400:invalid_field KEY GET '/api/v1/spaces?limit=501'
REQ=invalid ex "a cursor that is not one" 400:invalid_field KEY GET '/api/v1/spaces?after=abc'
ex "one space" 200 KEY GET /api/v1/spaces/childspace
ex "root" 200 KEY GET /api/v1/spaces/root
ex "a space that does not exist" 404:not_found KEY GET /api/v1/spaces/nowhere
ex "a description" 200 KEY PATCH /api/v1/spaces/childspace '{"description":"Networking stacks"}'
ex "a description cleared" 200 KEY PATCH /api/v1/spaces/siblingspace '{"description":null,"name":"Sibling Space"}'
REQ=invalid ex "the id" 400:name_immutable KEY PATCH /api/v1/spaces/childspace '{"id":"other"}'
REQ=invalid ex "an unknown field" 400:unknown_field KEY PATCH /api/v1/spaces/childspace '{"owner":"bob"}'
ex "below itself" 400:invalid_field KEY PATCH /api/v1/spaces/parentspace '{"parent":"childspace"}'
ex "a space that does not exist" 404:not_found KEY PATCH /api/v1/spaces/nowhere '{"description":"x"}'

# --- members ---------------------------------------------------------------
ex "bob reads ChildSpace" 200 KEY PUT /api/v1/spaces/childspace/members/bob '{"role":"read"}'
ex "OtherSpace, unrelated" 201 KEY POST /api/v1/spaces '{"name":"OtherSpace"}'
ex "carol administers OtherSpace" 200 KEY PUT /api/v1/spaces/otherspace/members/carol '{"role":"admin"}'
ex "dana writes in ChildSpace" 200 KEY PUT /api/v1/spaces/childspace/members/dana.w@example.com '{"role":"write"}'
REQ=invalid ex "a role that is none" 400:invalid_field KEY PUT /api/v1/spaces/childspace/members/bob '{"role":"owner"}'
REQ=invalid ex "no role" 400:missing_field KEY PUT /api/v1/spaces/childspace/members/bob '{}'
REQ=invalid ex "a user name that is not one" 400:invalid_field KEY PUT '/api/v1/spaces/childspace/members/bob!' '{"role":"read"}'
ex "a space that does not exist" 404:not_found KEY PUT /api/v1/spaces/nowhere/members/bob '{"role":"read"}'
READER_KEY=$(new_key bob)
OTHER_KEY=$(new_key carol)
WRITER_KEY=$(new_key dana.w@example.com)
NOBODY_KEY=$(new_key erin)
ex "bob's roles" 200 READER_KEY GET /api/v1/whoami
ex "erin has none" 200 NOBODY_KEY GET /api/v1/whoami
ex "bob lists spaces" 200 READER_KEY GET /api/v1/spaces
ex "bob grants in ChildSpace" 403:forbidden READER_KEY PUT /api/v1/spaces/childspace/members/erin '{"role":"read"}'
ex "bob changes ChildSpace" 403:forbidden READER_KEY PATCH /api/v1/spaces/childspace '{"description":"mine"}'
ex "carol reads ParentSpace" 404:not_found OTHER_KEY GET /api/v1/spaces/parentspace
ex "bob creates below ChildSpace" 403:forbidden READER_KEY POST /api/v1/spaces '{"name":"Mine","parent":"childspace"}'
ex "carol creates below ParentSpace" 404:not_found OTHER_KEY POST /api/v1/spaces '{"name":"Mine","parent":"parentspace"}'

# --- integrations ----------------------------------------------------------
TOKEN=glpat-TESTONLY-w7Hq2ZpLx9c3vH
SIGNING=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3
ex "GitLab Prod in ParentSpace" 201 KEY POST /api/v1/integrations \
	"{\"name\":\"GitLab Prod\",\"space\":\"parentspace\",\"api_host_url\":\"https://gitlab.example.com\",\"api_token\":\"$TOKEN\",\"labels\":[\"prod\",\"prod\"],\"description\":\"# Prod\n\nthe platform's\"}"
SECRET=$(jget webhook_secret)
ex "GitLab Internal through an agent pool" 201 KEY POST /api/v1/integrations \
	'{"name":"GitLab Internal","space":"parentspace","api_host_url":"private://build-agents","user_facing_host_url":"https://gitlab.internal.example.com/","ca_file":"/etc/ssl/certs/internal-ca.pem"}'
ex "GitLab Signed, with a signing token" 201 KEY POST /api/v1/integrations \
	"{\"name\":\"GitLab Signed\",\"type\":\"space\",\"space\":\"childspace\",\"api_host_url\":\"http://[::1]:8929/gitlab\",\"signing_token\":\"$SIGNING\",\"api_token\":null,\"labels\":null}"
ex "the default integration" 201 KEY POST /api/v1/integrations \
	'{"name":"GitLab.com","type":"default","api_host_url":"https://gitlab.com","api_token":"glpat-TESTONLY-Kq9w"}'
ex "a second default integration" 409:conflict KEY POST /api/v1/integrations \
	'{"name":"GitLab SaaS","type":"default","api_host_url":"https://gitlab.com"}'
ex "a name with GitLab Prod's slug" 409:conflict KEY POST /api/v1/integrations \
	'{"name":"gitlab  PROD!","space":"parentspace","api_host_url":"https://gitlab.example.com"}'
# bad_integration DESC EXPECT URL [MEMBERS]: ex of a POST as KEY of the
# integration Bad in ParentSpace at api_host_url URL, with the JSON MEMBERS.
bad_integration() {
	ex "$1" "$2" KEY POST /api/v1/integrations \
		"{\"name\":\"Bad\",\"space\":\"parentspace\",\"api_host_url\":\"$3\"${4:+,$4}}"
}
REQ=invalid bad_integration "api_host_url without a scheme" 400:invalid_field gitlab.example.com
REQ=invalid bad_integration "api_host_url with a query" 400:invalid_field 'https://gitlab.example.com/?x=1'
REQ=invalid bad_integration "api_host_url with user info" 400:invalid_field https://user:pw@gitlab.example.com
REQ=invalid bad_integration "user_facing_host_url private://" 400:invalid_field private://x \
	'"user_facing_host_url":"private://x"'
bad_integration "private:// without user_facing_host_url" 400:missing_field private://x
REQ=invalid bad_integration "an api_token of 3 characters" 400:invalid_field https://g.example '"api_token":"abc"'
REQ=invalid bad_integration "a signing_token without whsec_" 400:invalid_field https://g.example \
	'"signing_token":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"'
REQ=invalid bad_integration "a signing_token of a 12-byte key" 400:invalid_field https://g.example \
	'"signing_token":"whsec_MDEyMzQ1Njc4OWFi"'
REQ=invalid bad_integration "a relative ca_file" 400:invalid_field https://g.example '"ca_file":"ca.pem"'
REQ=invalid bad_integration "a type that is none" 400:invalid_field https://g.example '"type":"group"'
REQ=invalid bad_integration "33 labels" 400:invalid_field https://g.example \
	"\"labels\":[$(seq -f '"l%g"' -s, 1 33)]"
REQ=invalid bad_integration "an empty label" 400:invalid_field https://g.example '"labels":["ok",""]'
REQ=invalid ex "a name without a letter or digit" 400:invalid_field KEY POST /api/v1/integrations \
	'{"name":"---","space":"parentspace","api_host_url":"https://g.example"}'
REQ=invalid bad_integration "a description of 16385 characters" 400:invalid_field https://g.example \
	"\"description\":\"$(long 16385)\""
REQ=invalid ex "no api_host_url" 400:missing_field KEY POST /api/v1/integrations '{"name":"Bad","space":"parentspace"}'
ex "a space integration without space" 400:missing_field KEY POST /api/v1/integrations '{"name":"Bad","api_host_url":"https://g.example"}'
ex "bob creates one in ChildSpace" 403:forbidden READER_KEY POST /api/v1/integrations \
	'{"name":"Bobs","space":"childspace","api_host_url":"https://g.example"}'
ex "carol creates one in ParentSpace" 404:not_found OTHER_KEY POST /api/v1/integrations \
	'{"name":"Carols","space":"parentspace","api_host_url":"https://g.example"}'
ex "the list" 200 KEY GET /api/v1/integrations
ex "a page of one" 200 KEY GET '/api/v1/integrations?limit=1'
NEXT=$(jget next)
ex "the next page" 200 KEY GET "/api/v1/integrations?limit=2&after=$NEXT"
ex "bob's list" 200 READER_KEY GET /api/v1/integrations
ex "erin's list (the default only)" 200 NOBODY_KEY GET /api/v1/integrations
REQ=invalid ex "limit x" 400:invalid_field KEY GET '/api/v1/integrations?limit=x'
ex "a summary" 200 KEY GET /api/v1/integrations/gitlab-prod
ex "bob gets the summary" 200 READER_KEY GET /api/v1/integrations/gitlab-prod
ex "carol may not list it" 404:not_found OTHER_KEY GET /api/v1/integrations/gitlab-prod
ex "no such integration" 404:not_found KEY GET /api/v1/integrations/nothing
ex "the details" 200 KEY GET /api/v1/integrations/gitlab-prod/details
ex "bob asks for the details" 403:forbidden READER_KEY GET /api/v1/integrations/gitlab-prod/details
ex "carol asks for the details" 404:not_found OTHER_KEY GET /api/v1/integrations/gitlab-prod/details
ex "the default's details for a root admin" 200 KEY GET /api/v1/integrations/gitlab-com/details
ex "the default's details for erin" 403:forbidden NOBODY_KEY GET /api/v1/integrations/gitlab-com/details
ex "labels and a new token" 200 KEY PATCH /api/v1/integrations/gitlab-prod \
	'{"labels":["prod","eu"],"api_token":"glpat-TESTONLY-Rm5tKv8Nq4Xy7Q","user_facing_host_url":null,"ca_file":null}'
ex "the token removed, a signing token set" 200 KEY PATCH /api/v1/integrations/gitlab-internal \
	"{\"api_token\":null,\"signing_token\":\"$SIGNING\",\"description\":null,\"labels\":null}"
REQ=invalid ex "the name" 400:name_immutable KEY PATCH /api/v1/integrations/gitlab-prod '{"name":"GitLab Production"}'
REQ=invalid ex "an unknown field" 400:unknown_field KEY PATCH /api/v1/integrations/gitlab-prod '{"token":"x"}'
REQ=invalid ex "a label that is not a string" 400:invalid_field KEY PATCH /api/v1/integrations/gitlab-prod '{"labels":["ok",1]}'
REQ=invalid ex "api_host_url null" 400:invalid_field KEY PATCH /api/v1/integrations/gitlab-prod '{"api_host_url":null}'
ex "bob changes it" 403:forbidden READER_KEY PATCH /api/v1/integrations/gitlab-prod '{"description":"bob was here"}'
ex "a second default, by PATCH" 409:conflict KEY PATCH /api/v1/integrations/gitlab-signed '{"type":"default"}'
ex "a new secret" 200 KEY POST /api/v1/integrations/gitlab-signed/rotate-secret
ex "bob asks for a new secret" 403:forbidden READER_KEY POST /api/v1/integrations/gitlab-prod/rotate-secret
ex "no such integration" 404:not_found KEY POST /api/v1/integrations/nothing/rotate-secret
ex "the health of one with problems" 200 KEY GET /api/v1/integrations/gitlab-internal/health
ex "bob asks for the health" 403:forbidden READER_KEY GET /api/v1/integrations/gitlab-prod/health
ex "no such integration" 404:not_found KEY GET /api/v1/integrations/nothing/health

# --- stacks ----------------------------------------------------------------
ex "VPC in ChildSpace attaches GitLab Prod" 201 KEY POST /api/v1/stacks \
	'{"name":"VPC","space":"childspace","integration":"gitlab-prod","namespace":"group-1","repository":"project-a","branch":"main"}'
# shellcheck disable=SC2016 # ${CI_ENV} is part of the environment's name
ex "a module, every field" 201 WRITER_KEY POST /api/v1/stacks \
	'{"id":"mod-net","name":"Net module","kind":"module","space":"childspace","integration":null,"namespace":"group-1/sub.group_x","repository":"net.mod","branch":"release/v1","project_root":"modules/net/","environment":"prod/${CI_ENV} eu","labels":["b","a"],"description":"line\nline"}'
# dns_stack DESC EXPECT INTEGRATION: ex of a POST of the stack DNS in
# SiblingSpace (which does not inherit) attaching INTEGRATION.
dns_stack() {
	ex "$1" "$2" KEY POST /api/v1/stacks \
		"{\"name\":\"DNS\",\"space\":\"siblingspace\",\"integration\":\"$3\",\"namespace\":\"group-1\",\"repository\":\"project-b\",\"branch\":\"main\"}"
}
dns_stack "DNS in SiblingSpace attaches GitLab Prod" 422:integration_not_usable gitlab-prod
dns_stack "DNS attaches the default integration" 201 gitlab-com
ex "an id taken" 409:conflict KEY POST /api/v1/stacks \
	'{"name":"VPC","space":"childspace","namespace":"group-1","repository":"project-a","branch":"main"}'
# web_stack DESC EXPECT WHO NAMESPACE REPOSITORY BRANCH [MEMBERS]: ex of a
# POST by WHO of the stack Web on NAMESPACE/REPOSITORY's BRANCH, with the
# JSON MEMBERS.
web_stack() {
	ex "$1" "$2" "$3" POST /api/v1/stacks \
		"{\"name\":\"Web\",\"namespace\":\"$4\",\"repository\":\"$5\",\"branch\":\"$6\"${7:+,$7}}"
}
web_stack "carol attaches GitLab Prod" 404:not_found OTHER_KEY group-2 web main \
	'"space":"otherspace","integration":"gitlab-prod"'
web_stack "bob creates one" 403:forbidden READER_KEY group-2 web main '"space":"childspace"'
REQ=invalid ex "no namespace" 400:missing_field KEY POST /api/v1/stacks '{"name":"Web","repository":"web","branch":"main"}'
REQ=invalid web_stack "a namespace with a space" 400:invalid_field KEY 'group 1' web main
REQ=invalid web_stack "a repository with a /" 400:invalid_field KEY group-1 a/b main
REQ=invalid web_stack "a branch with a space" 400:invalid_field KEY group-1 web 'my branch'
REQ=invalid web_stack "an environment with a !" 400:invalid_field KEY group-1 web main '"environment":"prod!"'
REQ=invalid web_stack "an absolute project_root" 400:invalid_field KEY group-1 web main '"project_root":"/infra"'
REQ=invalid web_stack "a kind that is none" 400:invalid_field KEY group-1 web main '"kind":"app"'
ex "the list of a space" 200 KEY GET '/api/v1/stacks?space=childspace'
ex "the stacks of an integration" 200 KEY GET '/api/v1/stacks?integration=gitlab-prod'
ex "the detached stacks" 200 KEY GET '/api/v1/stacks?integration=null'
ex "a page of one" 200 KEY GET '/api/v1/stacks?limit=1'
NEXT=$(jget next)
ex "the next page" 200 KEY GET "/api/v1/stacks?limit=1&after=$NEXT"
ex "bob's list" 200 READER_KEY GET /api/v1/stacks
REQ=invalid ex "a space filter of 65 characters" 400:invalid_field KEY GET "/api/v1/stacks?space=$(long 65 a)"
ex "one stack" 200 KEY GET /api/v1/stacks/vpc
ex "bob reads it" 200 READER_KEY GET /api/v1/stacks/vpc
ex "carol may not see it" 404:not_found OTHER_KEY GET /api/v1/stacks/vpc
ex "no such stack" 404:not_found KEY GET /api/v1/stacks/nothing
ex "a project root and labels" 200 KEY PATCH /api/v1/stacks/vpc '{"project_root":"infra/vpc","labels":["network"],"environment":null}'
ex "bob changes it" 403:forbidden READER_KEY PATCH /api/v1/stacks/vpc '{"branch":"develop"}'
REQ=invalid ex "the id" 400:name_immutable KEY PATCH /api/v1/stacks/vpc '{"id":"vpc2"}'
REQ=invalid ex "a required field null" 400:invalid_field KEY PATCH /api/v1/stacks/vpc '{"branch":null}'
ex "moved where its integration is unusable" 422:integration_not_usable KEY PATCH /api/v1/stacks/vpc '{"space":"siblingspace"}'
ex "no such stack" 404:not_found KEY PATCH /api/v1/stacks/nothing '{"branch":"main"}'

# --- webhooks, deliveries --------------------------------------------------
PUSH='{"object_kind":"push","ref":"refs/heads/main","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","project":{"id":15,"path_with_namespace":"group-1/project-a"},"commits":[{"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","added":["infra/vpc/subnets.tf"],"modified":[],"removed":[]}],"total_commits_count":1}'
OTHER_PUSH='{"object_kind":"push","ref":"refs/heads/main","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"1111111111111111111111111111111111111111","checkout_sha":"1111111111111111111111111111111111111111","project":{"id":999,"path_with_namespace":"nobody/nothing"},"commits":[],"total_commits_count":0}'
hook() {
	local desc=$1 expect=$2 slug=$3 body=$4
	shift 4
	ex "$desc" "$expect" - POST "/webhooks/gitlab/$slug" "$body" \
		-H 'X-Gitlab-Event: Push Hook' "$@"
}
hook "a push to VPC's branch" 202 gitlab-prod "$PUSH" -H "X-Gitlab-Token: $SECRET" \
	-H 'Idempotency-Key: 0d6a7f3e-0001' -H 'X-Gitlab-Event-UUID: 2f1c-0001'
hook "the same delivery again" 200 gitlab-prod "$PUSH" -H "X-Gitlab-Token: $SECRET" \
	-H 'Idempotency-Key: 0d6a7f3e-0001'
hook "a project nobody follows" 200 gitlab-prod "$OTHER_PUSH" -H "X-Gitlab-Token: $SECRET"
hook "a kind that triggers nothing" 200 gitlab-prod '{"object_kind":"note","project":{"id":15}}' \
	-H "X-Gitlab-Token: $SECRET"
hook "a wrong token" 401:unauthorized gitlab-prod "$PUSH" -H 'X-Gitlab-Token: not-the-secret'
hook "no token" 401:unauthorized gitlab-prod "$PUSH"
ex "GitLab Internal's details" 200 KEY GET /api/v1/integrations/gitlab-internal/details
SECRET_INTERNAL=$(jget webhook_secret)
hook "a signed integration, no signature" 401:unauthorized gitlab-internal "$OTHER_PUSH" \
	-H "X-Gitlab-Token: $SECRET_INTERNAL"
NOW=$(date +%s)
SIGNATURE=$("$PY" -c '
import base64, hashlib, hmac, sys
key = base64.b64decode(sys.argv[1][len("whsec_"):])
text = ("%s.%s." % (sys.argv[2], sys.argv[3])).encode() + sys.argv[4].encode()
print("v1," + base64.b64encode(hmac.new(key, text, hashlib.sha256).digest()).decode())
' "$SIGNING" msg-0001 "$NOW" "$OTHER_PUSH")
hook "a signed integration, signed" 200 gitlab-internal "$OTHER_PUSH" \
	-H "X-Gitlab-Token: $SECRET_INTERNAL" -H 'webhook-id: msg-0001' \
	-H "webhook-timestamp: $NOW" -H "webhook-signature: v1,bm90IGl0 $SIGNATURE"
hook "a signed integration, a wrong signature" 401:unauthorized gitlab-internal "$OTHER_PUSH" \
	-H "X-Gitlab-Token: $SECRET_INTERNAL" -H 'webhook-id: msg-0002' \
	-H "webhook-timestamp: $NOW" -H "webhook-signature: $SIGNATURE"
hook "an Idempotency-Key of 129 characters" 400:bad_request gitlab-prod "$OTHER_PUSH" \
	-H "X-Gitlab-Token: $SECRET" -H "Idempotency-Key: $(long 129 k)"
hook "no such integration" 404:not_found nothing "$PUSH" -H "X-Gitlab-Token: $SECRET"
REQ=invalid hook "not JSON" 400:invalid_json gitlab-prod 'push' -H "X-Gitlab-Token: $SECRET"
REQ=invalid hook "no object_kind" 400:missing_field gitlab-prod '{"ref":"refs/heads/main"}' -H "X-Gitlab-Token: $SECRET"
hook "a sha that is not one" 400:invalid_field gitlab-prod \
	"${PUSH//da1560886d4f094c3e6c9ef40349f7d38b5d27d7/not-a-sha}" -H "X-Gitlab-Token: $SECRET"
ex "a body over max_body" 413:payload_too_large - POST /webhooks/gitlab/gitlab-prod - \
	-H "X-Gitlab-Token: $SECRET" -H 'Content-Type: application/json' --data-binary "@$T/big.json"
ex "the deliveries of GitLab Prod" 200 KEY GET '/api/v1/deliveries?integration=gitlab-prod'
ex "every delivery" 200 KEY GET /api/v1/deliveries
ex "a page of one" 200 KEY GET '/api/v1/deliveries?limit=1'
NEXT=$(jget next)
ex "the next page" 200 KEY GET "/api/v1/deliveries?limit=1&after=$NEXT"
ex "bob asks for GitLab Prod's" 403:forbidden READER_KEY GET '/api/v1/deliveries?integration=gitlab-prod'
ex "bob asks for every delivery" 403:forbidden READER_KEY GET /api/v1/deliveries
ex "carol asks for GitLab Prod's" 404:not_found OTHER_KEY GET '/api/v1/deliveries?integration=gitlab-prod'
ex "the health after a delivery" 200 KEY GET /api/v1/integrations/gitlab-prod/health

# --- runs ------------------------------------------------------------------
ex "VPC's runs" 200 READER_KEY GET '/api/v1/runs?stack=vpc'
RUN=$(jget items.0.id)
ex "the queued runs" 200 KEY GET '/api/v1/runs?state=queued&limit=10'
ex "every run" 200 KEY GET /api/v1/runs
REQ=invalid ex "limit -1" 400:invalid_field KEY GET '/api/v1/runs?limit=-1'
ex "one run" 200 KEY GET "/api/v1/runs/$RUN"
ex "carol may not see it" 404:not_found OTHER_KEY GET "/api/v1/runs/$RUN"
ex "no such run" 404:not_found KEY GET /api/v1/runs/nothing
ex "preparing" 200 WRITER_KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"preparing","message":"picked up"}'
ex "planning" 200 KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"planning"}'
ex "applying before a confirmation" 409:invalid_transition KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"applying"}'
ex "unconfirmed without a summary" 409:invalid_transition KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"unconfirmed"}'
ex "unconfirmed with the plan" 200 KEY POST "/api/v1/runs/$RUN/transitions" \
	'{"state":"unconfirmed","summary":{"add":2,"change":1,"destroy":0},"plan":"+ aws_subnet.private[0]\n~ aws_route_table.main\n"}'
REQ=invalid ex "a state that is none" 400:invalid_field KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"done"}'
REQ=invalid ex "a negative count" 400:invalid_field KEY POST "/api/v1/runs/$RUN/transitions" \
	'{"state":"confirmed","summary":{"add":-1,"change":0,"destroy":0}}'
REQ=invalid ex "a summary without destroy" 400:missing_field KEY POST "/api/v1/runs/$RUN/transitions" \
	'{"state":"confirmed","summary":{"add":1,"change":0}}'
REQ=invalid ex "a commit that is not one" 400:invalid_field KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"confirmed","commit":"abc"}'
REQ=invalid ex "a message of 4097 characters" 400:invalid_field KEY POST "/api/v1/runs/$RUN/transitions" \
	"{\"state\":\"confirmed\",\"message\":\"$(long 4097)\"}"
REQ=invalid ex "no state" 400:missing_field KEY POST "/api/v1/runs/$RUN/transitions" '{"message":"hi"}'
ex "bob moves it" 403:forbidden READER_KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"confirmed"}'
ex "no such run" 404:not_found KEY POST /api/v1/runs/nothing/transitions '{"state":"confirmed"}'
ex "confirmed" 200 KEY POST "/api/v1/runs/$RUN/transitions" '{"state":"confirmed"}'
ex "a manual run" 201 WRITER_KEY POST /api/v1/stacks/vpc/runs '{"ref":"main"}'
MANUAL=$(jget id)
ex "a manual run on a commit" 201 KEY POST /api/v1/stacks/vpc/runs '{"commit":"2222222222222222222222222222222222222222"}'
ex "the same commit again" 409:conflict KEY POST /api/v1/stacks/vpc/runs '{"commit":"2222222222222222222222222222222222222222"}'
ex "preparing without the commit" 400:missing_field KEY POST "/api/v1/runs/$MANUAL/transitions" '{"state":"preparing"}'
ex "preparing with the commit" 200 KEY POST "/api/v1/runs/$MANUAL/transitions" \
	'{"state":"preparing","commit":"3333333333333333333333333333333333333333"}'
REQ=invalid ex "a commit that is not one" 400:invalid_field KEY POST /api/v1/stacks/vpc/runs '{"commit":"xyz"}'
REQ=invalid ex "a ref that is not one" 400:invalid_field KEY POST /api/v1/stacks/vpc/runs '{"ref":"a..b"}'
REQ=invalid ex "an unknown field" 400:unknown_field KEY POST /api/v1/stacks/vpc/runs '{"branch":"main"}'
ex "bob starts one" 403:forbidden READER_KEY POST /api/v1/stacks/vpc/runs '{}'
ex "no such stack" 404:not_found KEY POST /api/v1/stacks/nothing/runs '{}'
ex "a detached module" 409:stack_detached KEY POST /api/v1/stacks/mod-net/runs '{}'

# --- audit -----------------------------------------------------------------
ex "every change" 200 KEY GET /api/v1/audit
ex "a page of one space's" 200 KEY GET '/api/v1/audit?space=parentspace&limit=2'
NEXT=$(jget next)
ex "the next page" 200 KEY GET "/api/v1/audit?space=parentspace&limit=2&after=$NEXT"
ex "carol's own space" 200 OTHER_KEY GET '/api/v1/audit?space=otherspace'
ex "bob asks for ChildSpace's" 403:forbidden READER_KEY GET '/api/v1/audit?space=childspace'
ex "bob asks for every change" 403:forbidden READER_KEY GET /api/v1/audit
ex "carol asks for ParentSpace's" 404:not_found OTHER_KEY GET '/api/v1/audit?space=parentspace'
REQ=invalid ex "a cursor of 0" 400:invalid_field KEY GET '/api/v1/audit?after=0'

# --- what the rules refuse, deletions --------------------------------------
ex "a space that is not empty" 409:conflict KEY DELETE /api/v1/spaces/parentspace
ex "root" 409:conflict KEY DELETE /api/v1/spaces/root
ex "ChildSpace stops inheriting" 409:conflict KEY PATCH /api/v1/spaces/childspace '{"inherit":false}'
ex "bob deletes ChildSpace" 403:forbidden READER_KEY DELETE /api/v1/spaces/childspace
ex "no such space" 404:not_found KEY DELETE /api/v1/spaces/nowhere
ex "bob deletes GitLab Prod" 403:forbidden READER_KEY DELETE /api/v1/integrations/gitlab-prod
ex "GitLab Prod deleted" 204 KEY DELETE /api/v1/integrations/gitlab-prod
ex "again" 404:not_found KEY DELETE /api/v1/integrations/gitlab-prod
hook "a delivery to its URL" 404:not_found gitlab-prod "$PUSH" -H "X-Gitlab-Token: $SECRET"
ex "VPC is detached" 200 KEY GET /api/v1/stacks/vpc
ex "a detached stack runs" 409:stack_detached KEY POST /api/v1/stacks/vpc/runs '{}'
ex "the detached stacks" 200 KEY GET '/api/v1/stacks?integration=null'
ex "GitLab Prod again" 201 KEY POST /api/v1/integrations \
	'{"name":"GitLab Prod","space":"parentspace","api_host_url":"https://gitlab.example.com"}'
ex "VPC attached again" 200 KEY PATCH /api/v1/stacks/vpc '{"integration":"gitlab-prod"}'
ex "bob deletes VPC" 403:forbidden READER_KEY DELETE /api/v1/stacks/vpc
ex "DNS deleted" 204 KEY DELETE /api/v1/stacks/dns
ex "no such stack" 404:not_found KEY DELETE /api/v1/stacks/dns
ex "SiblingSpace deleted" 204 KEY DELETE /api/v1/spaces/siblingspace
ex "bob revokes dana" 403:forbidden READER_KEY DELETE /api/v1/spaces/childspace/members/dana.w@example.com
ex "bob's role revoked" 204 KEY DELETE /api/v1/spaces/childspace/members/bob
ex "again" 404:not_found KEY DELETE /api/v1/spaces/childspace/members/bob
REQ=invalid ex "a user name that is not one" 400:invalid_field KEY DELETE '/api/v1/spaces/childspace/members/b%20b'

# --- every documented path: another method is 405 with Allow ---------------
"$PY" "$CHECK" not-allowed "$SPEC" >"$T/not-allowed" 2>"$T/not-allowed.err" ||
	fail "openapi_check.py not-allowed ran cleanly" "$(cat "$T/not-allowed.err")"
while read -r method path allow; do
	ex "another method (the path takes $allow)" 405:method_not_allowed KEY "$method" "$path"
done <"$T/not-allowed"

HTTP_CMD=
# shellcheck disable=SC2016
check_eval "the responder is still up (nothing above crashed it)" \
	'kill -0 "$(responder_pid "$PIDFILE")" 2>/dev/null'

# ========================================================================
# (c) every answer against the document
# ========================================================================
run_check exchanges exchanges "$SPEC" "$EX"

done_testing
