#!/bin/bash
# The model's unit tests (tests/unit/test_model: spaces, integrations,
# stacks, rights, audit -- every store operation they use) run again
# against a real PostgreSQL server this script starts: one store test
# suite, two backends (SPEC §9).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/pg/server.sh"

dir=$(mktemp -d)
trap 'pg_stop; rm -rf "$dir"' EXIT
pg_start "$dir"
rc=$?
if [ $rc = 77 ]; then
	echo "1..0 # SKIP PostgreSQL (Debian's postgresql package) is not installed"
	exit 0
elif [ $rc != 0 ]; then
	echo "Bail out! cannot start PostgreSQL: $(tail -n 5 "$PG_DIR/initdb.log" "$PG_DIR/server.log" 2>/dev/null)"
	exit 1
fi
STACKHOOK_TEST_PG=$PG_URI CMOCKA_MESSAGE_OUTPUT=TAP "$top_builddir/tests/unit/test_model"
