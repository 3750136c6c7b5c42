# shellcheck shell=bash
# Helpers for the integration tests that talk to the tests' mock GitLab
# (tests/mock-gitlab/mock_gitlab.py), sourced after lib.sh.  The whole
# script is skipped when the mock is missing.
#
# GL is the base URL of the mock the test talks to (set it after
# mock_start: GL=http://127.0.0.1:$MOCK_PORT).

# shellcheck disable=SC2154 # top_srcdir: lib.sh makes sure of it
MOCK=$top_srcdir/tests/mock-gitlab/mock_gitlab.py
[ -f "$MOCK" ] || skip_all "tests/mock-gitlab/mock_gitlab.py is missing"

# mock_start NAME PORT [ARGS...]: a mock GitLab on 127.0.0.1:PORT (0: any
# free port), more mock_gitlab.py options in ARGS; its output in
# $T/log/mock-NAME.out and .err.  MOCK_PORT, MOCK_PID; 1 when it did not
# say it is ready within 10 s.
mock_start() {
	local name=$1 port=$2
	shift 2
	: >"$T/log/mock-$name.out"
	python3 "$MOCK" --port "$port" --quiet "$@" >"$T/log/mock-$name.out" \
		2>>"$T/log/mock-$name.err" &
	MOCK_PID=$!
	track_pid "$MOCK_PID"
	wait_for "grep -q '^ready [0-9]' '$T/log/mock-$name.out'" 10 || return 1
	# shellcheck disable=SC2034 # for the caller
	MOCK_PORT=$(awk '/^ready/ {print $2; exit}' "$T/log/mock-$name.out")
}

# mock_main [ARGS...]: the test's own mock GitLab, mock_start main on any
# free port with ARGS; bails when it does not start.  GL is its URL, GL_PID
# its pid.
mock_main() {
	mock_start main 0 "$@" ||
		{ show_log "$T/log/mock-main.err"; bail "the mock GitLab did not start"; }
	GL=http://127.0.0.1:$MOCK_PORT
	# shellcheck disable=SC2034 # for the caller
	GL_PID=$MOCK_PID
}

# seed_mr IID STATE SOURCE TARGET SHA [COMMIT...]: one merge request of a
# --seed project, as JSON: its head SHA and its COMMITs (default: SHA).
seed_mr() {
	local iid=$1 state=$2 source=$3 target=$4 sha=$5 commits
	shift 5
	[ $# -gt 0 ] || set -- "$sha"
	commits=$(printf '"%s", ' "$@")
	printf '{"iid": %s, "state": "%s", "source_branch": "%s", "target_branch": "%s",\n' \
		"$iid" "$state" "$source" "$target"
	printf '   "sha": "%s", "commits": [%s]}' "$sha" "${commits%, }"
}

# seed_diaspora MR...: the --seed project of the webhook fixtures
# (tests/fixtures/gitlab/webhooks: 15, mike/diaspora), branches master and
# develop, with the merge requests MR (seed_mr), as JSON.
seed_diaspora() {
	local IFS=,
	printf '{"id": 15, "path_with_namespace": "mike/diaspora", "default_branch": "master",\n'
	printf ' "branches": ["master", "develop"], "merge_requests": [%s]}' "$*"
}

# ctl_at MOCK-URL METHOD PATH [JSON]: the control API of the mock at
# MOCK-URL (answer in $T/ctl.json); 0 on a 2xx answer.
ctl_at() {
	local url=$1 method=$2 path=$3
	if [ $# -ge 4 ]; then
		curl -sS -X "$method" --max-time 10 -H 'Content-Type: application/json' \
			--data-binary "$4" -o "$T/ctl.json" -w '%{http_code}' "$url/_mock/$path"
	else
		curl -sS -X "$method" --max-time 10 -o "$T/ctl.json" -w '%{http_code}' \
			"$url/_mock/$path"
	fi >"$T/ctl.status" 2>"$T/ctl.err"
	grep -q '^2' "$T/ctl.status"
}

# ctl METHOD PATH [JSON]: ctl_at the mock at $GL.
ctl() {
	ctl_at "$GL" "$@"
}

# fault_taken ID [MOCK-URL]: the mock's fault ID (a count of 1) is used
# up, i.e. the request it delays or answers has reached the mock.
fault_taken() {
	ctl_at "${2:-$GL}" GET faults &&
		python3 -c 'import json, sys
sys.exit(any(f["id"] == int(sys.argv[2]) for f in json.load(open(sys.argv[1]))))' "$T/ctl.json" "$1"
}

# clear_requests [MOCK-URL]: the mock (default: $GL) forgets the requests
# it recorded so far; bails when it cannot.
clear_requests() {
	ctl_at "${1:-$GL}" DELETE requests || bail "cannot clear the mock's requests"
}

# mq EXPR [MOCK-URL]: the Python expression EXPR (tests/integration/mq.py:
# its names and helpers) over what the mock at MOCK-URL (default: $GL)
# saw: R, the requests it recorded since the last clear_requests -- or,
# with MQ_RECORD set, every request in that --record file --, S, its state,
# K, its tokens (with MQ_TOKENS=1) and WURL ($WURL).  The answers it read
# are kept in $T/mq.requests, .state and .tokens.
MQ_PY=$top_srcdir/tests/integration/mq.py
MQ_RECORD=
MQ_TOKENS=0
mq() {
	local url=${2:-$GL} args=()
	if [ -n "$MQ_RECORD" ]; then
		args+=(--record "$MQ_RECORD")
	else
		curl -sS --max-time 10 -o "$T/mq.requests" "$url/_mock/requests" ||
			{ echo "<mock unreachable>"; return 1; }
		args+=(--requests "$T/mq.requests")
	fi
	curl -sS --max-time 10 -o "$T/mq.state" "$url/_mock/state" ||
		{ echo "<mock unreachable>"; return 1; }
	args+=(--state "$T/mq.state")
	if [ "$MQ_TOKENS" = 1 ]; then
		curl -sS --max-time 10 -o "$T/mq.tokens" "$url/_mock/tokens" ||
			{ echo "<mock unreachable>"; return 1; }
		args+=(--tokens "$T/mq.tokens")
	fi
	python3 "$MQ_PY" "${args[@]}" --webhook-url "${WURL:-}" -- "$1"
}
