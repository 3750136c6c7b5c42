#!/bin/bash
# Two web nodes sharing one PostgreSQL (SPEC §9): a throw-away server
# (tests/pg/server.sh), two responder instances -- node A and node B, each
# with its own config (the same database URI and secret key file), its own
# spool and its own spawn-fcgi socket -- behind ONE nginx `upstream` that
# round-robins over both sockets (the repository's nginx/stackhook.conf with
# fastcgi_pass pointed at the upstream), plus one small nginx server per
# node that reaches it directly.  The mock GitLab takes the reports.
#
#  1. deliveries spread over both nodes, each node's spool gets its own;
#  2. the same delivery sent to both nodes at once: one delivery, one set
#     of runs, the other answer `duplicate`;
#  3. an integration deleted through B: A answers 404 for its webhook;
#  4. runs created through A are listed (and shown) by B;
#  5. PostgreSQL killed (pg_ctl stop -m immediate) during and before a
#     delivery: 503 storage_unavailable, nothing partial; back: the same
#     delivery is 202, the responders were never restarted;
#  6. each node's `stackhook report` sends exactly its own spool entries;
#     together every run's pending status, none missing, none doubled.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/pg/server.sh"

require_programs nginx spawn-fcgi curl python3

FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
MOCK=$top_srcdir/tests/mock-gitlab/mock_gitlab.py
[ -f "$MOCK" ] || skip_all "tests/mock-gitlab/mock_gitlab.py is missing"

make_tmpdir
copy_programs
pg_up

PORT=$(free_port) || bail "no free port"
PORT_A=$(free_port) || bail "no free port"
PORT_B=$(free_port) || bail "no free port"
BASE=http://127.0.0.1:$PORT/stackhook     # the load balancer
BASE_A=http://127.0.0.1:$PORT_A/stackhook # node A alone
BASE_B=http://127.0.0.1:$PORT_B/stackhook # node B alone
SOCK_A=$T/run/a.sock
SOCK_B=$T/run/b.sock
SPOOL_A=$T/var/spool-a
SPOOL_B=$T/var/spool-b
CONF_A=$T/etc/node-a.conf
CONF_B=$T/etc/node-b.conf
N=$T/nginx
API_TOKEN=glpat-TwoNodesToken0123456789
SHA=da1560886d4f094c3e6c9ef40349f7d38b5d27d7

# node_config FILE SPOOL: one node's config -- the shared database and key,
# its own spool.  busy_timeout is long so that a 503 below is PostgreSQL
# going away, not a lock wait running out.
node_config() {
	cat >"$1" <<EOF
# stackhook two-node test: $(basename "$1")
database        = $PG_URI
spool           = $2
secret_key_file = $T/etc/secret.key
public_url      = $BASE
log             = stderr
busy_timeout    = 8s
EOF
	[ -n "$RUN_USER" ] && echo "user            = $RUN_USER" >>"$1"
	chmod 644 "$1"
}
node_config "$CONF_A" "$SPOOL_A"
node_config "$CONF_B" "$SPOOL_B"
"$SH_CLI" -c "$CONF_A" init --admin alice >"$T/log/init-a.out" 2>"$T/log/init-a.err" ||
	bail "init of node A failed: $(cat "$T/log/init-a.err")"
ADMIN_KEY=$(tail -n 1 "$T/log/init-a.out")
"$SH_CLI" -c "$CONF_B" init >"$T/log/init-b.out" 2>"$T/log/init-b.err" ||
	bail "init of node B failed: $(cat "$T/log/init-b.err")"
check_eval "node B's init finds the schema node A made, makes its own spool" \
	'grep -q "ok, schema" "$T/log/init-b.out" && [ -d "$SPOOL_B/new" ] && [ -d "$SPOOL_A/new" ]' ||
	diag "$(cat "$T/log/init-b.out")"

# ------------------------------------------------------------ helpers ----

# sql QUERY: one value (or rows, |-separated) from the shared database.
sql() {
	"$PSQL" -X -q -At -d "$PG_URI" -c "$1" 2>>"$T/log/psql.err"
}

pg_args="-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=on"
pg_kill() {
	$PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop \
		>>"$T/log/pg_ctl.out" 2>&1
}
pg_restart() {
	$PG_RUN "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "$pg_args" start >>"$T/log/pg_ctl.out" 2>&1
}

# api BASE METHOD PATH [CURL ARGS]: the admin API of BASE (either node, or
# the balancer) as alice; api_json BASE METHOD PATH JSON likewise.
api() {
	api_at "$1" "$ADMIN_KEY" "${@:2}"
}

api_json() {
	api_json_at "$1" "$ADMIN_KEY" "${@:2}"
}

# deliver BASE SLUG SECRET FILE KEY [EVENT]: one webhook delivery.
deliver() {
	http POST "$1/webhooks/gitlab/$2" -H 'Content-Type: application/json' \
		-H "X-Gitlab-Event: ${6:-Push Hook}" -H "X-Gitlab-Token: $3" \
		-H "Idempotency-Key: $5" --data-binary "@$4"
}

# deliver_bg OUT BASE SLUG SECRET FILE KEY: deliver in the background, the
# status in OUT.status, the body in OUT.body, the node in OUT.head.
deliver_bg() {
	curl -sS -X POST --max-time 20 -o "$1.body" -D "$1.head" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'X-Gitlab-Event: Push Hook' \
		-H "X-Gitlab-Token: $4" -H "Idempotency-Key: $6" --data-binary "@$5" \
		"$2/webhooks/gitlab/$3" >"$1.status" 2>"$1.err"
}

# push_for SHA: a copy of push.json on commit SHA (the file name printed).
push_for() {
	local f=$T/push-$1.json
	[ -f "$f" ] || python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["after"] = d["checkout_sha"] = sys.argv[2]
d["commits"][-1]["id"] = sys.argv[2]
json.dump(d, open(sys.argv[3], "w"))' "$FIX/push.json" "$1" "$f" || bail "cannot make $f"
	echo "$f"
}

# sha N: a 40-hex commit id made from the number N.
sha() {
	printf '%040x' "$1"
}

# node_of: which node answered the last request through the balancer
# (a or b, from the X-Stackhook-Node header nginx adds).
node_of() {
	local up
	up=$(tr -d '\r' <"${1:-$T/http.head}" | sed -n 's/^X-Stackhook-Node: *//Ip' | tail -n 1)
	case $up in
	*"$SOCK_A"*) echo a ;;
	*"$SOCK_B"*) echo b ;;
	*) echo "?$up" ;;
	esac
}

spool_files() {
	find "$1/$2" -mindepth 1 -maxdepth 1 -type f 2>/dev/null | wc -l
}

# spool_runs SPOOL: the run ids of every entry in SPOOL/new, sorted, one
# per line (a run repeats if it has several entries).
cat >"$T/spool.py" <<'PY'
import json, os, sys
spool, what = sys.argv[1], sys.argv[2]
out = []
for sub in ("new", "deferred"):
    d = os.path.join(spool, sub)
    for name in sorted(os.listdir(d)):
        for line in open(os.path.join(d, name)):
            if not line.strip():
                continue
            e = json.loads(line)
            if what == "runs":
                out.append(e["run"])
            else:
                r = e["request"]
                out.append("%s %s %s %s %s" % (r["method"], r["path"], r["body"].get("name"),
                                             r["body"].get("state"), r["body"].get("target_url")))
print("\n".join(sorted(out)))
PY
spool_runs() {
	python3 "$T/spool.py" "$1" runs
}
spool_requests() {
	python3 "$T/spool.py" "$1" requests
}

# mock_requests: the commit status POSTs the mock recorded since the last
# clear, as spool_requests prints them.
mock_requests() {
	curl -sS --max-time 10 "$GL/_mock/requests" | python3 -c '
import json, sys
out = []
for r in json.load(sys.stdin):
    if r["method"] == "POST" and "/statuses/" in r["path"]:
        b = r.get("body") or {}
        out.append("%s %s %s %s %s" % (r["method"], r["path"].split("/api/v4", 1)[1], b.get("name"),
                                     b.get("state"), b.get("target_url")))
print("\n".join(sorted(out)))'
}

# count TABLE: on the shared PostgreSQL (lib.sh's count reads SQLite).
count() {
	sql "SELECT count(*) FROM $1" || echo "?"
}

# state: rows and spool files, one line.
state() {
	echo "deliveries=$(count deliveries) runs=$(count runs) a.new=$(spool_files "$SPOOL_A" new) a.tmp=$(spool_files "$SPOOL_A" tmp) b.new=$(spool_files "$SPOOL_B" new) b.tmp=$(spool_files "$SPOOL_B" tmp)"
}

# ------------------------------------------------------------ servers ----

python3 "$MOCK" --port 0 --quiet --token "$API_TOKEN" >"$T/log/mock.out" 2>"$T/log/mock.err" &
track_pid "$!"
wait_for "grep -q '^ready [0-9]' '$T/log/mock.out'" 10 ||
	{ show_log "$T/log/mock.err"; bail "the mock GitLab did not start"; }
GL=http://127.0.0.1:$(awk '/^ready/ {print $2; exit}' "$T/log/mock.out")
curl -sS -o /dev/null -X POST "$GL/_mock/projects" -H 'Content-Type: application/json' \
	-d '{"id": 15, "path_with_namespace": "mike/diaspora", "default_branch": "master",
	     "branches": ["master", "develop"]}' || bail "cannot seed the mock"

# The responders in the foreground (spawn-fcgi -n), so their stderr -- the
# log -- is kept, one file per node.
user_opts=()
[ -n "$RUN_USER" ] && user_opts=(-u "$RUN_USER" -g "$RUN_GROUP")
for node in a b; do
	if [ $node = a ]; then sock=$SOCK_A conf=$CONF_A; else sock=$SOCK_B conf=$CONF_B; fi
	spawn-fcgi -n -s "$sock" -M 0660 "${user_opts[@]}" -- "$SH_FCGI" -c "$conf" \
		>>"$T/log/spawn-fcgi.out" 2>>"$T/log/responder-$node.err" &
	track_pid "$!"
	eval "PID_$node=\$!"
	wait_for "[ -S '$sock' ]" 5 ||
		{ show_log "$T/log/responder-$node.err"; bail "spawn-fcgi did not start node $node"; }
done

# nginx: the repository's snippet three times -- fastcgi_pass to the
# upstream on the balancer's port, to one socket on each node's own port.
mkdir -p "$N"
nginx_snippet "$N/lb.conf" stackhook_nodes && nginx_snippet "$N/a.conf" "unix:$SOCK_A" &&
	nginx_snippet "$N/b.conf" "unix:$SOCK_B" ||
	bail "nginx/stackhook.conf no longer names unix:/run/stackhook/stackhook.sock"
nginx_main_conf "$N" 1 64 "    # Round robin (nginx's default) over the two nodes.
    upstream stackhook_nodes {
        server unix:$SOCK_A;
        server unix:$SOCK_B;
    }
    # Which node answered, for the test only.
    add_header X-Stackhook-Node \$upstream_addr always;
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        include $N/lb.conf;
    }
    server {
        listen 127.0.0.1:$PORT_A;
        server_name localhost;
        include $N/a.conf;
    }
    server {
        listen 127.0.0.1:$PORT_B;
        server_name localhost;
        include $N/b.conf;
    }" || bail "no fastcgi_params"
nginx_start "$N" "$BASE/healthz" && wait_http "$BASE_A/healthz" 5 && wait_http "$BASE_B/healthz" 5 ||
	{ show_log "$N/error.log"; bail "nginx did not start"; }

seen=
for i in 1 2 3 4; do
	http GET "$BASE/healthz"
	status_is 200 && seen="$seen $(node_of)"
done
check_eval "the balancer's /healthz is 200 and alternates between the nodes (got:$seen)" \
	'[ "$seen" = " a b a b" ] || [ "$seen" = " b a b a" ]'
http GET "$BASE_A/api/v1/whoami" -H "Authorization: Bearer $ADMIN_KEY"
check_eval "node A alone: whoami alice (the key made by node A's init)" 'status_is 200 && json_str user alice'
http GET "$BASE_B/api/v1/whoami" -H "Authorization: Bearer $ADMIN_KEY"
check_eval "node B alone: whoami alice, admin of root (the same database)" \
	'status_is 200 && json_str user alice && json_str root admin'

# ------------------------------------------ integration and stacks ----

api_json "$BASE_A" POST /api/v1/integrations \
	"{\"name\":\"GitLab\",\"type\":\"default\",\"api_host_url\":\"$GL\",\"api_token\":\"$API_TOKEN\"}"
check "integration GitLab (api_host_url the mock) created through node A: 201" status_is 201 ||
	bail "cannot create the integration"
SECRET=$(jv 'd["webhook_secret"]')
api "$BASE_B" GET /api/v1/integrations/gitlab/details
check_eval "node B shows its details with the same webhook secret" \
	'status_is 200 && [ "$(jv "d[\"webhook_secret\"]")" = "$SECRET" ]'
check "stacks diaspora (master) and diaspora-dev (develop) created through the balancer" \
	diaspora_stacks "$BASE"

# ================================================= 1. spread ===========

NSPREAD=6
ok=0 nodes= bad=
: >"$T/answered-a" ; : >"$T/answered-b"
for i in $(seq 1 $NSPREAD); do
	deliver "$BASE" gitlab "$SECRET" "$(push_for "$(sha $((100 + i)))")" "spread-$$-$i"
	node=$(node_of)
	if status_is 202 && [ "$(jv 'len([r for r in d["runs"] if r["created"]])')" = 2 ]; then
		ok=$((ok + 1))
		nodes="$nodes $node"
		jv '"\n".join(r["id"] for r in d["runs"])' >>"$T/answered-$node"
	else
		bad="$bad $i"
		last_diag
	fi
done
check_eval "$NSPREAD pushes (distinct Idempotency-Keys) through the balancer: each 202 with 2 new runs" \
	'[ "$ok" = $NSPREAD ]' || diag "failed: $bad"
na=$(echo "$nodes" | tr ' ' '\n' | grep -c '^a$')
nb=$(echo "$nodes" | tr ' ' '\n' | grep -c '^b$')
check_eval "... spread over both nodes (A answered $na, B $nb)" \
	'[ "$na" -ge 1 ] && [ "$nb" -ge 1 ] && [ $((na + nb)) = $NSPREAD ]'
check_eval "... each node's spool/new got one file per delivery it answered (A $(spool_files "$SPOOL_A" new), B $(spool_files "$SPOOL_B" new))" \
	'[ "$(spool_files "$SPOOL_A" new)" = "$na" ] && [ "$(spool_files "$SPOOL_B" new)" = "$nb" ]'
check_eval "... and exactly the runs of its own answers (none in the other's spool)" \
	'[ "$(spool_runs "$SPOOL_A")" = "$(sort "$T/answered-a" | sed "/^$/d")" ] &&
	 [ "$(spool_runs "$SPOOL_B")" = "$(sort "$T/answered-b" | sed "/^$/d")" ]' ||
	diag "spool A: $(spool_runs "$SPOOL_A" | paste -sd ' ')" "answered A: $(sort "$T/answered-a" | paste -sd ' ')" \
		"spool B: $(spool_runs "$SPOOL_B" | paste -sd ' ')" "answered B: $(sort "$T/answered-b" | paste -sd ' ')"
check_eval "... the database holds $NSPREAD accepted deliveries and $((2 * NSPREAD)) runs" \
	'[ "$(sql "SELECT count(*) FROM deliveries WHERE outcome = '"'"'accepted'"'"'")" = $NSPREAD ] &&
	 [ "$(count runs)" = $((2 * NSPREAD)) ]'

# ======================================= 2. the same delivery at once ===

ROUNDS=5
ok=0
for i in $(seq 1 $ROUNDS); do
	key=race-$$-$i
	s=$(sha $((200 + i)))
	f=$(push_for "$s")
	before=$(state)
	deliver_bg "$T/race-a" "$BASE_A" gitlab "$SECRET" "$f" "$key" &
	p1=$!
	deliver_bg "$T/race-b" "$BASE_B" gitlab "$SECRET" "$f" "$key" &
	p2=$!
	wait $p1 $p2
	sa=$(cat "$T/race-a.status") sb=$(cat "$T/race-b.status")
	statuses=$(printf '%s\n%s\n' "$sa" "$sb" | sort | paste -sd ' ')
	if [ "$sa" = 202 ]; then win=a lose=b; else win=b lose=a; fi
	rows=$(sql "SELECT outcome FROM deliveries WHERE key = '$key' ORDER BY outcome" | paste -sd ' ')
	runs=$(sql "SELECT count(*) FROM runs WHERE sha = '$s'")
	files=$(grep -l -- "$s" "$SPOOL_A"/new/* "$SPOOL_B"/new/* 2>/dev/null | wc -l)
	winner_file=$(grep -l -- "$s" "$T/var/spool-$win"/new/* 2>/dev/null | wc -l)
	dup=$(jv 'd.get("status")' "$T/race-$lose.body")
	if [ "$statuses" = "200 202" ] && [ "$dup" = duplicate ] &&
	   [ "$rows" = "accepted duplicate" ] && [ "$runs" = 2 ] &&
	   [ "$files" = 1 ] && [ "$winner_file" = 1 ] &&
	   [ "$(jv 'len(d["runs"])' "$T/race-$win.body")" = 2 ]; then
		ok=$((ok + 1))
	else
		diag "round $i (key $key): answers A $sa B $sb ($statuses), loser says '$dup'" \
			"delivery rows for the key: '$rows' (want 'accepted duplicate'), runs on the commit: $runs (want 2)" \
			"spool files naming the commit: $files (want 1, in the winner's spool: $winner_file)" \
			"A: $(head -c 300 "$T/race-a.body") $(cat "$T/race-a.err")" \
			"B: $(head -c 300 "$T/race-b.body") $(cat "$T/race-b.err")" \
			"state before: $before" "state after:  $(state)"
	fi
done
check_eval "the same delivery (same Idempotency-Key) to A and B at once, $ROUNDS times: each time one 202 with 2 runs, the other 200 duplicate, one accepted delivery row (+ the duplicate's), 2 runs, one spool file in the winner's spool ($ok/$ROUNDS)" \
	'[ "$ok" = $ROUNDS ]'

# The same push under two different keys (two webhooks on one project)
# at once: both accepted, one run per stack, commit and kind.
s=$(sha 300)
f=$(push_for "$s")
deliver_bg "$T/twin-a" "$BASE_A" gitlab "$SECRET" "$f" "twin-a-$$" &
p1=$!
deliver_bg "$T/twin-b" "$BASE_B" gitlab "$SECRET" "$f" "twin-b-$$" &
p2=$!
wait $p1 $p2
ids_a=$(jv 'sorted(r["id"] for r in d["runs"])' "$T/twin-a.body")
ids_b=$(jv 'sorted(r["id"] for r in d["runs"])' "$T/twin-b.body")
created=$(cat "$T/twin-a.body" "$T/twin-b.body" | grep -o '"created":[a-z]*' | sort | uniq -c | tr -s ' ' | paste -sd ',')
check_eval "the same push under two keys to A and B at once: both 202 naming the same 2 runs (created: $created), 2 runs in the database" \
	'[ "$(cat "$T/twin-a.status") $(cat "$T/twin-b.status")" = "202 202" ] && [ "$ids_a" = "$ids_b" ] &&
	 [ "$(sql "SELECT count(*) FROM runs WHERE sha = '"'"'$s'"'"'")" = 2 ] &&
	 [ "$created" = " 2 \"created\":false, 2 \"created\":true" ]' ||
	diag "A: $(cat "$T/twin-a.status") $(head -c 400 "$T/twin-a.body")" \
		"B: $(cat "$T/twin-b.status") $(head -c 400 "$T/twin-b.body")"

# ========================================= 3. integration deleted on B ==

api_json "$BASE_A" POST /api/v1/integrations \
	"{\"name\":\"Doomed\",\"type\":\"space\",\"space\":\"root\",\"api_host_url\":\"$GL\",\"api_token\":\"$API_TOKEN\"}"
check "space integration Doomed created through node A: 201" status_is 201
DOOMED_SECRET=$(jv 'd["webhook_secret"]')
# It follows nothing: its webhook is answered (200 ignored) without runs.
deliver "$BASE_A" doomed "$DOOMED_SECRET" "$(push_for "$(sha 400)")" "doomed-1-$$"
check_eval "node A answers Doomed's webhook (200 ignored: no stack follows)" \
	'status_is 200 && json_str status ignored'
deliver "$BASE_B" doomed "$DOOMED_SECRET" "$(push_for "$(sha 401)")" "doomed-2-$$"
check_eval "... so does node B" 'status_is 200 && json_str status ignored'
api "$BASE_B" DELETE /api/v1/integrations/doomed
check "DELETE /api/v1/integrations/doomed through node B: 204" status_is 204
BEFORE=$(state)
deliver "$BASE_A" doomed "$DOOMED_SECRET" "$(push_for "$(sha 402)")" "doomed-3-$$"
check_eval "node A now answers 404 not_found for Doomed's webhook, nothing stored" \
	'json_error 404 not_found && [ "$(state)" = "$BEFORE" ]' || diag "before: $BEFORE" "after:  $(state)"
deliver "$BASE_B" doomed "$DOOMED_SECRET" "$(push_for "$(sha 403)")" "doomed-4-$$"
check "... and node B too" json_error 404 not_found
api "$BASE_A" GET /api/v1/integrations/doomed
check "node A's admin API no longer knows it (404)" json_error 404 not_found

# ================================================ 4. runs across nodes =

: >"$T/runs-on-a"
ok=0
for i in 1 2; do
	deliver "$BASE_A" gitlab "$SECRET" "$(push_for "$(sha $((500 + i)))")" "on-a-$$-$i"
	status_is 202 && ok=$((ok + 1)) && jv '"\n".join(r["id"] for r in d["runs"])' >>"$T/runs-on-a"
done
api_json "$BASE_A" POST /api/v1/stacks/diaspora/runs "{\"commit\":\"$(sha 510)\"}"
status_is 201 && ok=$((ok + 1)) && jv 'd["id"]' >>"$T/runs-on-a"
check_eval "runs created through node A: 2 pushes (202) and a manual run (201)" '[ "$ok" = 3 ]'
MANUAL_RUN=$(tail -n 1 "$T/runs-on-a")
api "$BASE_B" GET "/api/v1/runs?limit=100"
check_eval "node B lists all $(wc -l <"$T/runs-on-a") of them" \
	'status_is 200 && [ "$(jv "len(set(r[\"id\"] for r in d[\"items\"]) & set(open(\"$T/runs-on-a\").read().split()))")" = "$(wc -l <"$T/runs-on-a")" ]'
api "$BASE_A" GET "/api/v1/runs/$MANUAL_RUN"
cp "$T/http.body" "$T/manual-a.json"
api "$BASE_B" GET "/api/v1/runs/$MANUAL_RUN"
check_eval "node B shows the manual run exactly as node A does" \
	'status_is 200 && [ "$(jv "d" "$T/manual-a.json")" = "$(jv "d")" ]'
api_json "$BASE_B" POST "/api/v1/runs/$MANUAL_RUN/transitions" '{"state":"preparing"}'
check "node B moves it to preparing: 200" status_is 200
api "$BASE_A" GET "/api/v1/runs/$MANUAL_RUN"
check_eval "... and node A sees it preparing" 'status_is 200 && [ "$(jv "d[\"state\"]")" = preparing ]'

# ================================= 5. PostgreSQL killed and restarted ==

BEFORE=$(state)
AUDIT_BEFORE=$(count audit)
ls "$SPOOL_A/new" "$SPOOL_B/new" >"$T/spool.before"
KILL_SHA=$(sha 600)
KILL_FILE=$(push_for "$KILL_SHA")
KILL2_SHA=$(sha 601)
KILL2_FILE=$(push_for "$KILL2_SHA")

# (a) during a delivery: another session holds the deliveries table, node
# A's delivery waits inside its transaction, and PostgreSQL dies.
"$PSQL" -X -q -d "$PG_URI" -c "BEGIN; LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT;" \
	>"$T/log/locker.out" 2>&1 &
LOCKER=$!
track_pid "$LOCKER"
if wait_for "[ \"\$(sql \"SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'deliveries' AND l.mode = 'AccessExclusiveLock' AND l.granted\")\" = 1 ]" 10; then
	t0=$(date +%s%N)
	deliver_bg "$T/kill-a" "$BASE_A" gitlab "$SECRET" "$KILL_FILE" "kill-$$" &
	DPID=$!
	# Until the delivery waits for the lock (then give it a moment more).
	wait_for "[ \"\$(sql \"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'\")\" -ge 1 ]" 5 ||
		diag "no session waited for the lock"
	pg_kill || diag "pg_ctl stop -m immediate failed: $(tail -n 3 "$T/log/pg_ctl.out")"
	wait "$DPID"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	wait "$LOCKER" 2>/dev/null
	cp "$T/kill-a.body" "$T/http.body"
	cp "$T/kill-a.head" "$T/http.head"
	HTTP_STATUS=$(cat "$T/kill-a.status") HTTP_RC=0 HTTP_CMD="POST $BASE_A/webhooks/gitlab/gitlab (PostgreSQL killed while it waited)"
	check_eval "PostgreSQL killed while node A's delivery waited in its transaction: 503 storage_unavailable with Retry-After (after ${ms} ms, busy_timeout 8 s)" \
		'json_error 503 storage_unavailable && header_is Retry-After "[0-9]+" && [ "$ms" -lt 7000 ]'
	check_eval "... no path or database address in the answer" \
		'! grep -qF -e "$T" -e "$PG_PORT" "$T/http.body"'
else
	fail "another session holds the deliveries table" "$(cat "$T/log/locker.out")"
	pg_kill
fi

# (b) just before a delivery: PostgreSQL is down when it comes, to either
# node (B has not touched the database since it went down).
deliver "$BASE_B" gitlab "$SECRET" "$KILL2_FILE" "kill2-$$"
check "PostgreSQL down: a delivery to node B is 503 storage_unavailable" \
	json_error 503 storage_unavailable
check "... with Retry-After, as node A's 503 above (SPEC §4.1 step 9; tests/integration/webhook.sh)" \
	header_is Retry-After "[0-9]+"
check_eval "... node B logged the refused delivery's Idempotency-Key (kill2-$$), for a resend from GitLab (SPEC §4.1 step 9)" \
	'grep -qF "kill2-$$" "$T/log/responder-b.err"'
deliver "$BASE_A" gitlab "$SECRET" "$KILL_FILE" "kill-$$"
check "... node A answers the first delivery's resend 503 storage_unavailable too" \
	json_error 503 storage_unavailable
http GET "$BASE_A/healthz"
check_eval "... node A's /healthz is 503" 'status_is 503 && is_json'
api "$BASE_B" GET /api/v1/runs
check_eval "... node B's admin API: 503 storage_unavailable, not a 500" 'json_error 503 storage_unavailable'
check_eval "... no spool file appeared on either node (new/ as before, tmp/ empty)" \
	'ls "$SPOOL_A/new" "$SPOOL_B/new" | cmp -s - "$T/spool.before" &&
	 [ "$(spool_files "$SPOOL_A" tmp)" = 0 ] && [ "$(spool_files "$SPOOL_B" tmp)" = 0 ]'
check_eval "... both responders still run" \
	'kill -0 "$PID_a" 2>/dev/null && kill -0 "$PID_b" 2>/dev/null && ! is_zombie "$PID_a" && ! is_zombie "$PID_b"'

pg_restart || bail "cannot restart PostgreSQL: $(tail -n 5 "$T/log/pg_ctl.out" "$PG_DIR/server.log")"
pass "PostgreSQL restarted on the same port (crash recovery)"
AFTER=$(state)
check_eval "after the restart: deliveries, runs and spools exactly as before the kill, audit unchanged" \
	'[ "$AFTER" = "$BEFORE" ] && [ "$(count audit)" = "$AUDIT_BEFORE" ]' ||
	diag "before: $BEFORE" "after:  $AFTER"
check_eval "... no delivery row for either refused key, no run on either commit" \
	'[ "$(sql "SELECT count(*) FROM deliveries WHERE key IN ('"'"'kill-$$'"'"', '"'"'kill2-$$'"'"')")" = 0 ] &&
	 [ "$(sql "SELECT count(*) FROM runs WHERE sha IN ('"'"'$KILL_SHA'"'"', '"'"'$KILL2_SHA'"'"')")" = 0 ]'

# Service resumes.  Strictly: the very first request to each node after
# the restart succeeds; then, whatever that gave, the delivery is resent
# (as GitLab would) until it is no longer 503, at most 12 times.
# resume BASE FILE KEY: ATTEMPTS is how many tries it took.
resume() {
	ATTEMPTS=0
	while [ "$ATTEMPTS" -lt 12 ]; do
		ATTEMPTS=$((ATTEMPTS + 1))
		deliver "$1" gitlab "$SECRET" "$2" "$3"
		[ "$HTTP_STATUS" = 503 ] || break
	done
}
resume "$BASE_A" "$KILL_FILE" "kill-$$"
check_eval "back: node A's first request after the restart -- the same delivery -- is answered, not 503 (took $ATTEMPTS attempts)" \
	'[ "$ATTEMPTS" = 1 ]'
check_eval "... node A accepts it: 202 with 2 new runs" \
	'status_is 202 && [ "$(jv "sum(1 for r in d[\"runs\"] if r[\"created\"])")" = 2 ]'
resume "$BASE_B" "$KILL2_FILE" "kill2-$$"
check_eval "... node B's first request after the restart (the delivery it refused) is answered, not 503 (took $ATTEMPTS attempts)" \
	'[ "$ATTEMPTS" = 1 ]'
check_eval "... node B accepts it: 202 with 2 new runs" \
	'status_is 202 && [ "$(jv "sum(1 for r in d[\"runs\"] if r[\"created\"])")" = 2 ]'
deliver "$BASE_B" gitlab "$SECRET" "$KILL_FILE" "kill-$$"
check_eval "... node A's, resent to node B: 200 duplicate" \
	'status_is 200 && json_str status duplicate'
check_eval "... its runs went to node A's spool, none to B's" \
	'[ "$(grep -l -- "$KILL_SHA" "$SPOOL_A"/new/* 2>/dev/null | wc -l)" = 1 ] &&
	 [ "$(grep -l -- "$KILL_SHA" "$SPOOL_B"/new/* 2>/dev/null | wc -l)" = 0 ]'
http GET "$BASE_A/healthz"
check "... node A's /healthz is 200 again" status_is 200
check_eval "... by the same responder processes (never restarted)" \
	'kill -0 "$PID_a" 2>/dev/null && kill -0 "$PID_b" 2>/dev/null && ! is_zombie "$PID_a" && ! is_zombie "$PID_b"'

# ===================================== 6. each node reports its own ====

# report NODE: `stackhook report` with that node's config, as cron runs it.
report() {
	local conf
	if [ "$1" = a ]; then conf=$CONF_A; else conf=$CONF_B; fi
	"$SH_CLI" -c "$conf" report >"$T/report-$1.out" 2>"$T/report-$1.err"
	REPORT_RC=$?
	SUMMARY=$(grep -E '^sent [0-9]+, coalesced [0-9]+, deferred [0-9]+, failed [0-9]+$' \
		"$T/report-$1.out" | tail -n 1)
}

spool_requests "$SPOOL_A" >"$T/want-a"
spool_requests "$SPOOL_B" >"$T/want-b"
WA=$(grep -c . "$T/want-a")
WB=$(grep -c . "$T/want-b")
curl -sS -o /dev/null -X DELETE "$GL/_mock/requests"
for node in a b; do
	if [ $node = a ]; then W=$WA; else W=$WB; fi
	NODE=$(echo $node | tr a-z A-Z)
	report $node
	check_eval "node $NODE's report: exit 0, sent $W (its own spool entries), nothing failed" \
		'[ "$REPORT_RC" = 0 ] && [ "$SUMMARY" = "sent $W, coalesced 0, deferred 0, failed 0" ]' ||
		diag "exit status $REPORT_RC, summary '$SUMMARY'" "$(tail -n 5 "$T/report-$node.err")"
	mock_requests >"$T/got-$node"
	check_eval "... the mock got exactly node $NODE's entries: $W pending statuses, the same paths, names and target URLs" \
		'cmp -s "$T/want-$node" "$T/got-$node"' ||
		diag "want:" "$(head -n 6 "$T/want-$node")" "got:" "$(head -n 6 "$T/got-$node")" \
			"only wanted: $(comm -23 "$T/want-$node" "$T/got-$node" | wc -l), only got: $(comm -13 "$T/want-$node" "$T/got-$node" | wc -l)"
	curl -sS -o /dev/null -X DELETE "$GL/_mock/requests"
	check_eval "... node $NODE's spool is empty afterwards" \
		'[ "$(find "$T/var/spool-$node"/new "$T/var/spool-$node"/deferred "$T/var/spool-$node"/failed -type f | wc -l)" = 0 ]'
done

# Together: one pending status per run, named for its stack and kind, on
# its commit -- nothing missing, nothing doubled -- and the manual run's
# running (it was moved to preparing through node B: queued in B's spool,
# while its pending, from its creation through A, was in A's).
api "$BASE" GET "/api/v1/runs?limit=100"
jv '"\n".join("%s %s pending" % (r["id"], "stackhook/" + r["stack"] + ("/proposed" if r["kind"] == "proposed" else "")) for r in d["items"])' >"$T/runs.want0"
{ cat "$T/runs.want0"; echo "$MANUAL_RUN stackhook/diaspora running"; } | sort >"$T/runs.want"
cat "$T/got-a" "$T/got-b" | python3 -c '
import sys
out = []
for line in sys.stdin:
    if not line.strip():
        continue
    method, path, name, state, url = line.split()
    out.append("%s %s %s" % (url.rstrip("/").rsplit("/", 1)[1], name, state))
print("\n".join(sorted(out)))' >"$T/runs.got"
check_eval "together the nodes sent one pending status per run ($(grep -c . "$T/runs.want0") runs; $(grep -c . "$T/runs.got") statuses, with the manual run's running): none missing, none doubled, none foreign" \
	'[ "$(grep -c . "$T/runs.want0")" -ge $((2 * NSPREAD)) ] && cmp -s "$T/runs.want" "$T/runs.got"' ||
	diag "missing: $(comm -23 "$T/runs.want" "$T/runs.got" | paste -sd ' ')" \
		"extra:   $(comm -13 "$T/runs.want" "$T/runs.got" | paste -sd ' ')"
check_eval "... the manual run's pending was sent by node A (created there), its running by node B (moved there)" \
	'[ "$(grep "/$MANUAL_RUN\$" "$T/got-a" | cut -d" " -f4 | paste -sd " ")" = pending ] &&
	 [ "$(grep "/$MANUAL_RUN\$" "$T/got-b" | cut -d" " -f4 | paste -sd " ")" = running ]'
check_eval "... their target URLs are the balancer's (public_url), never a node's" \
	'! grep -q -e ":$PORT_A/" -e ":$PORT_B/" "$T/got-a" "$T/got-b" && grep -q ":$PORT/" "$T/got-a"'
curl -sS --max-time 10 "$GL/_mock/state" >"$T/mock-state.json"
report a
ra=$SUMMARY
report b
check_eval "reports again on both nodes: nothing left to send (A: $ra; B: $SUMMARY)" \
	'[ "$ra" = "sent 0, coalesced 0, deferred 0, failed 0" ] && [ "$SUMMARY" = "sent 0, coalesced 0, deferred 0, failed 0" ]'

# Entries of one run in two spools: created through A (pending in A's
# spool), moved through B (running in B's).  B's reporter runs first: GitLab
# must still end with the run's latest state, and A's late pending must not
# count as a failure nor take the status back to pending.
api_json "$BASE_A" POST /api/v1/stacks/diaspora/runs "{\"commit\":\"$(sha 700)\"}"
LATE_RUN=$(jv 'd["id"]')
api_json "$BASE_B" POST "/api/v1/runs/$LATE_RUN/transitions" '{"state":"preparing"}'
check_eval "a manual run created through A (201), moved to preparing through B (200)" \
	'status_is 200 && [ -n "$LATE_RUN" ]'
curl -sS -o /dev/null -X DELETE "$GL/_mock/requests"
report b
rb=$SUMMARY
report a
ra=$SUMMARY
curl -sS --max-time 10 "$GL/api/v4/projects/15/repository/commits/$(sha 700)/statuses?all=true" \
	-H "PRIVATE-TOKEN: $API_TOKEN" -o "$T/late.json"
late=$(jv '" ".join("%s:%s" % (x["name"], x["status"]) for x in d)' "$T/late.json")
check_eval "B reports first (its running: $rb), then A (its pending: $ra): nothing failed" \
	'[ "$rb" = "sent 1, coalesced 0, deferred 0, failed 0" ] && case "$ra" in *", failed 0") true ;; *) false ;; esac' ||
	diag "A's stderr: $(tail -n 3 "$T/report-a.err")" "mock: $(mock_requests)"
check_eval "... GitLab's status for the run is running, its latest state (got: $late)" \
	'[ "$late" = "stackhook/diaspora:running" ]'

# ------------------------------------------------------------- logs ----

check_eval "no webhook secret or API token in the responders' logs" \
	'! grep -qF -e "$SECRET" -e "$DOOMED_SECRET" -e "$API_TOKEN" "$T/log/responder-a.err" "$T/log/responder-b.err"'

if [ "$T_FAILED" != 0 ]; then
	grep -v '\[info\]' "$N/error.log" >"$N/error.log.short"
	show_log "$N/error.log.short"
	show_log "$T/log/responder-a.err"
	show_log "$T/log/responder-b.err"
	show_log "$PG_DIR/server.log"
fi
done_testing
