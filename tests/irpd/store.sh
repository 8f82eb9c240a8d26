# tests/irpd/store.sh - which store the irpd scripts run on. Sourced (by
# lib.sh and the scripts that do not use it), not run.
#
# The store of this run (docs/DEPLOYMENT.md): SQLite in $T/r/irpd.db, or, with
# SC_TEST_PG_URI (ctest's *_pg tests; tests/pg/pgcluster.sh), a fresh schema
# of the test cluster's database. irpd_init makes the registry on it; start()
# checks that irpd serves from that backend (no silent fallback).
BACKEND=sqlite
PG_STORE=
if [ -n "${SC_TEST_PG_URI:-}" ]; then
    BACKEND=pg
    PG_SCHEMA="sh$$_$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
    psql -X -q -v ON_ERROR_STOP=1 "$SC_TEST_PG_URI" -c "CREATE SCHEMA $PG_SCHEMA" >/dev/null ||
        { echo "FAIL: cannot create a schema in the test cluster"; exit 1; }
    case "$SC_TEST_PG_URI" in
    *\?*) PG_STORE="$SC_TEST_PG_URI&options=-csearch_path%3D$PG_SCHEMA" ;;
    *) PG_STORE="$SC_TEST_PG_URI?options=-csearch_path%3D$PG_SCHEMA" ;;
    esac
fi
irpd_init() {
    if [ -n "$PG_STORE" ]; then "$IRPD" init --store "$PG_STORE" "$@"; else "$IRPD" init "$@"; fi
}
