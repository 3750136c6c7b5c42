#!/bin/bash
# Group commit across processes (SPEC §8), through real nginx (the
# repository's nginx/stackhook.conf) and four spawn-fcgi'd responders of
# one request thread each (-F 4, --threads 1): 200 pushes of as many
# commits, each with an Idempotency-Key of its own, from 16 clients at once.
#
# Counted, never timed.  What makes batches shared whatever the timing:
# another process holds the database's write lock while the pushes start,
# until the committer's shared file (spool/ingest.v1.shm) holds one queued
# delivery of each responder -- a responder of one thread serves one
# request at a time, so four queued deliveries are four processes'.  The
# first batch's writer waits on the lock; once it is let go, the others
# are written in batches of more than one.  Then:
#  - every push was answered 202, and the database holds each delivery and
#    its runs exactly once;
#  - /metrics: stackhook_ingest_batches_total grew by less than the
#    deliveries, and stackhook_deliveries_total{outcome="accepted"} by all;
#  - the spool's contract (spool.h, sh_ingest_commit): each batch that
#    created runs wrote one file into new/, named in spool_batches in its
#    transaction, holding one pending status per run it created -- so the
#    files are as many as the batches, and every run has exactly one entry;
#  - nothing half-written: no run without its delivery, no entry without
#    its run, nothing left in tmp/, integrity_check ok.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 sqlite3

FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
PROCS=4 PUSHES=200 CLIENTS=16
KEY=gc

web_instance
# Longer than the lock is held below: the queued pushes wait, none gives up.
echo "busy_timeout    = 30s" >>"$CONF"
# shellcheck disable=SC2034 # read by lib.sh
RESPONDER_THREADS=1
serve_responders "$PROCS" 1 128
PIDS=$(sort -n "$PIDFILE" | paste -sd ' ')

# threads PID: its thread count.
threads() {
	sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}
one_each=0
for p in $PIDS; do [ "$(threads "$p")" = 1 ] && one_each=$((one_each + 1)); done
check_eval "nginx + spawn-fcgi -F $PROCS: $PROCS responders (PIDs $PIDS) of one thread each" \
	'[ "$(echo $PIDS | wc -w)" = "$PROCS" ] && [ "$one_each" = "$PROCS" ]' ||
	diag "threads: $(for p in $PIDS; do echo "$p:$(threads "$p")"; done)"

api_json POST /api/v1/integrations \
	'{"name":"GitLab","type":"default","api_host_url":"https://gitlab.example.com","api_token":"glpat-GroupCommitToken0123456789"}'
check "default integration created (201)" status_is 201 || bail "cannot create the integration"
SECRET=$(jv 'd["webhook_secret"]')
check "stacks diaspora (master) and diaspora-dev (develop) on mike/diaspora" diaspora_stacks

# One push alone first: the runs a push makes (a tracked and a proposed).
push_bodies "$FIX/push.json" "$T/first" 1 f0
http POST "$BASE/webhooks/gitlab/gitlab" -H 'Content-Type: application/json' \
	-H 'X-Gitlab-Event: Push Hook' -H "X-Gitlab-Token: $SECRET" \
	-H 'Idempotency-Key: first' --data-binary "@$T/first/1.json"
RUNS=$(jv 'len(d["runs"])')
check_eval "a push alone: 202 with its 2 runs" 'status_is 202 && [ "$RUNS" = 2 ]'

# metric NAME: its value in /metrics (NAME with its labels, as printed).
metric() {
	http GET "$BASE/metrics"
	awk -v n="$1" '$1 == n { print $2 }' "$T/http.body"
}

# in_slots KEY: how many deliveries whose Idempotency-Key is KEY-<number>
# the committer's shared file holds (each slot keeps its delivery's key
# as a NUL-terminated string).  Read as root, as the kernel sees the map.
in_slots() {
	python3 -c '
import re, sys
data = open(sys.argv[1], "rb").read()
print(len(set(re.findall(re.escape(sys.argv[2].encode()) + rb"-[0-9]+\x00", data))))' \
		"$SPOOL/ingest.v1.shm" "$1" 2>/dev/null || echo 0
}

# -------------------------------------------- the pushes, queued -------

push_bodies "$FIX/push.json" "$T/pushes" "$PUSHES" a0
BATCHES0=$(metric stackhook_ingest_batches_total)
ACCEPTED0=$(metric 'stackhook_deliveries_total{outcome="accepted"}')
NEW0=$(spool_count new)
RECORDED0=$(count spool_batches)
# shellcheck disable=SC2034 # read in a check_eval
DELIVERIES0=$(count deliveries)

db_lock 120 || bail "another process cannot take the database's write lock: $(cat "$T/log/locker.err")"
send_hooks "$T/pushes" "$PUSHES" "$CLIENTS" "$KEY"
if wait_for '[ "$(in_slots "$KEY")" -ge "$PROCS" ]' 20; then
	pass "while another process holds the write lock, the shared file holds $PROCS queued pushes (one per responder)"
else
	fail "while another process holds the write lock, the shared file holds $PROCS queued pushes (one per responder)" \
		"it holds $(in_slots "$KEY")"
fi
check_eval "... none of them answered, none stored yet" \
	'[ "$(cat "$T/pushes"/answers.* 2>/dev/null | wc -l)" = 0 ] && [ "$(count deliveries)" = "$DELIVERIES0" ]'
check "the lock holder lets go" db_unlock
send_hooks_wait

# ------------------------------------------------------- counted -------

check_same "every client's push came back ($PUSHES)" "$(answered "$T/pushes")" "$PUSHES" \
	"$(grep -v ' 0$' "$T/pushes/answers" | head -n 5)"
check_same "... every one 202" "$(answered "$T/pushes" 202)" "$PUSHES" \
	"$(awk '$2 != 202' "$T/pushes/answers" | head -n 5)" "$(tail -n 5 "$LOG")"

ingest_state "$KEY-"
S=$T/stored.json
# got EXPR: the value of EXPR over what ingest_state found.
got() {
	jv "$1" "$S"
}
check_same "the database holds $PUSHES deliveries of these keys, each key once, all accepted" \
	"$(got '[d["deliveries"], d["keys"], d["accepted"]]')" "[$PUSHES, $PUSHES, $PUSHES]" \
	"$(cat "$T/stored.err")"
check_same "... and $((PUSHES * RUNS)) runs, $RUNS of each delivery" \
	"$(got '[d["runs"], d["runs_min"], d["runs_max"]]')" "[$((PUSHES * RUNS)), $RUNS, $RUNS]"

BATCHES=$(( $(metric stackhook_ingest_batches_total) - BATCHES0 ))
ACCEPTED=$(( $(metric 'stackhook_deliveries_total{outcome="accepted"}') - ACCEPTED0 ))
diag "$PUSHES deliveries in $BATCHES batches; the fullest spool file serves $(got 'd["most"]') deliveries"
check_same "/metrics: stackhook_deliveries_total{outcome=\"accepted\"} grew by $PUSHES" "$ACCEPTED" "$PUSHES"
check_eval "/metrics: stackhook_ingest_batches_total grew by less than the deliveries ($BATCHES < $PUSHES): batches were shared" \
	'[ "$BATCHES" -ge 1 ] && [ "$BATCHES" -lt "$PUSHES" ]'
check_eval "... a batch held deliveries of several responders: one spool file serves $(got 'd["most"]') of them (>= 2)" \
	'[ "$(got "d[\"most\"]")" -ge 2 ]'
check_same "one spool file per batch: new/ grew by $BATCHES files, all of them holding these runs" \
	"$(( $(spool_count new) - NEW0 )) $(got 'd["files"]')" "$BATCHES $BATCHES"
check_same "... each named in spool_batches by its transaction ($BATCHES rows more)" \
	"$(( $(count spool_batches) - RECORDED0 )) $(got 'd["unrecorded"]')" "$BATCHES 0"
check_same "every run has its spool entry, exactly one" \
	"$(got '[d["entries"], d["runs_once"]]')" "[$((PUSHES * RUNS)), $((PUSHES * RUNS))]"
check_same "nothing half-written: no run without its delivery, no entry without its run, tmp/ empty" \
	"$(got '[d["orphan_runs"], d["stray_entries"], d["tmp"]]')" "[0, 0, 0]"
check_eval "integrity_check of the database: ok" \
	'[ "$(as_run_user sqlite3 -cmd ".timeout 5000" "$DB" "PRAGMA integrity_check")" = ok ]'
alive=0
for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eval "the $PROCS responders served to the end (none died writing a batch)" \
	'[ "$alive" = "$PROCS" ] && ! grep -q "died while writing" "$LOG"'

if [ "$T_FAILED" != 0 ]; then
	show_log "$LOG"
	show_log "$N/error.log"
fi
done_testing
