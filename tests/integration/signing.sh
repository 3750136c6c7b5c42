#!/bin/bash
# Signed webhooks (SPEC §3 signing_token, §4.1 step 2): GitLab's signing
# token in the Standard Webhooks format, through real nginx and a
# spawn-fcgi'd responder.  The test computes signatures itself (python3
# hmac) and checks one published Standard Webhooks test vector.
#
#  - a valid webhook-signature (and the right X-Gitlab-Token) → 202; several
#    space-separated signatures with one valid → accepted;
#  - wrong signature, tampered body or id, missing headers, a timestamp 6
#    minutes off, a wrong or missing X-Gitlab-Token → 401, nothing stored;
#  - the vector's own (2021) timestamp is refused, the same computation with
#    a current timestamp passes;
#  - an integration without a signing token ignores the headers; clearing
#    and replacing the token through PATCH.
. "$top_srcdir/tests/integration/lib.sh"

require_programs nginx spawn-fcgi curl python3 sqlite3

FIX=$top_srcdir/tests/fixtures/gitlab/webhooks
web_instance

# The Standard Webhooks specification's example (its README and the test
# suites of its libraries).
VEC_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
VEC_ID=msg_p5jXN8AQM9LWM0D4loKWxJek
VEC_TS=1614265330
VEC_BODY='{"test": 2432232314}'
VEC_SIG='v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

# A signing token as GitLab makes them: whsec_ and the base64 of 32 bytes.
new_signing_token() {
	python3 -c 'import base64, os; print("whsec_" + base64.b64encode(os.urandom(32)).decode())'
}
SIGNING=$(new_signing_token)
SIGNING2=$(new_signing_token)

serve_instance

# ------------------------------------------------------------ helpers ----

now() {
	date +%s
}

# state: what a delivery stores -- deliveries, runs, spool files.
state() {
	echo "deliveries=$(count deliveries) runs=$(count runs) new=$(spool_names new) tmp=$(spool_names tmp)"
}

N_ID=0
# post SLUG TOKEN FILE [ID TIMESTAMP SIGNATURE] [CURL ARGS...]: one delivery
# as GitLab sends a signed one (webhook-id is the Idempotency-Key).  An
# empty TOKEN, ID, TIMESTAMP or SIGNATURE leaves that header out; ID "+"
# is a fresh one.
post() {
	local slug=$1 token=$2 file=$3 id=${4:-} ts=${5:-} sig=${6:-} hdr=()
	shift 3
	[ $# -ge 3 ] && shift 3 || shift $#
	if [ "$id" = + ]; then
		N_ID=$((N_ID + 1))
		id=msg_sign_$$_$N_ID
	fi
	[ -n "$token" ] && hdr+=(-H "X-Gitlab-Token: $token")
	[ -n "$id" ] && hdr+=(-H "webhook-id: $id" -H "Idempotency-Key: $id")
	[ -n "$ts" ] && hdr+=(-H "webhook-timestamp: $ts")
	[ -n "$sig" ] && hdr+=(-H "webhook-signature: $sig")
	LAST_ID=$id
	http POST "$BASE/webhooks/gitlab/$slug" -H 'Content-Type: application/json' \
		-H 'X-Gitlab-Event: Push Hook' "${hdr[@]}" --data-binary "@$file" "$@"
}

# signed SLUG TOKEN SIGNING-TOKEN FILE [AGE]: a delivery signed right,
# AGE seconds ago (negative: ahead).
signed() {
	local ts id
	ts=$(($(now) - ${5:-0}))
	N_ID=$((N_ID + 1))
	id=msg_sign_$$_$N_ID
	post "$1" "$2" "$4" "$id" "$ts" "$(sign "$3" "$id" "$ts" "$4")"
}

# refused DESC: the last answer is 401 unauthorized and the stored state is
# still $BEFORE.
refused() {
	local after
	after=$(state)
	if json_error 401 unauthorized && [ "$after" = "$BEFORE" ]; then
		pass "$1"
	else
		fail "$1" "stored before: $BEFORE" "stored after:  $after"
		last_diag
	fi
}

# accepted DESC: 202 accepted, one more delivery stored.
accepted() {
	if status_is 202 && json_str status accepted &&
	   [ "$(count deliveries)" = $((DELIVERIES + 1)) ]; then
		pass "$1"
	else
		fail "$1" "deliveries: $DELIVERIES before, $(count deliveries) after"
		last_diag
	fi
}

# mark: remember the stored state before a request ($BEFORE, $DELIVERIES).
mark() {
	BEFORE=$(state)
	DELIVERIES=$(count deliveries)
}

# ------------------------------------------------------ integrations ----

api_json POST /api/v1/integrations \
	'{"name":"Bad Signing","type":"space","space":"root","api_host_url":"https://gitlab.example.com","signing_token":"whsec_not*base64!"}'
check_eval "signing_token that is not whsec_ + base64: 400 invalid_field naming it" \
	'json_error 400 invalid_field && json_str field signing_token'
api_json POST /api/v1/integrations \
	'{"name":"Bad Signing","type":"space","space":"root","api_host_url":"https://gitlab.example.com","signing_token":"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}'
check_eval "signing_token without whsec_: 400 invalid_field" \
	'json_error 400 invalid_field && json_str field signing_token'

# name|slug|signing token (empty: none)
made=0
for line in "Signed|signed|$SIGNING" "Vector|vector|$VEC_SECRET" "Plain|plain|"; do
	IFS='|' read -r name slug token <<<"$line"
	body="{\"name\":\"$name\",\"type\":\"space\",\"space\":\"root\",\"api_host_url\":\"https://gitlab.example.com\""
	[ -n "$token" ] && body="$body,\"signing_token\":\"$token\""
	api_json POST /api/v1/integrations "$body}"
	if status_is 201 && ! body_has whsec_ && [ "$(jv 'd["signing_token_set"]')" = "$([ -n "$token" ] && echo true || echo false)" ]; then
		made=$((made + 1))
	else
		last_diag
	fi
	eval "SECRET_$slug=\$(jv 'd[\"webhook_secret\"]')"
	api_json POST /api/v1/stacks \
		"{\"id\":\"diaspora-$slug\",\"name\":\"diaspora-$slug\",\"integration\":\"$slug\",\"namespace\":\"mike\",\"repository\":\"diaspora\",\"branch\":\"master\"}"
	status_is 201 && made=$((made + 1))
done
check_eval "integrations signed, vector (signing tokens, never echoed: signing_token_set) and plain, each with a stack" \
	'[ "$made" = 6 ]' || bail "cannot set up the integrations"
api GET /api/v1/integrations/signed/details
check_eval "the details (admin) do not show the signing token either" \
	'status_is 200 && ! body_has whsec_ && [ "$(jv "d[\"signing_token_set\"]")" = true ]'

PUSH=$FIX/push.json

# ============================================== a valid signature ====

mark
signed signed "$SECRET_signed" "$SIGNING" "$PUSH"
check_eval "a delivery signed with the integration's signing token: 202, its run created" \
	'status_is 202 && json_str status accepted && [ "$(state)" != "$BEFORE" ] &&
	 [ "$(jv "[(r[\"stack\"], r[\"created\"]) for r in d[\"runs\"]]")" = "[[\"diaspora-signed\", true]]" ]'

ID=msg_multi_$$
TS=$(now)
GOOD=$(sign "$SIGNING" "$ID" "$TS" "$PUSH")
OTHER=$(sign "$SIGNING2" "$ID" "$TS" "$PUSH")
mark
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" "$OTHER $GOOD v1a,${GOOD#v1,} v2,abcd"
accepted "several space-separated signatures, one of them valid (key rotation): accepted"
mark
post signed "$SECRET_signed" "$PUSH" "${ID}b" "$TS" "$GOOD"
refused "... the same signature under another webhook-id: 401, nothing stored"
ID2=msg_first_$$
GOOD2=$(sign "$SIGNING" "$ID2" "$TS" "$PUSH")
mark
post signed "$SECRET_signed" "$PUSH" "$ID2" "$TS" "$GOOD2 $OTHER"
accepted "the valid signature first and a stale one after: accepted"

# ============================================ refusals store nothing ====

mark
post signed "$SECRET_signed" "$PUSH" + "$(now)" "$(sign "$SIGNING2" x "$(now)" "$PUSH")"
refused "a signature made with another key: 401, nothing stored"
ID=msg_wrong_$$
TS=$(now)
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" "$(sign "$SIGNING2" "$ID" "$TS" "$PUSH")"
refused "a well-formed signature over the right text with the wrong key: 401, nothing stored"
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" "$OTHER $OTHER"
refused "only stale signatures: 401"
variant_file=$T/push-tampered.json
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d.replace(b"master", b"main", 1))' \
	"$PUSH" "$variant_file"
ID=msg_tamper_$$
post signed "$SECRET_signed" "$variant_file" "$ID" "$TS" "$(sign "$SIGNING" "$ID" "$TS" "$PUSH")"
refused "a body changed after signing: 401, nothing stored"
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" "${GOOD#v1,}"
refused "the signature without its v1, prefix: 401"
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" "v1,"
refused "an empty v1, signature: 401"

ID=msg_missing_$$
TS=$(now)
SIG=$(sign "$SIGNING" "$ID" "$TS" "$PUSH")
post signed "$SECRET_signed" "$PUSH" "$ID" "$TS" ""
refused "no webhook-signature header: 401, nothing stored"
post signed "$SECRET_signed" "$PUSH" "$ID" "" "$SIG"
refused "no webhook-timestamp header: 401, nothing stored"
post signed "$SECRET_signed" "$PUSH" "" "$TS" "$SIG" -H "Idempotency-Key: $ID"
refused "no webhook-id header: 401, nothing stored"
post signed "$SECRET_signed" "$PUSH"
refused "none of the three (a plain GitLab delivery): 401, nothing stored"
check_eval "... the refusal says what is missing, and echoes no signature" \
	'body_has "webhook-signature" && ! grep -qF -- "${SIG#v1,}" "$T/http.body"'

signed signed "$SECRET_signed" "$SIGNING" "$PUSH" 360
refused "signed right, but webhook-timestamp 6 minutes old: 401, nothing stored"
signed signed "$SECRET_signed" "$SIGNING" "$PUSH" -360
refused "signed right, but webhook-timestamp 6 minutes ahead: 401, nothing stored"
ID=msg_ts_$$
post signed "$SECRET_signed" "$PUSH" "$ID" "${TS}.0" "$(sign "$SIGNING" "$ID" "${TS}.0" "$PUSH")"
refused "a webhook-timestamp that is not whole seconds: 401"
post signed "$SECRET_signed" "$PUSH" "$ID" "0x$TS" "$(sign "$SIGNING" "$ID" "0x$TS" "$PUSH")"
refused "a webhook-timestamp that is not decimal: 401"
mark
signed signed "$SECRET_signed" "$SIGNING" "$PUSH" 240
accepted "signed right, webhook-timestamp 4 minutes old: inside the 5-minute window, accepted"
mark
signed signed "$SECRET_signed" "$SIGNING" "$PUSH" -240
accepted "... and 4 minutes ahead (clock skew): accepted"

mark
signed signed "wrong-$SECRET_signed" "$SIGNING" "$PUSH"
refused "a valid signature with a wrong X-Gitlab-Token: 401, nothing stored"
signed signed "" "$SIGNING" "$PUSH"
refused "a valid signature without X-Gitlab-Token: 401, nothing stored"
signed signed "$SECRET_vector" "$SIGNING" "$PUSH"
refused "a valid signature with another integration's secret token: 401"

# ================================== the Standard Webhooks test vector ====

printf '%s' "$VEC_BODY" >"$T/vector.json"
check_eval "the test's own HMAC reproduces the published vector's signature" \
	'[ "$(sign "$VEC_SECRET" "$VEC_ID" "$VEC_TS" "$T/vector.json")" = "$VEC_SIG" ]'
mark
post vector "$SECRET_vector" "$T/vector.json" "$VEC_ID" "$VEC_TS" "$VEC_SIG"
refused "the vector as published (timestamp of 2021, far outside 5 minutes): 401, nothing stored"
check_eval "... refused for its timestamp" 'body_has "timestamp"'
TS=$(now)
post vector "$SECRET_vector" "$T/vector.json" "$VEC_ID" "$TS" "$(sign "$VEC_SECRET" "$VEC_ID" "$TS" "$T/vector.json")"
check_eval "the same computation with a current timestamp passes the signature check (400 for the body: no object_kind)" \
	'json_error 400 missing_field && json_str field object_kind'
mark
signed vector "$SECRET_vector" "$VEC_SECRET" "$PUSH"
accepted "a push signed under the vector's key, now: 202"

# ======================================= without a signing token ====

mark
post plain "$SECRET_plain" "$PUSH" + "$(now)" "v1,bm90IGEgc2lnbmF0dXJl"
accepted "an integration without a signing token ignores webhook-* headers, even a bogus signature"

# ======================================= clearing and replacing it ====

api_json PATCH /api/v1/integrations/signed '{"signing_token":null}'
check_eval "PATCH signing_token null: 200, signing_token_set false" \
	'status_is 200 && [ "$(jv "d[\"signing_token_set\"]")" = false ]'
mark
post signed "$SECRET_signed" "$PUSH" +
accepted "... then an unsigned delivery is accepted"
api_json PATCH /api/v1/integrations/signed "{\"signing_token\":\"$SIGNING2\"}"
check_eval "PATCH a new signing token: 200, not echoed" \
	'status_is 200 && [ "$(jv "d[\"signing_token_set\"]")" = true ] && ! body_has whsec_'
mark
post signed "$SECRET_signed" "$PUSH" +
refused "... unsigned deliveries are refused again"
signed signed "$SECRET_signed" "$SIGNING" "$PUSH"
refused "... and so are ones signed with the old token"
mark
signed signed "$SECRET_signed" "$SIGNING2" "$PUSH"
accepted "... signed with the new token: accepted"

check_eval "no signing token, key or signature in the responder's log" \
	'! grep -qF -e "${SIGNING#whsec_}" -e "${SIGNING2#whsec_}" -e "${VEC_SECRET#whsec_}" -e "${GOOD#v1,}" "$T/log/responder.err"'
http GET "$BASE/healthz"
check "the responder still answers" status_is 200

done_testing
