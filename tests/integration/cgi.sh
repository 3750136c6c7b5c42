#!/bin/bash
# The responder as a plain CGI program (no web server): the request comes in
# the environment and on stdin, the answer is CGI output on stdout.  Run as
# the service user when the tests run as root, as a web server would.
. "$top_srcdir/tests/integration/lib.sh"

new_instance "http://127.0.0.1:8080/stackhook"

cgi REQUEST_METHOD=GET PATH_INFO=/healthz
check_eval "healthz: exit 0, first line Status: 200, JSON status ok" \
	'[ "$HTTP_RC" = 0 ] && head -n 1 "$T/cgi.out" | grep -q "^Status: 200" &&
	 is_json && json_str status ok'
body_len=$(($(wc -c <"$T/cgi.out") - $(awk 'BEGIN { n = 0 } { n += length($0) + 1 } /^\r?$/ { print n; exit }' "$T/cgi.out")))
check_eval "healthz: Content-Length matches the body ($body_len bytes)" \
	'header_is Content-Length "$body_len\$"'

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami
check_eval "whoami without a key: 401 with WWW-Authenticate: Bearer" \
	'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer shk_wrong"
check_eval "whoami with a bad key: 401" \
	'json_error 401 unauthorized && header_is WWW-Authenticate Bearer'

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Basic YWxpY2U6eA=="
check "whoami with Basic credentials: 401" json_error 401 unauthorized

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check_eval "whoami with the admin key: 200, user alice, admin of root" \
	'status_is 200 && is_json && json_str user alice && json_str root admin'

# mod_proxy_fcgi style: no PATH_INFO, the whole path in SCRIPT_NAME.
cgi REQUEST_METHOD=GET REQUEST_URI="/stackhook/api/v1/whoami?x=1" \
	SCRIPT_NAME=/stackhook/api/v1/whoami QUERY_STRING=x=1 \
	HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check_eval "no PATH_INFO: route from REQUEST_URI minus public_url's path (whoami 200)" \
	'status_is 200 && json_str user alice'

cgi REQUEST_METHOD=GET REQUEST_URI=/stackhook/healthz
check "no PATH_INFO: REQUEST_URI /stackhook/healthz is 200" status_is 200

cgi REQUEST_METHOD=GET REQUEST_URI=/stackhook/heal%74hz
check "no PATH_INFO: REQUEST_URI is percent-decoded (/stackhook/heal%74hz is 200)" status_is 200

cgi REQUEST_METHOD=GET REQUEST_URI=/elsewhere/healthz
check "no PATH_INFO: a path outside the mount is 404" json_error 404 not_found

cgi REQUEST_METHOD=GET PATH_INFO=/api/v1/healthz
check "unknown route: 404 JSON not_found" json_error 404 not_found

cgi REQUEST_METHOD=POST PATH_INFO=/healthz CONTENT_LENGTH=0
check_eval "POST /healthz: 405 with Allow: GET" \
	'json_error 405 method_not_allowed && header_is Allow "GET[[:space:]]*\$"'

cgi REQUEST_METHOD=DELETE PATH_INFO=/api/v1/whoami HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check_eval "DELETE /api/v1/whoami: 405 with Allow: GET" \
	'json_error 405 method_not_allowed && header_is Allow "GET"'

big_body "$T/big.json" 100000
CGI_STDIN=$T/big.json
cgi REQUEST_METHOD=POST PATH_INFO=/api/v1/spaces CONTENT_TYPE=application/json \
	CONTENT_LENGTH="$(wc -c <"$T/big.json")" HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check "CONTENT_LENGTH over max_body (64K): 413 payload_too_large" \
	json_error 413 payload_too_large
CGI_STDIN=/dev/null
cgi REQUEST_METHOD=POST PATH_INFO=/api/v1/spaces CONTENT_TYPE=application/json \
	CONTENT_LENGTH=1000000000000 HTTP_AUTHORIZATION="Bearer $ADMIN_KEY"
check "CONTENT_LENGTH of 1 TB with no body sent: 413 at once, nothing read" \
	json_error 413 payload_too_large

cgi STACKHOOK_CONFIG="$T/etc/none.conf" REQUEST_METHOD=GET PATH_INFO=/healthz
check_eval "missing config: 500 JSON error, no path in the answer, path in the log" \
	'status_is 500 && is_json && body_has "\"error\"" && ! body_has "$T" &&
	 grep -qF -- "$T/etc/none.conf" "$T/http.err"'

done_testing
