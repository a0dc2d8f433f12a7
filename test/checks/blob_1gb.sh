#!/usr/bin/env bash
# A value of one gigabyte (the varlena limit is 1 GB - 1) is stored in an
# aura table and read back whole and in slices.  Slow (~30 s), so it lives
# here rather than in the pg_regress suite.
set -euo pipefail
n=1000000000
as_user() { runuser -u "$PGUSER" -- env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" "$@"; }
expected=$(head -c "$n" /dev/zero | tr '\0' 'x' | md5sum | cut -d' ' -f1)
out=$(as_user psql -X -At -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE EXTENSION IF NOT EXISTS auradb;
DROP TABLE IF EXISTS blob_1gb;
CREATE TABLE blob_1gb (id int, v text) USING aura;
INSERT INTO blob_1gb VALUES (1, repeat('x', $n)), (2, 'small');
SELECT id, length(v), md5(v), substr(v, $n - 4, 10) FROM blob_1gb ORDER BY id;
SELECT blobs, blob_raw_bytes >= $n FROM aura_stats('blob_1gb');
DROP TABLE blob_1gb;
SQL
)
echo "$out"
want="1|$n|$expected|xxxxx
2|5|$(printf small | md5sum | cut -d' ' -f1)|
1|t"
[ "$out" = "$want" ]
