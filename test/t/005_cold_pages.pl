
# Copyright (c) auradb authors
#
# Cold pages (LZ4-compressed, immutable pages of settled rows) through
# crashes and on a hot standby.
#
# Part 1, crash during COPY FREEZE: a table holds 50000 committed rows (loaded
# with COPY FREEZE in the transaction that created it, a tenth of them
# updated since, so hot and cold rows).  A transaction truncates it and
# COPY FREEZEs 2 million rows into it; the server is killed with SIGKILL in
# the middle of the COPY (after a CHECKPOINT taken during it, once the new
# relfilenode holds megabytes of cold pages), and in a second round after the
# COPY has finished but before COMMIT.  After crash recovery the table holds
# exactly the old 50000 rows (same fingerprint under a seq and an index scan,
# same aura_stats), in its old relfilenode, and aura_check() is clean.
#
# Part 2, crash right after committed COPY FREEZE loads, with no checkpoint
# in between (the redo point stays before them): the table of part 1
# truncated and loaded again (200000 rows), and a table created in the
# loading transaction, loaded by two COPY FREEZE and a plain INSERT of a few
# rows, and indexed afterwards.  After crash recovery every row is there
# (count and fingerprint under a seq scan and an index scan equal to those of
# the generated data), the COPYed rows are all cold and no hot page is left
# (but those of the INSERTed rows), aura_check() is clean, and the rows can
# be updated (materialised) and VACUUMed back to cold pages.
#
# Part 3, crash during VACUUM's conversion to cold pages: a 200000-row table
# (two indexes) inserted with plain INSERTs (hot), a third of its rows
# updated.  Five rounds, each preceded by more writes (updates that
# materialise cold rows, updates of an indexed column, deletes, inserts), each
# killed by SIGKILL:
#   1. VACUUM (FREEZE, VERBOSE) 15-35% through its scan of the row map;
#   2. VACUUM (FREEZE, VERBOSE) 50-80% through it;
#   3. VACUUM (FREEZE, VERBOSE) after its scan, removing dead rowids from the
#      indexes (then a complete VACUUM, which must finish the work);
#   4. VACUUM (FREEZE, VERBOSE) after its scan, rebuilding the cold pages
#      most of whose rows were materialised, and freeing pages;
#   5. aura_compact() done, its transaction not committed.
# (Slowed down with vacuum_cost_delay; a waiter polls pg_stat_progress_vacuum
# inside the server to catch the moment; a client commits small transactions
# without pause, so that the WAL of the conversion is flushed up to a few
# milliseconds before the crash.)  After each recovery aura_check() is clean,
# the fingerprint (seq scan, primary key index scan, bitmap scan on k) is the
# one taken before the VACUUM, and the interrupted VACUUM left part of its
# work (more cold rows; hot rows left after 1 and 2; its pass not counted) --
# all of it for the finished aura_compact().  A last complete
# VACUUM (FREEZE) makes every row cold, and one more frees every hot page
# (pages written during a pass are freed by the next); the fingerprint stays
# the same.
#
# Part 4, a hot standby reading cold pages: on the primary a table is
# COPY FREEZEd in the transaction that creates it, another INSERTed and
# VACUUM FREEZEd; the standby sees them all cold.  Then pgbench clients move
# amounts between rows of both tables (materialising cold rows), lock rows
# and delete and re-insert rows in one statement, keeping count(*) and
# sum(bal) constant and every row's checksum column right, while VACUUM and
# aura_compact() run every second (moving rows back to cold pages and
# rebuilding and freeing cold pages).  Meanwhile the standby checks those
# invariants over and over, under a seq scan, an index scan or both tables
# and both scans in one snapshot: every check must give correct results or
# fail with a recovery conflict (SQLSTATE 40001), nothing else.  This runs
# with hot_standby_feedback off and on.  After each variant, once the
# standby caught up, both nodes return the same content and the same
# aura_stats.  aura_check() runs on the standby if PostgreSQL grants it its
# ShareLock during recovery (PG15 does not); then the standby is promoted and
# aura_check() runs on it there, checking the pages as WAL replay made them.
#
# No server log may show a PANIC, an assertion failure, an aura invariant
# violation or a crashed backend (crash_node kills the postmaster with its
# children, so the intended SIGKILLs leave no such line).
# $ENV{AURA_TEST_SEED} makes the random choices reproducible.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AuraCrash;
use AuraTap;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(time sleep);

my $seed = int($ENV{AURA_TEST_SEED} // (time() ^ $$));
srand($seed);
note "random seed: $seed (set AURA_TEST_SEED to repeat)";

my $test_start = time();
my $tmp = PostgreSQL::Test::Utils::tempdir;

###########################################################################
# Helpers

sub stats_note
{
	my ($s) = @_;
	return join(', ',
		map { "$_ $s->{$_}" }
		  qw(total_pages hot_pages cold_pages free_pages versions live_rows dead_versions cold_rows rows_made_cold));
}

# Kill the node, restart it, check it went through crash recovery.
# (Already killed if $crashed.)  @$clients: [ harness, name ] of the clients
# to reap.
sub crash_and_restart
{
	my ($node, $label, $clients, $crashed) = @_;
	crash_node($node) unless $crashed;
	finish_quietly($_->[0], $_->[1]) for @{ $clients // [] };
	my $log_offset = -s $node->logfile;
	$node->start;
	ok( $node->log_contains(
			qr/database system was interrupted|not properly shut down/,
			$log_offset),
		"$label: server went through crash recovery");
	return;
}

# The content of a table with columns (id, k, n, v): count, sums, and the sum
# and xor of a hash of every row.
my $fp_cols =
  q{count(*), sum(id::bigint), sum(k::bigint), sum(n::bigint), }
  . q{sum(hashtext(id || ':' || k || ':' || coalesce(n::text, 'N') || ':' || v)::bigint), }
  . q{bit_xor(hashtext(id || ':' || k || ':' || coalesce(n::text, 'N') || ':' || v))};

# The rows the generator below writes, in SQL, for ids lo..hi.
sub generated_rows
{
	my ($lo, $hi) = @_;
	return
	    q{SELECT i AS id, i % 1000 AS k, CASE WHEN i % 13 = 0 THEN NULL ELSE i * 7 END AS n, }
	  . q{'row ' || i || ' ' || repeat(chr(97 + i % 26), i % 50) AS v }
	  . "FROM generate_series($lo, $hi) i";
}

# Fingerprint of a table under each of the given scans [mode, index]; they
# must agree.  With $check_plans, first check that the plans use those scans.
sub content
{
	my ($node, $rel, $label, $scans, $check_plans) = @_;
	my %where = (seq => 'WHERE id > 0', index => 'WHERE id > 0', bitmap => 'WHERE k >= 0');
	my @res;
	for my $s (@$scans)
	{
		my ($mode, $what) = @$s;
		my $sql = "SELECT $fp_cols FROM $rel $where{$mode}";
		check_plan($node, $mode, $what, $sql, "$label: $rel fingerprint, $mode")
		  if $check_plans;
		push @res, $node->safe_psql('postgres', "$scan{$mode} $sql");
	}
	for my $i (1 .. $#res)
	{
		is($res[$i], $res[0],
			"$label: $rel, $scans->[$i][0] scan gives the same content as $scans->[0][0] scan");
	}
	return $res[0];
}

# Rows for COPY ... FROM PROGRAM: "id k n v" for ids lo..hi (text format, n
# NULL for every 13th row).
my $generator = "$tmp/gen_rows.pl";
PostgreSQL::Test::Utils::append_to_file(
	$generator, q{
my ($lo, $hi) = @ARGV;
for my $i ($lo .. $hi)
{
	my $n = $i % 13 == 0 ? '\N' : $i * 7;
	print "$i\t", $i % 1000, "\t$n\trow $i ", chr(97 + $i % 26) x ($i % 50), "\n"
	  or exit 0;
}
});
die "unexpected character in $^X or $generator" if "$^X $generator" =~ /['\\]/;
sub copy_program
{
	my ($lo, $hi) = @_;
	return "PROGRAM '$^X $generator $lo $hi'";
}

###########################################################################
# Part 1: crash during COPY FREEZE

my $node = PostgreSQL::Test::Cluster->new('cold');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
max_connections = 30
restart_after_crash = off
autovacuum = off
log_statement = none
log_checkpoints = on
checkpoint_timeout = 1h
max_wal_size = 4GB
));
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION auradb');

my @cf_scans = ([ 'seq', 'cf' ], [ 'index', 'cf_pkey' ]);
$node->safe_psql(
	'postgres', qq{
BEGIN;
CREATE TABLE cf (id int PRIMARY KEY, k int NOT NULL, n int, v text) USING aura;
COPY cf FROM @{[ copy_program(1, 50000) ]} WITH (FREEZE);
COMMIT;
UPDATE cf SET n = coalesce(n, 0) + 1, v = v || ' updated' WHERE id % 10 = 3;
});
my $cf_old = content($node, 'cf', 'part 1, before the crashes', \@cf_scans, 1);
like($cf_old, qr/^50000\|/, 'part 1: cf holds 50000 rows');
my $cf_old_stats = stats($node, 'cf');
note 'part 1: cf before: ' . stats_note($cf_old_stats);
cmp_ok($cf_old_stats->{cold_rows}, '==', 45000,
	'part 1: the rows COPY FREEZE loaded and nobody updated are cold');
cmp_ok($cf_old_stats->{hot_pages}, '>', 0, 'part 1: the updated rows are hot');
my $cf_old_path = $node->safe_psql('postgres', q{SELECT pg_relation_filepath('cf')});
check_clean($node, 'cf', 'part 1, before the crashes');

my @copy_rounds = (
	{
		what => 'in the middle of COPY FREEZE of 2000000 rows, after a CHECKPOINT taken during it',
		rows => 2000000,
		tail => "COMMIT;\n",
	},
	{
		what => 'after COPY FREEZE of 300000 rows, before COMMIT',
		rows => 300000,
		tail => "SELECT 'copied';\nSELECT pg_sleep(120);\nCOMMIT;\n",
	},);
my $copy_round = 0;
for my $r (@copy_rounds)
{
	$copy_round++;
	my $label = "COPY crash round $copy_round";
	my $out = "$tmp/copy_$copy_round.out";
	my $h = background_psql_script(
		$node, 'aura_copy',
		"BEGIN;\nTRUNCATE cf;\nSELECT pg_relation_filepath('cf');\n"
		  . "COPY cf FROM @{[ copy_program(1, $r->{rows}) ]} WITH (FREEZE);\n"
		  . $r->{tail},
		$out, 180);

	my ($hit, $where, $new_path, $checkpointed) = (0, 'nothing seen', undef, 0);
	my $t0 = time();
	while (time() - $t0 < 60)
	{
		my $o = -e $out ? slurp_file($out) : '';
		$new_path = $1 if !defined $new_path && $o =~ /^(base\/\S+)$/m;
		if ($copy_round == 1)
		{
			my $n = $node->safe_psql('postgres',
				q{SELECT tuples_processed FROM pg_stat_progress_copy WHERE relid = 'cf'::regclass});
			next if $n eq '' || !defined $new_path;
			my $size = -s $node->data_dir . "/$new_path" // 0;
			$where = "$n rows copied, new relfilenode $new_path of $size bytes";
			if (!$checkpointed && $n >= 150000)
			{
				$node->safe_psql('postgres', 'CHECKPOINT');
				$checkpointed = 1;
				note "$label: CHECKPOINT during the COPY, at $where";
			}
			elsif ($checkpointed && $n >= 400000 && $size > 4 * 1024 * 1024)
			{
				$hit = 1;
				last;
			}
		}
		else
		{
			my $q = $node->safe_psql('postgres',
				q{SELECT query FROM pg_stat_activity WHERE application_name = 'aura_copy'});
			if ($o =~ /^copied$/m && $q =~ /^SELECT pg_sleep\(120\)/)
			{
				my $size = -s $node->data_dir . "/$new_path" // 0;
				($hit, $where) = (1, "COPY done, running \"$q\", new relfilenode $new_path of $size bytes");
				last;
			}
		}
	}
	continue
	{
		sleep(0.02);
	}
	note "$label: killing the server $r->{what}: $where";
	ok($hit, "$label: server killed $r->{what}");
	isnt($new_path // $cf_old_path, $cf_old_path, "$label: the load went to a new relfilenode");
	crash_and_restart($node, $label, [ [ $h, 'COPY client' ] ]);
	note "$label: COPY client output:\n" . slurp_file($out);

	is($node->safe_psql('postgres', q{SELECT pg_relation_filepath('cf')}),
		$cf_old_path, "$label: after recovery cf is in its old relfilenode");
	is(content($node, 'cf', "$label: after recovery", \@cf_scans),
		$cf_old, "$label: after recovery cf holds exactly its old rows");
	my $s = stats($node, 'cf');
	note "$label: cf after recovery: " . stats_note($s);
	is_deeply(
		{ map { $_ => $s->{$_} } qw(total_pages hot_pages cold_pages cold_rows live_rows versions) },
		{ map { $_ => $cf_old_stats->{$_} } qw(total_pages hot_pages cold_pages cold_rows live_rows versions) },
		"$label: after recovery aura_stats(cf) is what it was before the load");
	check_clean($node, 'cf', "$label: after recovery");
}
note sprintf('part 1 done after %.1f s', time() - $test_start);

###########################################################################
# Part 2: crash right after committed COPY FREEZE loads

$node->safe_psql('postgres', 'CHECKPOINT');
my $redo_before = $node->safe_psql('postgres', 'SELECT redo_lsn FROM pg_control_checkpoint()');
$node->safe_psql(
	'postgres', qq{
BEGIN;
TRUNCATE cf;
COPY cf FROM @{[ copy_program(1, 200000) ]} WITH (FREEZE);
COMMIT;
});
$node->safe_psql(
	'postgres', qq{
BEGIN;
CREATE TABLE cf2 (id int PRIMARY KEY, k int NOT NULL, n int, v text) USING aura;
COPY cf2 FROM @{[ copy_program(1, 60000) ]} WITH (FREEZE);
COPY cf2 FROM @{[ copy_program(60001, 100000) ]} WITH (FREEZE);
INSERT INTO cf2 @{[ generated_rows(100001, 100010) ]};
CREATE INDEX cf2_k ON cf2 (k);
COMMIT;
});
my %cf_pre = map { $_ => stats($node, $_) } qw(cf cf2);
note "part 2: before the crash: $_: " . stats_note($cf_pre{$_}) for qw(cf cf2);
is($node->safe_psql('postgres', 'SELECT redo_lsn FROM pg_control_checkpoint()'),
	$redo_before, 'part 2: no checkpoint since the loads began');
crash_and_restart($node, 'part 2');

my %expected = (
	cf => $node->safe_psql('postgres', "SELECT $fp_cols FROM (@{[ generated_rows(1, 200000) ]}) s"),
	cf2 => $node->safe_psql('postgres', "SELECT $fp_cols FROM (@{[ generated_rows(1, 100010) ]}) s"),
);
my %loaded = (cf => [ 200000, 200000 ], cf2 => [ 100010, 100000 ]);    # rows, cold rows
for my $rel (qw(cf cf2))
{
	my $label = "part 2: $rel after recovery";
	my @scans = ([ 'seq', $rel ], [ 'index', "${rel}_pkey" ]);
	push @scans, [ 'bitmap', 'cf2_k' ] if $rel eq 'cf2';
	is(content($node, $rel, $label, \@scans, 1),
		$expected{$rel}, "$label: every loaded row is there");
	my $s = stats($node, $rel);
	note "$label: " . stats_note($s);
	my ($rows, $cold) = @{ $loaded{$rel} };
	is($s->{live_rows}, $rows, "$label: aura_stats counts $rows live rows");
	is($s->{cold_rows}, $cold, "$label: the $cold rows of COPY FREEZE are cold");
	is($s->{versions}, $rows, "$label: one version per row");
	if ($rel eq 'cf')
	{
		is($s->{hot_pages}, 0, "$label: no hot page");
	}
	else
	{
		is($s->{hot_pages}, 1, "$label: one hot page (the INSERTed rows)");
	}
	is($s->{cold_pages}, $cf_pre{$rel}{cold_pages},
		"$label: as many cold pages as before the crash");
	check_clean($node, $rel, $label);
}

# The recovered cold rows can be updated (materialised) and go back cold.
$node->safe_psql(
	'postgres', q{
UPDATE cf SET n = coalesce(n, 0) + 1 WHERE id % 100 = 0;
DELETE FROM cf WHERE id % 1000 = 1;
SELECT * FROM cf WHERE id % 1000 = 2 FOR UPDATE;
});
my $cf_after = content($node, 'cf', 'part 2: cf after writes', \@cf_scans);
like($cf_after, qr/^199800\|/, 'part 2: cf after writes has 199800 rows');
check_clean($node, 'cf', 'part 2: after writes to cold rows');
$node->safe_psql('postgres', 'VACUUM (FREEZE) cf');
is(content($node, 'cf', 'part 2: cf after VACUUM', \@cf_scans),
	$cf_after, 'part 2: VACUUM did not change the content of cf');
my $s2 = stats($node, 'cf');
note 'part 2: cf after writes and VACUUM: ' . stats_note($s2);
is($s2->{cold_rows}, 199800, 'part 2: after VACUUM every row of cf is cold again');
check_clean($node, 'cf', 'part 2: after writes and VACUUM');
$node->safe_psql('postgres', 'DROP TABLE cf, cf2');
note sprintf('part 2 done after %.1f s', time() - $test_start);

###########################################################################
# Part 3: crash during VACUUM's conversion to cold pages

$node->safe_psql(
	'postgres', q{
CREATE TABLE hv (id int PRIMARY KEY, k int NOT NULL, n int, v text) USING aura;
CREATE INDEX hv_k ON hv (k);
INSERT INTO hv SELECT i, i % 1000, i * 3, 'hot row ' || i || ' ' || md5(i::text) FROM generate_series(1, 200000) i;
UPDATE hv SET n = n + 1, v = v || ' u' WHERE id % 3 = 0;
CREATE TABLE heartbeat (n int NOT NULL, round int NOT NULL) USING aura;
});
{
	my $s = stats($node, 'hv');
	note 'part 3: hv: ' . stats_note($s);
	is($s->{cold_rows}, 0, 'part 3: hv starts with no cold row');
}
my @hv_scans = ([ 'seq', 'hv' ], [ 'index', 'hv_pkey' ], [ 'bitmap', 'hv_k' ]);

# Commits without pause (see 004_compaction.pl): they flush the WAL of the
# VACUUM, which commits nothing itself, up to a few ms before the crash.
my $heartbeat_generator = q{
	use Time::HiRes qw(sleep);
	$| = 1;
	my ($round, $n) = (@ARGV, 0);
	while (1)
	{
		$n++;
		print "INSERT INTO heartbeat VALUES ($n, $round);\n" or exit 0;
		sleep(0.003);
	}
};

# A waiter polls pg_stat_progress_vacuum from inside the server (every
# 0.5 ms, far faster than a client could) until the VACUUM of hv reaches the
# moment wanted, then reports it with a NOTICE; the crash follows within a
# few ms.  It reports "missed" if the VACUUM ended before.
sub vacuum_waiter_script
{
	my ($ready) = @_;
	return q{
DO $waiter$
DECLARE
	p record;
	seen boolean := false;
	t0 timestamptz := clock_timestamp();
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT * INTO p FROM pg_stat_progress_vacuum WHERE relid = 'hv'::regclass;
		IF FOUND THEN
			seen := true;
			EXIT WHEN } . $ready . q{;
		ELSIF seen OR clock_timestamp() - t0 > interval '60 s' THEN
			RAISE NOTICE 'missed: %',
				CASE WHEN seen THEN 'the VACUUM ended' ELSE 'no VACUUM seen' END;
			RETURN;
		END IF;
		PERFORM pg_sleep(0.0005);
	END LOOP;
	RAISE NOTICE 'hit: phase "%", % of % blocks scanned, % index passes, % dead rowids',
		p.phase, p.heap_blks_scanned, p.heap_blks_total, p.index_vacuum_count,
		p.num_dead_tuples;
END
$waiter$;
};
}

my ($at1, $at2) = (0.15 + rand(0.2), 0.5 + rand(0.3));
my @rounds = (
	{
		what => sprintf('VACUUM (FREEZE, VERBOSE), %d%% through its scan', 100 * $at1),
		before => '',
		script => 'VACUUM (FREEZE, VERBOSE) hv;',
		ready => sprintf(q{p.phase = 'scanning heap' AND p.heap_blks_total > 0 AND p.heap_blks_scanned >= %.3f * p.heap_blks_total},
			$at1),
	},
	{
		what => sprintf('VACUUM (FREEZE, VERBOSE), %d%% through its scan', 100 * $at2),
		# cold rows materialised, deleted; new rows
		before => q{
UPDATE hv SET n = n + 1, v = v || ' r2' WHERE id % 5 = 2;
DELETE FROM hv WHERE id % 23 = 2;
INSERT INTO hv SELECT i, i % 1000, i, 'new ' || i FROM generate_series(1000001, 1010000) i;
},
		script => 'VACUUM (FREEZE, VERBOSE) hv;',
		ready => sprintf(q{p.phase = 'scanning heap' AND p.heap_blks_total > 0 AND p.heap_blks_scanned >= %.3f * p.heap_blks_total},
			$at2),
	},
	{
		what => 'VACUUM (FREEZE, VERBOSE), after its scan, removing dead rowids from the indexes',
		# an indexed column changes: new rowids, dead ones
		before => q{
UPDATE hv SET k = k + 1 WHERE id % 11 = 3;
UPDATE hv SET v = v || ' r3' WHERE id % 9 = 3;
},
		script => 'VACUUM (FREEZE, VERBOSE) hv;',
		ready => q{p.phase = 'vacuuming indexes'},
		# then a complete VACUUM, so that the next one has no dead rowids
		complete_after => 1,
	},
	{
		what => 'VACUUM (FREEZE, VERBOSE), rebuilding cold pages and freeing pages',
		# most rows of a range of cold pages are materialised (no rowid
		# changes, so the VACUUM has no index pass): those pages are rebuilt
		before => q{
UPDATE hv SET n = n + 1 WHERE id BETWEEN 20001 AND 60000 AND id % 5 <> 0;
UPDATE hv SET v = v || ' r4' WHERE id % 9 = 4;
},
		script => 'VACUUM (FREEZE, VERBOSE) hv;',
		ready => q{p.phase = 'vacuuming heap' AND p.index_vacuum_count = 0},
	},
	{
		what => 'aura_compact() done, its transaction not committed',
		before => q{
UPDATE hv SET n = n - 1 WHERE id % 7 = 4;
DELETE FROM hv WHERE id BETWEEN 1005001 AND 1006000;
},
		script => "BEGIN;\nSELECT aura_compact('hv', true);\nSELECT pg_sleep(120);\nCOMMIT;\n",
		activity => qr/^SELECT pg_sleep\(120\)/,
	},);

my $round = 0;
my $hv_expected;
my $rows;
for my $r (@rounds)
{
	$round++;
	my $label = "VACUUM crash round $round";
	$node->safe_psql('postgres', $r->{before}) if $r->{before} ne '';
	my $s = stats($node, 'hv');
	note "$label: before: " . stats_note($s);
	$hv_expected = content($node, 'hv', "$label: before", \@hv_scans, $round == 1);
	$rows = (split /\|/, $hv_expected)[0];

	my $waiter_out = "$tmp/waiter_$round.out";
	my $waiter;
	$waiter = background_psql_script($node, 'aura_waiter',
		vacuum_waiter_script($r->{ready}), $waiter_out, 180)
	  unless $r->{activity};
	my $beat = generated_psql($node, 'aura_heartbeat', $heartbeat_generator,
		[$round], "$tmp/heartbeat_$round.out", 180);
	my $out = "$tmp/vacuum_$round.out";
	my $h = background_psql_script(
		$node, 'aura_vacuum',
		"SET maintenance_work_mem = '1MB';\nSET vacuum_cost_delay = '1ms';\n"
		  . "SET vacuum_cost_limit = 1000;\n$r->{script}",
		$out, 180);

	my $t0 = time();
	my ($hit, $where) = (0, 'nothing seen');
	while (time() - $t0 < 70)
	{
		if ($r->{activity})
		{
			my $q = $node->safe_psql('postgres',
				q{SELECT query FROM pg_stat_activity WHERE application_name = 'aura_vacuum'});
			if ($q =~ $r->{activity})
			{
				($hit, $where) = (1, "running \"$q\"");
				last;
			}
			sleep(0.01);
		}
		else
		{
			my $w = -e $waiter_out ? slurp_file($waiter_out) : '';
			if ($w =~ /NOTICE:  (hit|missed): (.*)/)
			{
				($hit, $where) = ($1 eq 'hit', $2);
				last;
			}
			if ($w =~ /ERROR/)
			{
				$where = "waiter failed: $w";
				last;
			}
			sleep(0.001);
		}
	}
	my @clients = ([ $h, 'VACUUM client' ], [ $beat, 'heartbeat client' ]);
	push @clients, [ $waiter, 'waiter' ] if $waiter;
	crash_node($node);
	note "$label: killed the server during $r->{what}: $where";
	ok($hit, "$label: server killed during $r->{what}");
	crash_and_restart($node, $label, \@clients, 1);
	note "$label: VACUUM client output:\n" . slurp_file($out);

	cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM heartbeat WHERE round = $round"),
		'>', 0, "$label: commits made during the VACUUM survived");
	my $s_rec = stats($node, 'hv');
	note "$label: after recovery: " . stats_note($s_rec);
	check_clean($node, 'hv', "$label: after recovery");
	is(content($node, 'hv', "$label: after recovery", \@hv_scans),
		$hv_expected, "$label: after recovery the content is what it was before the VACUUM");
	is($s_rec->{live_rows}, $s->{live_rows},
		"$label: after recovery aura_stats counts the same live rows");
	cmp_ok($s_rec->{cold_rows}, '>', $s->{cold_rows},
		"$label: after recovery part of the work of the VACUUM is there (more cold rows)");
	if ($r->{activity})
	{
		is($s_rec->{vacuum_passes}, $s->{vacuum_passes} + 1,
			"$label: after recovery the pass of aura_compact() is counted");
		is($s_rec->{cold_rows}, $s_rec->{live_rows},
			"$label: after recovery every row is cold (all the work of aura_compact() is there)");
	}
	else
	{
		is($s_rec->{vacuum_passes}, $s->{vacuum_passes},
			"$label: after recovery the VACUUM is not counted (it did not finish)");
	}
	if ($round <= 2)
	{
		cmp_ok($s_rec->{cold_rows}, '<', $s_rec->{live_rows},
			"$label: after recovery part of the work of the VACUUM is missing (hot rows left)");
	}
	# point lookups through the index find the same rows as the seq scan
	my $points = 'SELECT count(*), sum(n) FROM hv WHERE id IN (1, 2, 3, 30000, 45002, 99999, 150001, 1000003, 1009999)';
	is($node->safe_psql('postgres', "$scan{index} $points"),
		$node->safe_psql('postgres', "$scan{seq} $points"),
		"$label: point lookups by index agree with the seq scan");

	if ($r->{complete_after})
	{
		my ($ret, $vout, $verr) = $node->psql('postgres', 'VACUUM (FREEZE) hv');
		is($ret, 0, "$label: a VACUUM after recovery completes") or diag $verr;
		my $sv = stats($node, 'hv');
		note "$label: after a complete VACUUM: " . stats_note($sv);
		is($sv->{cold_rows}, $rows, "$label: after a complete VACUUM every row is cold");
		is($sv->{dead_versions}, 0, "$label: after a complete VACUUM no dead version");
		check_clean($node, 'hv', "$label: after a complete VACUUM");
		is(content($node, 'hv', "$label: after a complete VACUUM", \@hv_scans),
			$hv_expected, "$label: after a complete VACUUM the content is still the same");
	}
}

# A complete VACUUM after the crashes: every row cold; one more frees the hot
# pages (pages written during a pass, such as those of materialised copies,
# are freed by the next one).
{
	my $label = 'part 3: after the crash rounds';
	my ($ret, $vout, $verr) = $node->psql('postgres', 'VACUUM (FREEZE, VERBOSE) hv');
	is($ret, 0, "$label: VACUUM (FREEZE) completes") or diag $verr;
	note "$label: VACUUM output: $verr";
	my $s = stats($node, 'hv');
	note "$label: after a complete VACUUM: " . stats_note($s);
	is($s->{live_rows}, $rows, "$label: after VACUUM aura_stats counts $rows live rows");
	is($s->{cold_rows}, $rows, "$label: after VACUUM every row is cold");
	is($s->{versions}, $rows, "$label: after VACUUM one version per row");
	is($s->{dead_versions}, 0, "$label: after VACUUM no dead version");
	check_clean($node, 'hv', "$label, VACUUM");
	is(content($node, 'hv', "$label, VACUUM", \@hv_scans),
		$hv_expected, "$label: after VACUUM the content is still the same");

	$node->safe_psql('postgres', 'VACUUM (FREEZE) hv');
	$s = stats($node, 'hv');
	note "$label: after a second VACUUM: " . stats_note($s);
	is($s->{hot_pages}, 0, "$label: after a second VACUUM no hot page is left");
	is($s->{cold_rows}, $rows, "$label: after a second VACUUM every row is still cold");
	check_clean($node, 'hv', "$label, second VACUUM");
	is(content($node, 'hv', "$label, second VACUUM", \@hv_scans),
		$hv_expected, "$label: after a second VACUUM the content is still the same");
}
check_log_health($node);
$node->stop;
note sprintf('part 3 done after %.1f s', time() - $test_start);

###########################################################################
# Part 4: a hot standby reading cold pages

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', qq(
autovacuum = off
log_statement = none
max_connections = 30
max_wal_size = 1GB
));
$primary->start;
my $standby = start_standby(
	$primary, 'standby',
	max_standby_streaming_delay => '0',
	hot_standby_feedback => 'off',
	wal_receiver_status_interval => '1s',
	log_recovery_conflict_waits => 'on');

# Everything reaches the standby through WAL.  acc: COPY FREEZE in the
# creating transaction; acc2: INSERT, then VACUUM FREEZE.
my %nrows = (acc => 100000, acc2 => 50000);
$primary->safe_psql('postgres', 'CREATE EXTENSION auradb');
$primary->safe_psql('postgres',
	"COPY (SELECT i, 1000, md5(i || ':1000') FROM generate_series(1, $nrows{acc}) i) TO '$tmp/acc.dat'");
$primary->safe_psql(
	'postgres', qq{
BEGIN;
CREATE TABLE acc (id int PRIMARY KEY, bal int NOT NULL, chk text NOT NULL) USING aura;
COPY acc FROM '$tmp/acc.dat' WITH (FREEZE);
COMMIT;
CREATE TABLE acc2 (id int PRIMARY KEY, bal int NOT NULL, chk text NOT NULL) USING aura;
INSERT INTO acc2 SELECT i, 1000, md5(i || ':1000') FROM generate_series(1, $nrows{acc2}) i;
});
$primary->safe_psql('postgres', 'VACUUM (FREEZE) acc2');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
for my $rel (qw(acc acc2))
{
	my $s = stats($standby, $rel);
	note "part 4: standby, $rel: " . stats_note($s);
	is($s->{cold_rows}, $nrows{$rel}, "part 4: on the standby every row of $rel is cold");
}

my %acc_query;
for my $rel (qw(acc acc2))
{
	$acc_query{seq}{$rel} =
	  "SELECT '$rel seq', count(*), sum(bal), count(*) FILTER (WHERE chk <> md5(id || ':' || bal)) FROM $rel;";
	$acc_query{index}{$rel} =
	  "SELECT '$rel index', count(*), sum(bal), count(*) FILTER (WHERE chk <> md5(id || ':' || bal)) FROM $rel WHERE id > 0;";
}
for my $n ($primary, $standby)
{
	for my $rel (qw(acc acc2))
	{
		for my $mode (qw(seq index))
		{
			check_plan($n, $mode, $mode eq 'seq' ? $rel : "${rel}_pkey",
				$acc_query{$mode}{$rel}, $n->name . ": invariant query on $rel, $mode");
		}
	}
}

my %standby_check;
for my $mode (qw(seq index))
{
	for my $rel (qw(acc acc2))
	{
		$standby_check{"$rel $mode"} =
		  "\\set VERBOSITY verbose\n$scan{$mode}\n$acc_query{$mode}{$rel}\n";
	}
}
$standby_check{all} =
    "\\set VERBOSITY verbose\nBEGIN ISOLATION LEVEL REPEATABLE READ;\n"
  . join('', map { my $m = $_; map { "$scan{$m}\n$acc_query{$m}{$_}\n" } qw(acc acc2) } qw(seq index))
  . "COMMIT;\n";
my @check_kinds = ('all', 'acc seq', 'acc index', 'acc2 seq', 'acc2 index');

# Check the output of a standby check; returns an error message or undef.
sub invariant_problem
{
	my ($kind, $out) = @_;
	my %res = map { my @f = split /\|/; (shift(@f) => join('|', @f)) } split /\n/, $out;
	my @want = $kind eq 'all' ? ('acc seq', 'acc2 seq', 'acc index', 'acc2 index') : ($kind);
	for my $w (@want)
	{
		my ($rel) = split / /, $w;
		my $want = "$nrows{$rel}|" . (1000 * $nrows{$rel}) . '|0';
		return "$w: want $want, got " . ($res{$w} // 'nothing')
		  if ($res{$w} // '') ne $want;
	}
	return undef;
}

# acc: amounts move between any two rows, rows are locked; acc2: amounts
# move between rows 1..40000, rows 40001..50000 are deleted and re-inserted
# (apart, so that no transfer's UPDATE skips a row deleted meanwhile).
my %bench_files = (
	'transfer_acc.sql' => q{
\set a random(1, 100000)
\set b random(1, 100000)
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set d random(1, 100)
BEGIN;
UPDATE acc SET bal = bal - :d, chk = md5(id || ':' || (bal - :d)) WHERE id = :lo;
UPDATE acc SET bal = bal + :d, chk = md5(id || ':' || (bal + :d)) WHERE id = :hi;
END;
},
	'transfer_acc2.sql' => q{
\set a random(1, 40000)
\set b random(1, 40000)
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set d random(1, 100)
BEGIN;
UPDATE acc2 SET bal = bal - :d, chk = md5(id || ':' || (bal - :d)) WHERE id = :lo;
UPDATE acc2 SET bal = bal + :d, chk = md5(id || ':' || (bal + :d)) WHERE id = :hi;
END;
},
	'lock_reinsert.sql' => q{
\set a random(1, 100000)
\set c random(40001, 50000)
SELECT bal FROM acc WHERE id = :a FOR SHARE;
WITH d AS (DELETE FROM acc2 WHERE id = :c RETURNING *) INSERT INTO acc2 SELECT * FROM d;
},);
for my $f (sort keys %bench_files)
{
	PostgreSQL::Test::Utils::append_to_file("$tmp/$f", $bench_files{$f});
}

my $acc_content = q{SELECT count(*), sum(bal), md5(string_agg(id || ':' || bal || ':' || chk, ',' ORDER BY id)) FROM %s WHERE id > 0};
my @stat_fields = qw(total_pages hot_pages cold_pages free_pages cold_rows live_rows versions);

# Both nodes return the same, whatever the scan, once the standby caught up.
sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	for my $rel (qw(acc acc2))
	{
		my $sql = sprintf($acc_content, $rel);
		my $want = $primary->safe_psql('postgres', "$scan{seq} $sql");
		like($want, qr/^$nrows{$rel}\|@{[ 1000 * $nrows{$rel} ]}\|/,
			"$label: primary, $rel has its rows and sum(bal)");
		for my $mode (qw(seq index))
		{
			is($primary->safe_psql('postgres', "$scan{$mode} $sql"),
				$want, "$label: primary, $rel, $mode scan: same content");
			is($standby->safe_psql('postgres', "$scan{$mode} $sql"),
				$want, "$label: standby, $rel, $mode scan: same content as the primary");
		}
		my ($ps, $ss) = map { stats($_, $rel) } $primary, $standby;
		is_deeply({ map { $_ => $ss->{$_} } @stat_fields },
			{ map { $_ => $ps->{$_} } @stat_fields },
			"$label: standby, $rel: same aura_stats as the primary")
		  or diag 'primary: ' . stats_note($ps) . "\nstandby: " . stats_note($ss);
	}
	return;
}

compare_nodes('part 4: standby set up');

my $phase_duration = 5;
my $vacuum_generator = q{
	use Time::HiRes qw(time sleep);
	$| = 1;
	my $end = time() + $ARGV[0];
	my $i = 0;
	while (time() < $end)
	{
		$i++;
		print $i % 2 ? "VACUUM (FREEZE) acc;\nVACUUM acc2;\n"
		  : "SELECT aura_compact('acc2');\nVACUUM (FREEZE) acc;\n"
		  or exit 0;
		sleep(1);
	}
};
my @variants = (
	{
		name => 'hot_standby_feedback = off, max_standby_streaming_delay = 0',
		feedback => 'off',
		min_ok => 0,
	},
	{
		name => 'hot_standby_feedback = on, max_standby_streaming_delay = 0',
		feedback => 'on',
		min_ok => 3,
	},);
my ($nvariant, $ok_all) = (0, 0);
for my $variant (@variants)
{
	my $label = "part 4, $variant->{name}";
	my $feedback = $variant->{feedback};
	$nvariant++;
	reconfigure_standby($standby, $label, hot_standby_feedback => $feedback);
	my %stats0 = map { $_ => stats($primary, $_) } qw(acc acc2);

	my $ok = standby_phase(
		primary => $primary,
		standby => $standby,
		label => $label,
		duration => $phase_duration,
		tmp => $tmp,
		tag => $nvariant,
		pgbench => [
			'-c', '2', '-j', '2',
			'-f', "$tmp/transfer_acc.sql\@4", '-f', "$tmp/transfer_acc2.sql\@4",
			'-f', "$tmp/lock_reinsert.sql\@2"
		],
		vacuum_generator => $vacuum_generator,
		kinds => \@check_kinds,
		checks => \%standby_check,
		problem => \&invariant_problem,
		min_ok => $variant->{min_ok},
		min_xacts => 100,
		during => 'the load');
	$ok_all += $ok->{all} // 0;
	for my $rel (qw(acc acc2))
	{
		my $s1 = stats($primary, $rel);
		note "$label: primary, $rel: " . stats_note($s1);
		cmp_ok($s1->{rows_made_cold} - $stats0{$rel}{rows_made_cold}, '>', 0,
			"$label: VACUUM turned materialised rows of $rel cold again");
	}
	compare_nodes("after $label");
}

# Final compaction, then compare again and check both nodes.
$primary->safe_psql('postgres', 'VACUUM (FREEZE) acc');
$primary->safe_psql('postgres', "SELECT aura_compact('acc2')");
compare_nodes('part 4: after the final compaction');
for my $rel (qw(acc acc2))
{
	my $s = stats($standby, $rel);
	is($s->{cold_rows}, $nrows{$rel}, "part 4: after the final compaction every row of $rel is cold on the standby");
	my ($ret, $out, $err) = $standby->psql('postgres', "SELECT * FROM aura_check('$rel')");
  SKIP:
	{
		if ($ret != 0
			&& $err =~ /cannot acquire lock mode ShareLock on database objects while recovery is in progress/)
		{
			note "aura_check($rel) on the standby: $err";
			skip 'aura_check() needs a ShareLock, which a standby does not grant', 1;
		}
		ok($ret == 0 && $err !~ /WARNING|ERROR/, "standby: aura_check($rel) is clean")
		  or diag "exit code $ret: $err";
	}
	check_clean($primary, $rel, 'part 4: primary after the load');
}

# The standby's pages as WAL replay made them: promote it and check them.
my %final = map { $_ => $primary->safe_psql('postgres', sprintf($acc_content, $_)) } qw(acc acc2);
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for promotion';
for my $rel (qw(acc acc2))
{
	check_clean($standby, $rel, 'part 4: promoted standby');
	for my $mode (qw(seq index))
	{
		is($standby->safe_psql('postgres', "$scan{$mode} " . sprintf($acc_content, $rel)),
			$final{$rel}, "part 4: promoted standby, $rel, $mode scan: same content as the old primary");
	}
}
check_log_health($_) for $primary, $standby;
$standby->stop;

note sprintf('test done after %.1f s', time() - $test_start);
done_testing();
