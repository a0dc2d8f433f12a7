
# Copyright (c) auradb authors
#
# WAL replay of the table access method on a streaming standby, in the spirit
# of contrib/bloom's t/001_wal.pl.
#
# The standby is created from a base backup before anything exists, so the
# extension, the tables, their indexes and all data reach it through WAL only.
# The primary then runs a mixed workload in steps (INSERT ... SELECT, COPY,
# updates of non-indexed and of indexed columns, deletes, a rolled back
# savepoint, aborted transactions, TRUNCATE, ALTER TABLE ADD COLUMN, CREATE
# INDEX [CONCURRENTLY] on existing data, VACUUM, ANALYZE, CHECKPOINT).  After
# each step the standby catches up and the same queries run on both nodes:
# ordered seq scans, counts and sums, forced index scans, forced bitmap scans,
# GIN and GiST lookups, md5 of large values.  Each query must give the same
# answer on both nodes and the same answer whatever the scan type.  An
# UNLOGGED table must raise an error on the standby rather than return data.
# Finally the standby is promoted and must accept writes.
#
# The access method comes from $ENV{AURA_TEST_AM} (default "aura"); run with
# AURA_TEST_AM=heap to validate the test itself.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AuraTap qw(%scan);
use Digest::MD5 qw(md5_hex);

my $am = $ENV{AURA_TEST_AM} // 'aura';
die "invalid AURA_TEST_AM \"$am\"" unless $am =~ /^[a-z_][a-z0-9_]*$/;
note "access method: $am";

my $node_primary = PostgreSQL::Test::Cluster->new('primary');
$node_primary->init(allows_streaming => 1);
$node_primary->append_conf(
	'postgresql.conf', qq(
log_statement = none
autovacuum = off
));
$node_primary->start;

# The standby starts from an empty cluster: everything below reaches it
# through WAL.
$node_primary->backup('base');
my $node_standby = PostgreSQL::Test::Cluster->new('standby');
$node_standby->init_from_backup($node_primary, 'base', has_streaming => 1);
$node_standby->start;

# Scan types forced through planner settings (%scan, AuraTap.pm), and what
# their plans show.
my %mode_plan = (
	index => 'Index Scan using %s',
	bitmap => 'Bitmap Index Scan on %s',);

# Predicates on t_main: [ name, WHERE clause, index, scan types ].  GIN has no
# plain index scans.  More are added once their index exists.
my @predicates = (
	[ 'pk_all', 'id >= 0', 't_main_pkey', [qw(index bitmap)] ],
	[ 'pk_range', 'id BETWEEN 1000 AND 1500', 't_main_pkey', [qw(index bitmap)] ],
	[
		'pk_tail', 'id BETWEEN 700000 AND 999999', 't_main_pkey',
		[qw(index bitmap)]
	],
	[ 'btree_k', 'k BETWEEN 100 AND 400', 't_main_k_idx', [qw(index bitmap)] ],
	[ 'hash_grp', 'grp = 7', 't_main_grp_hash', [qw(index bitmap)] ],
	[ 'gin_tags', 'tags @> ARRAY[5]', 't_main_tags_gin', [qw(bitmap)] ],
	[
		'gin_doc', q{doc @@ to_tsquery('simple', 'w3 & w5')},
		't_main_doc_gin', [qw(bitmap)]
	],
	[
		'gist_pt', q{pt <@ box '((10,10),(30,30))'},
		't_main_pt_gist', [qw(index bitmap)]
	],);

# Queries whose result must be identical on both nodes, with the scan type
# they are run under.  Built from the current @predicates.
sub build_queries
{
	my @q;
	for my $p (@predicates)
	{
		my ($name, $where, $index, $modes) = @$p;
		my $sql =
		    "SELECT count(*), coalesce(sum(k), 0), "
		  . "md5(string_agg(t::text, '|' ORDER BY id)) "
		  . "FROM t_main t WHERE $where";
		for my $mode ('seq', @$modes)
		{
			push @q,
			  {
				name => "$name/$mode",
				mode => $mode,
				sql => $sql,
				index => $mode eq 'seq' ? undef : $index,
				same_as => $mode eq 'seq' ? undef : "$name/seq",
			  };
		}
	}

	# GiST nearest-neighbour search (ties broken by id).
	my $knn =
	    q{SELECT string_agg(id::text, ',') FROM (SELECT id FROM t_main }
	  . q{WHERE pt IS NOT NULL ORDER BY pt <-> point '(13.3,17.1)', id LIMIT 25) s};
	push @q,
	  { name => 'gist_knn/seq', mode => 'seq', sql => $knn },
	  {
		name => 'gist_knn/index',
		mode => 'index',
		sql => $knn,
		index => 't_main_pt_gist',
		same_as => 'gist_knn/seq'
	  };

	# Whole tables: counts, sums, ordered content.
	push @q,
	  {
		name => 't_main/totals',
		mode => 'seq',
		sql => 'SELECT count(*), sum(id::bigint), sum(k), sum(grp), '
		  . 'count(note), count(tags), count(doc), count(pt), count(bx) FROM t_main'
	  },
	  {
		name => 't_main/rows',
		mode => 'seq',
		sql => q{SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM t_main t}
	  },
	  {
		name => 't_big/values',
		mode => 'seq',
		sql => q{SELECT string_agg(id || ':' || coalesce(tag, '-') || ':' }
		  . q{|| length(v) || ':' || md5(v), ' ' ORDER BY id) FROM t_big}
	  },
	  {
		name => 't_big/values/index',
		mode => 'index',
		sql => q{SELECT string_agg(id || ':' || coalesce(tag, '-') || ':' }
		  . q{|| length(v) || ':' || md5(v), ' ' ORDER BY id) FROM t_big WHERE id > 0},
		index => 't_big_pkey',
		same_as => 't_big/values'
	  },
	  {
		name => 't_trunc/rows',
		mode => 'seq',
		sql => q{SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM t_trunc t}
	  },
	  {
		name => 't_trunc/rows/index',
		mode => 'index',
		sql => q{SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) }
		  . q{FROM t_trunc t WHERE id > 0},
		index => 't_trunc_id_idx',
		same_as => 't_trunc/rows'
	  };
	return @q;
}

# Run all queries in one psql session; returns { name => output }, where the
# output of query "x" under EXPLAIN is stored as "x/plan".
sub run_queries
{
	my ($node, $queries) = @_;
	my $script = '';
	for my $q (@$queries)
	{
		$script .= "$scan{$q->{mode}}\n";
		if (defined $q->{index})
		{
			$script .= "\\echo ==$q->{name}/plan\n";
			$script .= "EXPLAIN (COSTS OFF) $q->{sql};\n";
		}
		$script .= "\\echo ==$q->{name}\n$q->{sql};\n";
	}
	my %res;
	my $cur;
	for my $line (split /\n/, $node->safe_psql('postgres', $script))
	{
		if ($line =~ /^==(.*)$/)
		{
			$cur = $1;
			$res{$cur} = '';
		}
		else
		{
			die "unexpected output line \"$line\"" unless defined $cur;
			$res{$cur} .= ($res{$cur} eq '' ? '' : "\n") . $line;
		}
	}
	return \%res;
}

# Facts with a known answer, checked on both nodes after a given step.
sub check_facts
{
	my ($step, $facts) = @_;
	for my $node ($node_primary, $node_standby)
	{
		my $who = $node->name;
		for my $f (@$facts)
		{
			my ($what, $sql, $expected) = @$f;
			is($node->safe_psql('postgres', $sql),
				$expected, "$step: $who: $what");
		}
	}
	return;
}

my $last_primary_results;

# Compare both nodes after a step.
sub check_step
{
	my ($step) = @_;

	$node_primary->wait_for_catchup($node_standby, 'replay',
		$node_primary->lsn('insert'));

	my @queries = build_queries();
	my $p = run_queries($node_primary, \@queries);
	my $s = run_queries($node_standby, \@queries);
	$last_primary_results = $p;

	note "$step: rows matching each predicate: "
	  . join(', ',
		map { my ($n) = split /\|/, $p->{"$_->[0]/seq"}; "$_->[0]=$n" }
		  @predicates);

	for my $q (@queries)
	{
		my $name = $q->{name};
		is($s->{$name}, $p->{$name}, "$step: $name: standby matches primary");
		if (defined $q->{same_as})
		{
			is($p->{$name}, $p->{ $q->{same_as} },
				"$step: $name: same result as $q->{same_as} on primary");
		}
		if (defined $q->{index})
		{
			my $pattern = sprintf($mode_plan{ $q->{mode} }, $q->{index});
			for my $r ([ 'primary', $p ], [ 'standby', $s ])
			{
				like($r->[1]{"$name/plan"}, qr/\Q$pattern\E/,
					"$step: $name: $r->[0] uses $q->{mode} scan on $q->{index}");
			}
		}
	}

	# Unlogged tables have no data on a standby; reading them must fail.
	my ($ret, $out, $err) =
	  $node_standby->psql('postgres', 'SELECT count(*) FROM t_unlogged');
	isnt($ret, 0, "$step: standby refuses to read unlogged table");
	like(
		$err,
		qr/cannot access temporary or unlogged relations during recovery/,
		"$step: standby raises the unlogged relation error");
	is($out, '', "$step: standby returns no data from unlogged table");
	return;
}

# Row generator for t_main, shared by INSERT ... SELECT (SQL) and COPY (Perl).
sub t_main_select
{
	my ($from, $to) = @_;
	return qq{
SELECT i, (i * 37) % 1000, i % 20,
       ARRAY[i % 10, i % 7, (i / 10) % 50],
       to_tsvector('simple', 'w' || (i % 10) || ' w' || (i % 7) || ' word' || i),
       point((i * 13) % 100, (i * 29) % 100 + (i % 3) / 10.0),
       box(point(i % 50, i % 30), point(i % 50 + 2, i % 30 + 3)),
       'note ' || i
  FROM generate_series($from, $to) i};
}

sub t_main_copy_line
{
	my ($i) = @_;
	my $tags = sprintf('{%d,%d,%d}', $i % 10, $i % 7, int($i / 10) % 50);
	my $doc = sprintf("'w%d' 'w%d' 'word%d'", $i % 10, $i % 7, $i);
	my $pt = sprintf('(%d,%s)', ($i * 13) % 100, ($i * 29) % 100 + ($i % 3) / 10);
	my $bx = sprintf('(%d,%d),(%d,%d)',
		$i % 50 + 2, $i % 30 + 3, $i % 50, $i % 30);
	my $note = $i % 10 == 0 ? '\N' : "copied $i\twith tab";
	$note =~ s/\t/\\t/;
	return join("\t",
		$i, ($i * 37) % 1000, $i % 20, $tags, $doc, $pt, $bx, $note)
	  . "\n";
}

# Incompressible text of n * 32 characters.
sub hex_text
{
	my ($seed, $n) = @_;
	return join('', map { md5_hex("$seed:$_") } 1 .. $n);
}

#
# Step 1: extension, tables, indexes, initial data.
#
my $create_ext = $am ne 'heap' ? 'CREATE EXTENSION auradb;' : '';
$node_primary->safe_psql(
	'postgres', qq{
$create_ext
CREATE TABLE t_main (id int PRIMARY KEY, k int, grp int, tags int[],
                     doc tsvector, pt point, bx box, note text) USING $am;
CREATE INDEX t_main_k_idx ON t_main (k);
CREATE INDEX t_main_grp_hash ON t_main USING hash (grp);
CREATE INDEX t_main_tags_gin ON t_main USING gin (tags);
CREATE INDEX t_main_doc_gin ON t_main USING gin (doc);
CREATE INDEX t_main_pt_gist ON t_main USING gist (pt);
INSERT INTO t_main @{[ t_main_select(1, 5000) ]};

-- values from 352 bytes to 64 kB, one incompressible 2.2 MB value and one
-- compressible 2.6 MB value
CREATE TABLE t_big (id int PRIMARY KEY, tag text, v text) USING $am;
INSERT INTO t_big
SELECT i, 'size ' || i,
       (SELECT string_agg(md5(i || ':' || j), '') FROM generate_series(1, 10 + i * 100) j)
  FROM generate_series(1, 20) i;
INSERT INTO t_big
SELECT 100, 'huge', string_agg(md5('huge:' || j), '') FROM generate_series(1, 70000) j;
INSERT INTO t_big VALUES (101, 'huge compressible', repeat('compressible ', 200000));

CREATE TABLE t_trunc (id int, v text) USING $am;
CREATE INDEX t_trunc_id_idx ON t_trunc (id);
INSERT INTO t_trunc SELECT i, 'before truncate ' || i FROM generate_series(1, 1000) i;

CREATE UNLOGGED TABLE t_unlogged (id int PRIMARY KEY, v text) USING $am;
INSERT INTO t_unlogged SELECT i, 'unlogged ' || i FROM generate_series(1, 1000) i;
});

is( $node_primary->safe_psql(
		'postgres', q{
SELECT string_agg(c.relname || '=' || a.amname, ',' ORDER BY c.relname)
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('t_main', 't_big', 't_trunc', 't_unlogged')}),
	"t_big=$am,t_main=$am,t_trunc=$am,t_unlogged=$am",
	"tables use access method $am");
check_step('initial load');
check_facts(
	'initial load',
	[
		[ 't_main row count', 'SELECT count(*) FROM t_main', 5000 ],
		[
			'largest value is over 2 MB',
			'SELECT max(length(v)) > 2 * 1024 * 1024 FROM t_big', 't'
		],
		[
			'values over 8 kB',
			'SELECT count(*) FROM t_big WHERE length(v) > 8192', 20
		],
		[
			'md5 of the 2 MB value',
			'SELECT md5(v) FROM t_big WHERE id = 100',
			md5_hex(hex_text('huge', 70000))
		],
	]);
is($node_primary->safe_psql('postgres', 'SELECT count(*) FROM t_unlogged'),
	1000, 'primary reads its unlogged table');

#
# Step 2: COPY FROM STDIN.
#
{
	my $copy = "COPY t_main FROM STDIN;\n";
	$copy .= t_main_copy_line($_) for 5001 .. 5600;
	$copy .= "\\.\n";
	$copy .= "COPY t_big (id, tag, v) FROM STDIN;\n";
	$copy .= "21\tcopied 20 kB\t" . hex_text('copy21', 640) . "\n";
	$copy .= "22\tcopied 100 kB\t" . hex_text('copy22', 3200) . "\n";
	$copy .= "23\t\\N\tsmall\n";
	$copy .= "\\.\n";
	$node_primary->safe_psql('postgres', $copy);
}
check_step('COPY');
check_facts(
	'COPY',
	[
		[ 't_main row count', 'SELECT count(*) FROM t_main', 5600 ],
		[
			'copied NULLs and escapes',
			q{SELECT count(*) FILTER (WHERE note IS NULL),
			         count(*) FILTER (WHERE note LIKE E'copied %\twith tab')
			    FROM t_main WHERE id > 5000},
			'60|540'
		],
		[
			'md5 of copied 100 kB value',
			'SELECT md5(v) FROM t_big WHERE id = 22',
			md5_hex(hex_text('copy22', 3200))
		],
	]);

#
# Step 3: updates of non-indexed columns (several versions of some rows).
#
$node_primary->safe_psql(
	'postgres', q{
UPDATE t_main SET note = coalesce(note, '') || ' upd' WHERE id % 7 = 0;
UPDATE t_main SET note = note || '!' WHERE id BETWEEN 1 AND 50;
UPDATE t_main SET note = note || '!' WHERE id BETWEEN 1 AND 50;
UPDATE t_main SET note = note || '!' WHERE id BETWEEN 1 AND 50;
UPDATE t_big SET tag = 'touched ' || id WHERE id % 2 = 0;
});
check_step('update non-indexed columns');
check_facts(
	'update non-indexed columns',
	[
		[
			'updated rows',
			q{SELECT count(*) FILTER (WHERE note LIKE '% upd%'),
			         count(*) FILTER (WHERE note LIKE '%!!!')
			    FROM t_main},
			'800|50'
		],
	]);

#
# Step 4: updates of indexed columns, of the primary key, of large values.
#
$node_primary->safe_psql(
	'postgres', q{
UPDATE t_main SET k = k + 1000, grp = grp + 1, tags = tags || id,
       doc = doc || to_tsvector('simple', 'changed'),
       pt = point(pt[0] + 0.5, pt[1])
 WHERE id % 11 = 0;
UPDATE t_main SET id = id + 100000 WHERE id % 97 = 0;
UPDATE t_big SET v = v || md5(id::text) WHERE id IN (2, 22, 100);
UPDATE t_big SET v = 'now small' WHERE id = 5;
});
check_step('update indexed columns');
check_facts(
	'update indexed columns',
	[
		[
			'moved keys',
			q{SELECT count(*) FILTER (WHERE k >= 1000),
			         count(*) FILTER (WHERE id > 100000)
			    FROM t_main},
			'509|57'
		],
		[
			'md5 of the updated 2 MB value',
			'SELECT md5(v) FROM t_big WHERE id = 100',
			md5_hex(hex_text('huge', 70000) . md5_hex('100'))
		],
	]);

#
# Step 5: deletes.
#
$node_primary->safe_psql(
	'postgres', q{
DELETE FROM t_main WHERE id % 13 = 0;
DELETE FROM t_main WHERE id BETWEEN 4000 AND 4200;
DELETE FROM t_big WHERE id IN (3, 101);
});
check_step('delete');
check_facts(
	'delete',
	[
		[ 't_main row count', 'SELECT count(*) FROM t_main', 4987 ],
		[ 't_big row count', 'SELECT count(*) FROM t_big', 23 ],
	]);

#
# Step 6: a savepoint rolled back inside a committed transaction.
#
$node_primary->safe_psql(
	'postgres', q{
BEGIN;
INSERT INTO t_main (id, k, grp, note)
SELECT i, i % 1000, 1, 'kept ' || i FROM generate_series(700001, 700100) i;
SAVEPOINT s1;
INSERT INTO t_main (id, k, grp, tags, note)
SELECT i, i % 1000, 2, ARRAY[5], 'rolled back ' || i FROM generate_series(700101, 700200) i;
UPDATE t_main SET note = 'rolled back update', k = 399 WHERE id BETWEEN 1 AND 100;
DELETE FROM t_main WHERE id BETWEEN 101 AND 200;
INSERT INTO t_big
SELECT 300, 'rolled back', string_agg(md5('rb:' || j), '') FROM generate_series(1, 1000) j;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
UPDATE t_main SET note = 'after savepoint' WHERE id BETWEEN 201 AND 210;
RELEASE SAVEPOINT s2;
COMMIT;
});
check_step('savepoint rolled back');
check_facts(
	'savepoint rolled back',
	[
		[
			'only the work outside the savepoint is there',
			q{SELECT count(*) FILTER (WHERE note LIKE 'rolled back%'),
			         count(*) FILTER (WHERE id BETWEEN 700001 AND 700200),
			         count(*) FILTER (WHERE id BETWEEN 101 AND 200),
			         count(*) FILTER (WHERE note = 'after savepoint')
			    FROM t_main},
			'0|100|91|9'
		],
		[ 'no rolled back large value', 'SELECT count(*) FROM t_big WHERE id = 300', 0 ],
	]);

#
# Step 7: aborted transactions (explicit ROLLBACK and a unique violation).
#
$node_primary->safe_psql(
	'postgres', q{
BEGIN;
INSERT INTO t_main (id, k, grp, tags, note)
SELECT i, i % 1000, 3, ARRAY[5], 'aborted ' || i FROM generate_series(800001, 801000) i;
UPDATE t_main SET k = -1, note = 'aborted update' WHERE id % 5 = 0;
DELETE FROM t_main WHERE id % 5 = 1;
INSERT INTO t_big
SELECT 301, 'aborted', string_agg(md5('ab:' || j), '') FROM generate_series(1, 70000) j;
ROLLBACK;
INSERT INTO t_main (id, k, grp, note) VALUES (900050, 50, 4, 'pre-existing');
});
{
	my ($ret, $out, $err) = $node_primary->psql(
		'postgres', q{
INSERT INTO t_main (id, k, grp, note)
SELECT i, i % 1000, 4, 'failed ' || i FROM generate_series(900001, 900100) i});
	isnt($ret, 0, 'insert with a duplicate key fails');
	like(
		$err,
		qr/duplicate key value violates unique constraint "t_main_pkey"/,
		'insert fails with a unique violation');
}
check_step('aborted transactions');
check_facts(
	'aborted transactions',
	[
		[
			'nothing of the aborted transactions is visible',
			q{SELECT count(*) FILTER (WHERE note LIKE 'aborted%' OR note LIKE 'failed%'),
			         count(*) FILTER (WHERE k = -1),
			         count(*) FILTER (WHERE id BETWEEN 900001 AND 900100),
			         count(*)
			    FROM t_main},
			'0|0|1|5088'
		],
		[ 'no aborted large value', 'SELECT count(*) FROM t_big WHERE id = 301', 0 ],
	]);

#
# Step 8: TRUNCATE rolled back.
#
$node_primary->safe_psql(
	'postgres', q{
BEGIN;
TRUNCATE t_trunc;
INSERT INTO t_trunc SELECT i, 'doomed ' || i FROM generate_series(1, 10) i;
ROLLBACK;
});
check_step('TRUNCATE rolled back');
check_facts(
	'TRUNCATE rolled back',
	[
		[
			't_trunc keeps its rows',
			q{SELECT count(*), count(*) FILTER (WHERE v LIKE 'before truncate%') FROM t_trunc},
			'1000|1000'
		],
	]);

#
# Step 9: TRUNCATE followed by new inserts (in and after the same
# transaction).
#
$node_primary->safe_psql(
	'postgres', q{
BEGIN;
TRUNCATE t_trunc;
INSERT INTO t_trunc SELECT i, 'after truncate ' || i FROM generate_series(1, 300) i;
COMMIT;
INSERT INTO t_trunc SELECT i, 'after truncate ' || i FROM generate_series(301, 500) i;
});
check_step('TRUNCATE and refill');
check_facts(
	'TRUNCATE and refill',
	[
		[
			't_trunc has only the new rows',
			q{SELECT count(*), count(*) FILTER (WHERE v LIKE 'after truncate%'), max(id) FROM t_trunc},
			'500|500|500'
		],
	]);

#
# Step 10: ALTER TABLE ADD COLUMN, without and with a table rewrite.
#
$node_primary->safe_psql(
	'postgres', q{
ALTER TABLE t_main ADD COLUMN extra int DEFAULT 42;
UPDATE t_main SET extra = 7 WHERE id % 3 = 0;
ALTER TABLE t_main ADD COLUMN extra2 text DEFAULT md5(random()::text);
ALTER TABLE t_big ADD COLUMN added timestamptz DEFAULT '2000-01-01 00:00:00+00';
});
check_step('ALTER TABLE ADD COLUMN');
check_facts(
	'ALTER TABLE ADD COLUMN',
	[
		[
			'new columns are filled',
			q{SELECT count(*) FILTER (WHERE extra = 42), count(*) FILTER (WHERE extra = 7),
			         count(*) FILTER (WHERE extra2 IS NULL), count(DISTINCT extra2) > 5000
			    FROM t_main},
			'3394|1694|0|t'
		],
		[
			't_big default',
			q{SELECT count(*) FROM t_big WHERE added = '2000-01-01 00:00:00+00'}, 23
		],
	]);

#
# Step 11: CREATE INDEX [CONCURRENTLY] on existing data.
#
$node_primary->safe_psql(
	'postgres', q{
CREATE INDEX t_main_bx_gist ON t_main USING gist (bx);
CREATE INDEX CONCURRENTLY t_main_extra2_idx ON t_main (extra2);
CREATE INDEX t_main_extra_hash ON t_main USING hash (extra);
CREATE INDEX t_big_tag_idx ON t_big (tag);
});
push @predicates,
  [
	'gist_bx', q{bx && box '((10,10),(12,12))'},
	't_main_bx_gist', [qw(index bitmap)]
  ],
  [ 'btree_extra2', q{extra2 < '3'}, 't_main_extra2_idx', [qw(index bitmap)] ],
  [ 'hash_extra', 'extra = 7', 't_main_extra_hash', [qw(index bitmap)] ];
check_step('CREATE INDEX');
check_facts(
	'CREATE INDEX',
	[
		[
			'new indexes are valid',
			q{SELECT count(*) FROM pg_index
			   WHERE indexrelid::regclass::text IN
			         ('t_main_bx_gist', 't_main_extra2_idx', 't_main_extra_hash', 't_big_tag_idx')
			     AND indisvalid AND indisready},
			4
		],
	]);

#
# Step 12: VACUUM, ANALYZE, CHECKPOINT; then restart the standby, so that it
# resumes replay from its restartpoint.
#
$node_primary->safe_psql(
	'postgres', q{
VACUUM t_main;
VACUUM t_big;
VACUUM FULL t_trunc;
ANALYZE;
CHECKPOINT;
});
$node_primary->wait_for_catchup($node_standby, 'replay',
	$node_primary->lsn('insert'));
$node_standby->safe_psql('postgres', 'CHECKPOINT');    # restartpoint
$node_standby->restart;
check_step('VACUUM, ANALYZE and standby restart');

#
# Step 13: new rows and updates after VACUUM (reuse of freed space).
#
$node_primary->safe_psql(
	'postgres', qq{
INSERT INTO t_main (id, k, grp, tags, doc, pt, bx, note)
@{[ t_main_select(10001, 12000) ]};
UPDATE t_main SET k = k + 1, note = note || ' again' WHERE id % 17 = 0;
DELETE FROM t_main WHERE id BETWEEN 10001 AND 10100;
INSERT INTO t_big
SELECT 400, 'after vacuum', string_agg(md5('av:' || j), '') FROM generate_series(1, 500) j;
});
check_step('writes after VACUUM');
# None of the predicates is vacuous by now.
for my $pred (@predicates)
{
	my ($n) = split /\|/, $last_primary_results->{"$pred->[0]/seq"};
	cmp_ok($n, '>', 0, "predicate $pred->[0] matches rows");
}
check_facts(
	'writes after VACUUM',
	[
		[ 't_main row count', 'SELECT count(*) FROM t_main', 6988 ],
		[
			'new rows got the column defaults',
			q{SELECT count(*) FILTER (WHERE extra = 42), count(extra2)
			    FROM t_main WHERE id BETWEEN 10001 AND 12000},
			'1900|1900'
		],
	]);

#
# Promote the standby; it must return the same data and accept writes.
#
my $final = $last_primary_results;
$node_primary->stop;
$node_standby->promote;
$node_standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for promotion';

{
	my @queries = build_queries();
	my $r = run_queries($node_standby, \@queries);
	for my $q (@queries)
	{
		is($r->{ $q->{name} }, $final->{ $q->{name} },
			"promoted: $q->{name}: matches the old primary");
	}
}

# The unlogged table comes back empty (reset from its init fork) and usable.
is($node_standby->safe_psql('postgres', 'SELECT count(*) FROM t_unlogged'),
	0, 'promoted: unlogged table is empty');

$node_standby->safe_psql(
	'postgres', qq{
INSERT INTO t_unlogged SELECT i, 'new ' || i FROM generate_series(1, 200) i;
INSERT INTO t_main (id, k, grp, tags, doc, pt, bx, note)
@{[ t_main_select(2000001, 2000500) ]};
UPDATE t_main SET k = k + 5000, tags = tags || 12345, note = 'promoted update'
 WHERE id BETWEEN 2000001 AND 2000100;
UPDATE t_main SET note = 'promoted note' WHERE id BETWEEN 1 AND 300;
DELETE FROM t_main WHERE id BETWEEN 2000401 AND 2000500;
INSERT INTO t_big
SELECT 500, 'promoted', string_agg(md5('pr:' || j), '') FROM generate_series(1, 80000) j;
});

{
	push @predicates,
	  [
		'promoted_range', 'id BETWEEN 2000001 AND 2000500',
		't_main_pkey', [qw(index bitmap)]
	  ],
	  [
		'promoted_k', 'k BETWEEN 5000 AND 9999',
		't_main_k_idx', [qw(index bitmap)]
	  ],
	  [
		'promoted_tags', 'tags @> ARRAY[12345]',
		't_main_tags_gin', [qw(bitmap)]
	  ];
	my @queries = build_queries();
	my $r = run_queries($node_standby, \@queries);
	for my $q (grep { defined $_->{same_as} } @queries)
	{
		is($r->{ $q->{name} }, $r->{ $q->{same_as} },
			"promoted after writes: $q->{name}: same result as $q->{same_as}");
		my $pattern = sprintf($mode_plan{ $q->{mode} }, $q->{index});
		like($r->{"$q->{name}/plan"}, qr/\Q$pattern\E/,
			"promoted after writes: $q->{name}: uses $q->{mode} scan on $q->{index}");
	}
}

is( $node_standby->safe_psql(
		'postgres', q{
SELECT count(*), count(*) FILTER (WHERE note = 'promoted update'),
       count(*) FILTER (WHERE k >= 5000)
  FROM t_main WHERE id > 2000000}),
	'400|100|100',
	'promoted: writes to t_main are visible');
is($node_standby->safe_psql('postgres', 'SELECT count(*) FROM t_main'),
	7388, 'promoted: t_main row count');
is( $node_standby->safe_psql(
		'postgres', 'SELECT length(v), md5(v) FROM t_big WHERE id = 500'),
	80000 * 32 . '|' . md5_hex(hex_text('pr', 80000)),
	'promoted: new 2.5 MB value reads back');
is( $node_standby->safe_psql(
		'postgres',
		q{SET enable_seqscan = off; SELECT count(*), min(v) FROM t_unlogged WHERE id > 0}),
	'200|new 1',
	'promoted: unlogged table accepts writes');

$node_standby->stop;
done_testing();
