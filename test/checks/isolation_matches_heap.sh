#!/usr/bin/env bash
# Every isolation spec's expected output is heap's behaviour: each
# test/specs/NAME.spec is copied with "USING aura" replaced by "USING heap",
# run with pg_isolation_regress against the running cluster (in a database
# of its own), and its output must equal test/expected/NAME.out with the
# same substitution applied.  A spec whose heap output differs from its
# expected file is printed with the diff; exit 0 only if all agree.
set -euo pipefail

src="${AURA_WORK:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
db=aura_iso_heap_check
pg_config_bin="${PG_CONFIG:-pg_config}"
isolation_regress="$("$pg_config_bin" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress"
as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }

shopt -s nullglob
specs=("$src"/test/specs/*.spec)
shopt -u nullglob
if [ "${#specs[@]}" -eq 0 ]; then
	echo "no isolation specs in $src/test/specs"
	exit 0
fi
[ -x "$isolation_regress" ] || {
	echo "pg_isolation_regress not found at $isolation_regress"
	exit 1
}

work=$(mktemp -d)
cleanup() {
	as_user psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 ||
		echo "WARNING: could not drop database $db" >&2
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/specs" "$work/expected"

names=()
for spec in "${specs[@]}"; do
	name="$(basename "$spec" .spec)"
	names+=("$name")
	grep -q 'USING aura' "$spec" || echo "note: $name.spec has no 'USING aura' table"
	sed 's/USING aura/USING heap/g' "$spec" >"$work/specs/$name.spec"
	: >"$work/expected/$name.out"
done
chown -R "$PGUSER": "$work"
chmod 755 "$work"

as_user psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
as_user psql -X -q -d "$db" -c "CREATE EXTENSION auradb"

# The expected files are empty, so pg_isolation_regress reports every test
# as failed; only the files it leaves in results/ matter here.
echo "running ${#names[@]} spec(s) on heap: ${names[*]}"
(cd "$work" && as_user env PGISOLATIONTIMEOUT="${PGISOLATIONTIMEOUT:-60}" \
	"$isolation_regress" --host="$PGHOST" --port="$PGPORT" --use-existing \
	--dbname="$db" --inputdir="$work" --outputdir="$work" "${names[@]}") \
	>"$work/regress.log" 2>&1 || true

differ=()
for name in "${names[@]}"; do
	result="$work/results/$name.out"
	expected="$src/test/expected/$name.out"
	if [ ! -f "$result" ]; then
		echo "$name: no heap output (pg_isolation_regress log follows)"
		cat "$work/regress.log"
		differ+=("$name")
		continue
	fi
	if [ ! -f "$expected" ]; then
		echo "$name: no expected file test/expected/$name.out"
		differ+=("$name")
		continue
	fi
	sed 's/USING aura/USING heap/g' "$expected" >"$work/$name.expected-heap"
	if diff -u "$work/$name.expected-heap" "$result" >"$work/$name.diff"; then
		echo "$name: heap output matches test/expected/$name.out"
	else
		echo "$name: heap output DIFFERS from test/expected/$name.out" \
			"(- expected with USING aura -> USING heap, + heap's output):"
		head -n 200 "$work/$name.diff"
		differ+=("$name")
	fi
done

if [ "${#differ[@]}" -gt 0 ]; then
	echo "expected output is not heap's for: ${differ[*]}"
	exit 1
fi
echo "all ${#names[@]} expected isolation outputs are heap's"
