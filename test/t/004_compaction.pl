
# Copyright (c) auradb authors
#
# Compaction (VACUUM, aura_compact) of aura tables while they are in use, when
# it is interrupted by a crash, and as seen by a hot standby.
#
# Part 1, compaction under concurrent load: pgbench (TPC-B like, 4 clients)
# runs on aura tables while a loop runs VACUUM, aura_compact() of
# pgbench_accounts and VACUUM pgbench_history about every second, and now and
# then aura_check().  Afterwards: no failed pgbench transaction, the pgbench
# invariant holds, aura_check() is clean on every table, index and bitmap
# scans agree with sequential scans, aura_stats() shows what VACUUM did (and
# that, with nobody else running, nothing dead is left), relfrozenxid
# advanced, and the tables did not grow without bound: pgbench_accounts by no
# more than the new versions written, pgbench_branches and pgbench_tellers
# (one hot page of data each) far less than they would without reclaiming
# pages, because their freed pages were reused.
#
# Part 2, crash in the middle of compaction: a 200000-row table with two
# indexes, large values and many dead versions (non-key updates, updates of an
# indexed column, deletes, re-inserts, an aborted transaction) is compacted
# and every server process is killed with SIGKILL at four moments:
#   1. VACUUM (FREEZE) 5-22% (at random) of its way through the scan of the
#      row map, before any index cleanup;
#   2. VACUUM (FREEZE) during its first round of index cleanup (dead rowids
#      overflow maintenance_work_mem = 1MB), in the middle of the scan;
#   3. VACUUM (FREEZE) after that round and the recycling of those rowids,
#      back to scanning;
#   4. aura_compact() done, its transaction not yet committed.
# (The VACUUMs are slowed down with vacuum_cost_delay, so that they can be
# caught in the middle, and a client keeps committing small transactions into
# another table, so that the WAL of the compaction is flushed up to a few
# milliseconds before the crash.)  After crash recovery: part of the work of
# an interrupted VACUUM is there and part is not, all the work of the finished
# aura_compact() is there; aura_check() is clean; the content is exactly what
# it was before the compaction (a fingerprint of every row under a seq scan,
# an index scan of the primary key and a bitmap scan of the index on k); and a
# second VACUUM completes and leaves aura_check() clean, the same content and
# no dead version.
#
# Part 3, a hot standby while the primary compacts: pgbench clients on the
# primary move amounts between rows (updating an indexed column too), delete
# and re-insert rows and move whole ranges of rows, keeping count(*) and
# sum(v) constant and every row's checksum column consistent, while VACUUM and
# aura_compact() run in a loop.  On the standby, queries check those
# invariants over and over, under a seq, an index or a bitmap scan, or all
# three in one snapshot (where they must also agree on sum(k)), with three
# settings of the standby: hot_standby_feedback off and conflicting queries
# cancelled at once (max_standby_streaming_delay = 0), feedback off and replay
# waiting up to 10 s, feedback on and queries cancelled at once.  Every
# standby query must either give correct results or fail with a recovery
# conflict (SQLSTATE 40001), nothing else.  After each variant the standby
# catches up and must return exactly what the primary returns.  Finally
# aura_check() runs on the standby (if the server grants its ShareLock during
# recovery; PG15 does not) and on the primary, the standby is promoted, and
# aura_check(), pgbench writes and compaction must work there.
#
# No server log may show a PANIC, an assertion failure or a crashed backend.
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

###########################################################################
# Part 1: compaction under concurrent pgbench load

my $scale = 2;
my $duration = 13;

my $node = PostgreSQL::Test::Cluster->new('compact');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
max_connections = 30
restart_after_crash = off
autovacuum = off
log_statement = none
checkpoint_timeout = 30s
max_wal_size = 256MB
));
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION auradb');
$node->safe_psql('postgres',
	'ALTER DATABASE postgres SET default_table_access_method = aura');
$node->command_ok([ 'pgbench', '-i', '-q', '-s', $scale, 'postgres' ],
	"pgbench -i -s $scale on aura tables");

my @pgbench_tables =
  qw(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history);
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(c.relname || '=' || a.amname, ',' ORDER BY c.relname)
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname LIKE 'pgbench\_%' AND c.relkind = 'r'}),
	join(',', map { "$_=aura" } sort @pgbench_tables),
	'pgbench tables use access method aura');

# Versions per page of branch and teller rows, to estimate how large those
# tables would grow if VACUUM did not reclaim their pages.
$node->safe_psql(
	'postgres', q{
CREATE TABLE calib_branches (LIKE pgbench_branches);
INSERT INTO calib_branches (bid, bbalance) SELECT 1, -i FROM generate_series(1, 20000) i;
CREATE TABLE calib_tellers (LIKE pgbench_tellers);
INSERT INTO calib_tellers (tid, bid, tbalance) SELECT i % 20, 1, -i FROM generate_series(1, 20000) i;
});
my %per_page;
for my $t (qw(branches tellers))
{
	my $s = stats($node, "calib_$t");
	$per_page{"pgbench_$t"} = $s->{versions} / $s->{hot_pages};
}
$node->safe_psql('postgres', 'DROP TABLE calib_branches, calib_tellers');

my %before = map { $_ => stats($node, $_) } @pgbench_tables;
my $frozenxid_before = $node->safe_psql('postgres',
	q{SELECT relfrozenxid FROM pg_class WHERE relname = 'pgbench_accounts'});
note sprintf(
	'before the run: pgbench_accounts %d pages (%d hot), %d versions; '
	  . 'versions per page: branches %.1f, tellers %.1f',
	$before{pgbench_accounts}{total_pages},
	$before{pgbench_accounts}{hot_pages},
	$before{pgbench_accounts}{versions},
	$per_page{pgbench_branches},
	$per_page{pgbench_tellers});

my $bench_out = "$tmp/pgbench_load.out";
my $bench = do
{
	local $ENV{PGAPPNAME} = 'aura_pgbench';
	IPC::Run::start(
		[
			'pgbench', '-n', '-c', '4', '-j', '2', '-T', $duration,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'<', \undef, '>', $bench_out, '2>&1',
		IPC::Run::timeout($duration + 120));
};

my $activity_query = q{
SELECT count(*) FROM pg_stat_activity
 WHERE application_name = 'aura_pgbench' AND backend_type = 'client backend'};
my $t0 = time();
while ($node->safe_psql('postgres', $activity_query) ne '4')
{
	last if time() - $t0 > 30;
	sleep(0.05);
}
my $bench_started = time();

# The compaction loop, while pgbench runs.
my ($iterations, $iterations_under_load, $loop_errors, $checks_during_load,
	$check_problems)
  = (0, 0, 0, 0, 0);
my %peak_pages;
my %passes;    # VACUUM passes run on each table
while (time() - $bench_started < $duration - 1)
{
	my $it0 = time();
	$iterations++;
	my $clients = $node->safe_psql('postgres', $activity_query);
	# odd iterations: VACUUM of the whole database, even ones: of the two
	# small tables; then always aura_compact() and VACUUM pgbench_history
	my $sql =
	    ($iterations % 2 ? 'VACUUM;' : 'VACUUM pgbench_branches, pgbench_tellers;')
	  . "\nSELECT aura_compact('pgbench_accounts');\nVACUUM pgbench_history;\n";
	my $whole = $iterations % 2;
	$passes{pgbench_accounts} += 1 + $whole;
	$passes{pgbench_branches} += 1;
	$passes{pgbench_tellers} += 1;
	$passes{pgbench_history} += 1 + $whole;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	if ($ret != 0)
	{
		$loop_errors++;
		diag "compaction iteration $iterations failed: $err";
	}
	$iterations_under_load++
	  if $clients eq '4' && $node->safe_psql('postgres', $activity_query) eq '4';

	if ($iterations % 3 == 0)
	{
		# aura_check() under load (its ShareLock holds writers back meanwhile)
		for my $rel (qw(pgbench_branches pgbench_tellers pgbench_accounts))
		{
			my ($cret, $cout, $cerr) =
			  $node->psql('postgres', "SELECT * FROM aura_check('$rel')");
			$checks_during_load++;
			if ($cret != 0 || $cerr =~ /WARNING|ERROR/)
			{
				$check_problems++;
				diag "aura_check($rel) during load, iteration $iterations: $cerr";
			}
		}
	}
	for my $rel (qw(pgbench_accounts pgbench_branches pgbench_tellers))
	{
		my $p = stats($node, $rel)->{total_pages};
		$peak_pages{$rel} = $p if ($peak_pages{$rel} // 0) < $p;
	}
	my $left = 1 - (time() - $it0);
	sleep($left) if $left > 0;
}
my $bench_ok = finish_quietly($bench, 'pgbench');
my $bench_output = slurp_file($bench_out);
note "pgbench output:\n$bench_output";
note sprintf('%d compaction iterations, %d with all pgbench clients running',
	$iterations, $iterations_under_load);

ok($bench_ok, 'pgbench exited successfully');
my ($xacts) = $bench_output =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $bench_output =~ /number of failed transactions: (\d+)/;
cmp_ok($xacts // 0, '>', 1000, 'pgbench processed transactions');
is($failed, 0, 'pgbench reports no failed transaction');
unlike($bench_output, qr/aborted|ERROR|FATAL/,
	'pgbench output shows no error and no aborted client');
is($loop_errors, 0, 'every VACUUM / aura_compact() during the load succeeded');
cmp_ok($iterations_under_load, '>=', 5,
	'compaction ran at least 5 times while all pgbench clients were running');
cmp_ok($checks_during_load, '>', 0, 'aura_check() ran during the load');
is($check_problems, 0, 'aura_check() was clean every time during the load');

my $history = $node->safe_psql('postgres', 'SELECT count(*) FROM pgbench_history');
is($history, $xacts, 'pgbench_history has one row per pgbench transaction');

# One final VACUUM, with nobody else running.
$node->safe_psql('postgres', "VACUUM; SELECT aura_compact('pgbench_accounts');");
$passes{$_}++ for @pgbench_tables;
$passes{pgbench_accounts}++;
my %after = map { $_ => stats($node, $_) } @pgbench_tables;

# the pgbench invariant
my ($sum_a, $sum_b, $sum_t, $sum_h) = split /\|/,
  $node->safe_psql(
	'postgres', q{
SELECT (SELECT sum(abalance) FROM pgbench_accounts),
       (SELECT sum(bbalance) FROM pgbench_branches),
       (SELECT sum(tbalance) FROM pgbench_tellers),
       (SELECT coalesce(sum(delta), 0) FROM pgbench_history)});
note "sum(delta) = $sum_h";
is($sum_a, $sum_h, 'after the load: sum(abalance) = sum(delta)');
is($sum_b, $sum_h, 'after the load: sum(bbalance) = sum(delta)');
is($sum_t, $sum_h, 'after the load: sum(tbalance) = sum(delta)');

check_clean($node, $_, 'after the load') for @pgbench_tables;

# seq scans, index scans and bitmap scans agree
for my $q (
	[
		'pgbench_accounts', 'pgbench_accounts_pkey',
		'SELECT count(*), sum(abalance), sum(bid), count(DISTINCT aid) FROM pgbench_accounts WHERE aid > 0'
	],
	[
		'pgbench_branches', 'pgbench_branches_pkey',
		'SELECT count(*), sum(bbalance) FROM pgbench_branches WHERE bid > 0'
	],
	[
		'pgbench_tellers', 'pgbench_tellers_pkey',
		'SELECT count(*), sum(tbalance), sum(bid) FROM pgbench_tellers WHERE tid > 0'
	])
{
	my ($rel, $idx, $sql) = @$q;
	my $seq = scan_result($node, 'seq', $rel, $sql, "after the load: $rel");
	for my $mode (qw(index bitmap))
	{
		is(scan_result($node, $mode, $idx, $sql, "after the load: $rel"),
			$seq, "after the load: $mode scan of $rel agrees with seq scan");
	}
}
my %rows = (
	pgbench_accounts => 100000 * $scale,
	pgbench_branches => $scale,
	pgbench_tellers => 10 * $scale);
for my $rel (sort keys %rows)
{
	is($node->safe_psql('postgres', "SELECT count(*) FROM $rel"),
		$rows{$rel}, "after the load: $rel has $rows{$rel} rows");
}

# what VACUUM did
for my $rel (@pgbench_tables)
{
	my $s = $after{$rel};
	note "$rel after the load: " . join(', ', map { "$_ $s->{$_}" } sort keys %$s);
	is($s->{vacuum_passes} - $before{$rel}{vacuum_passes},
		$passes{$rel}, "$rel: aura_stats counts the $passes{$rel} VACUUM passes");
	is($s->{dead_versions}, 0, "$rel: no dead version left after the final VACUUM");
	is($s->{live_rows}, $s->{versions}, "$rel: every version left is live");
}
for my $rel (qw(pgbench_accounts pgbench_branches pgbench_tellers))
{
	# every pgbench transaction updates one row of each
	cmp_ok($after{$rel}{versions_removed} - $before{$rel}{versions_removed},
		'>=', $xacts, "$rel: VACUUM removed the versions every transaction left");
}
cmp_ok($after{pgbench_accounts}{versions_frozen}, '>', 0,
	'pgbench_accounts: aura_compact() froze versions');
is( $node->safe_psql(
		'postgres', qq{
SELECT relfrozenxid::text::bigint > $frozenxid_before AND age(relfrozenxid) < 100
  FROM pg_class WHERE relname = 'pgbench_accounts'}),
	't',
	'pgbench_accounts: relfrozenxid advanced to a recent xid');

# Bounded size.  pgbench_accounts: pgbench -i loads it with COPY FREEZE, so
# it starts on cold pages; the first update of a cold row writes two hot
# versions (the materialised copy and the new one), and VACUUM moves settled
# rows back to cold pages and frees emptied hot pages.  It must grow by no
# more than the space of the hot versions written (two per transaction at
# most) and stay below twice its initial size.
{
	my ($p0, $p1) = map { $_->{pgbench_accounts}{total_pages} } \%before, \%after;
	# versions per hot page: from the table if it has hot pages, else the
	# width of a pgbench_accounts version (16 + 24 + 97 bytes, MAXALIGNed,
	# and a line pointer: 148 bytes)
	my $hot_per_page =
	  $before{pgbench_accounts}{hot_pages} > 0
	  ? $before{pgbench_accounts}{versions} / $before{pgbench_accounts}{hot_pages}
	  : int(8152 / 148);
	my $allowed = int(2 * $xacts / $hot_per_page * 1.25) + 32;
	note sprintf(
		'pgbench_accounts: %d pages before, %d after (%.2fx), peak %d; '
		  . '%d transactions would need about %d pages of new versions',
		$p0, $p1, $p1 / $p0, $peak_pages{pgbench_accounts},
		$xacts, 2 * $xacts / $hot_per_page);
	cmp_ok($p1 - $p0, '<=', $allowed,
		'pgbench_accounts grew by no more than the space of the new versions');
	cmp_ok($p1, '<=', 2 * $p0,
		'pgbench_accounts is less than twice its initial size');
	cmp_ok($peak_pages{pgbench_accounts}, '<=', 2 * $p0,
		'pgbench_accounts stayed below twice its initial size during the run');
}
# pgbench_branches / pgbench_tellers: their rows fit on one page, every
# transaction writes a new version of one row of each.  Without reclaiming
# pages they would grow by versions / versions-per-page; with freed pages
# reused they must stay far smaller, and must have freed more pages than they
# have (i.e. pages were freed, reused and freed again).
for my $rel (qw(pgbench_branches pgbench_tellers))
{
	my $written = $xacts + $before{$rel}{versions};
	my $unreclaimed = $written / $per_page{$rel};
	my $s = $after{$rel};
	note sprintf(
		'%s: %d pages now (peak %d, %d free, %d hot), %d pages freed during the run; '
		  . 'without reclaiming it would have about %d pages',
		$rel, $s->{total_pages}, $peak_pages{$rel}, $s->{free_pages},
		$s->{hot_pages}, $s->{pages_freed} - $before{$rel}{pages_freed}, $unreclaimed);
	cmp_ok($peak_pages{$rel}, '<=', 0.5 * $unreclaimed + 8,
		"$rel stayed below half the size it would have without reclaiming pages");
	cmp_ok($s->{total_pages}, '<=', 0.5 * $unreclaimed + 8,
		"$rel is below half the size it would have without reclaiming pages");
	cmp_ok($s->{pages_freed} - $before{$rel}{pages_freed}, '>', $s->{total_pages},
		"$rel: more pages were freed during the run than the table has (freed pages were reused)");
}
note sprintf('part 1 done after %.1f s', time() - $test_start);

###########################################################################
# Part 2: crash in the middle of compaction

$node->safe_psql(
	'postgres', q{
CREATE TABLE crashme (id int PRIMARY KEY, k int NOT NULL, g int NOT NULL, v text) USING aura;
CREATE INDEX crashme_k_idx ON crashme (k);
INSERT INTO crashme SELECT i, i % 1000, 0, md5(i::text) FROM generate_series(1, 200000) i;
CREATE TABLE heartbeat (n int NOT NULL, round int NOT NULL) USING aura;
});

# While a compaction runs, a client commits small transactions into another
# table without pause.  A VACUUM commits nothing, so without them its WAL
# could sit in the WAL buffers until the crash and be lost as a whole; each
# commit flushes it, so what the compaction did until a few milliseconds
# before the crash reaches crash recovery.
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

# Fingerprint of the whole content: count, sums, and the sum and xor of a
# hash of every row; under a seq scan, an index scan of the primary key and a
# bitmap scan of the index on k.
my $fingerprint = q{count(*), sum(k), sum(g), sum(hashtext(id || ':' || k || ':' || g || ':' || v)::bigint), bit_xor(hashtext(id || ':' || k || ':' || g || ':' || v)) FROM crashme};
my @fingerprint_scans = (
	[ 'seq', 'crashme', 'WHERE id > 0' ],
	[ 'index', 'crashme_pkey', 'WHERE id > 0' ],
	[ 'bitmap', 'crashme_k_idx', 'WHERE k >= 0' ],);

# The fingerprint under the three scans, which must agree; returns it.
sub crashme_content
{
	my ($label, $check_plans) = @_;
	if ($check_plans)
	{
		for my $f (@fingerprint_scans)
		{
			my ($mode, $what, $where) = @$f;
			check_plan($node, $mode, $what, "SELECT $fingerprint $where",
				"$label: fingerprint query, $mode");
		}
	}
	my @r = split /\n/,
	  $node->safe_psql('postgres',
		join("\n", map { "$scan{$_->[0]} SELECT $fingerprint $_->[2];" } @fingerprint_scans));
	is($r[1], $r[0], "$label: index scan gives the same content as seq scan");
	is($r[2], $r[0], "$label: bitmap scan on k gives the same content as seq scan");
	return $r[0];
}

my $progress_sql = q{
SELECT p.phase, p.heap_blks_total, p.heap_blks_scanned, p.index_vacuum_count, p.num_dead_tuples
  FROM pg_stat_progress_vacuum p WHERE p.relid = 'crashme'::regclass};

my $kill_at = 0.05 + rand(0.17);
my @rounds = (
	{
		what => sprintf('VACUUM (FREEZE), %d%% through the scan, before any index cleanup',
			100 * $kill_at),
		script => 'VACUUM (FREEZE) crashme;',
		ready => sub {
			my ($phase, $total, $scanned, $index_passes) = @_;
			return $phase eq 'scanning heap' && $total > 0
			  && $scanned >= $kill_at * $total && $index_passes == 0;
		},
	},
	{
		what => 'VACUUM (FREEZE), during its first index cleanup, in the middle of the scan',
		script => 'VACUUM (FREEZE) crashme;',
		ready => sub {
			my ($phase, $total, $scanned, $index_passes) = @_;
			return $phase eq 'vacuuming indexes' && $index_passes == 0
			  && $scanned < 0.9 * $total;
		},
	},
	{
		what => 'VACUUM (FREEZE), after its first index cleanup, scanning again',
		script => 'VACUUM (FREEZE) crashme;',
		ready => sub {
			my ($phase, $total, $scanned, $index_passes) = @_;
			return $phase eq 'scanning heap' && $index_passes >= 1;
		},
	},
	{
		what => 'aura_compact() done, its transaction not committed',
		script => "BEGIN;\nSELECT aura_compact('crashme');\nSELECT pg_sleep(120);\nCOMMIT;\n",
		activity => qr/^SELECT pg_sleep\(120\)/,
	},);

my $round = 0;
for my $r (@rounds)
{
	$round++;
	my $label = "crash round $round";

	# Dead versions: non-key updates (chains; blobs for some rows), an
	# indexed column updated on a contiguous range (rows move to new rowids,
	# their old pages empty), deletes and inserts (reusing rowids), and an
	# aborted transaction.
	my $lo = 1 + (($round + 1) % 3) * 60000;
	$node->safe_psql(
		'postgres', qq{
UPDATE crashme SET g = g + 1, v = v || 'r$round' WHERE id % 5 = $round % 5;
UPDATE crashme SET v = repeat(md5(id::text || 'r$round'), 800) WHERE id % 4000 = $round;
UPDATE crashme SET k = k + 1 WHERE id BETWEEN $lo AND $lo + 59999;
DELETE FROM crashme WHERE id % 10 = $round;
INSERT INTO crashme SELECT i, i % 1000, $round, md5(i::text) FROM generate_series($round * 1000000, $round * 1000000 + 19999) i;
BEGIN;
UPDATE crashme SET g = -1, v = 'aborted' WHERE id % 50 = 7;
INSERT INTO crashme SELECT i, 1, -1, 'aborted' FROM generate_series(5000000, 5004999) i;
ROLLBACK;
});
	my $s = stats($node, 'crashme');
	note "$label: before compaction: "
	  . join(', ', map { "$_ $s->{$_}" } qw(total_pages hot_pages versions live_rows dead_versions blobs));
	cmp_ok($s->{dead_versions}, '>', 100000, "$label: the table has many dead versions");
	my $expected = crashme_content("$label: before compaction", $round == 1);

	my $beat = generated_psql($node, 'aura_heartbeat', $heartbeat_generator,
		[$round], "$tmp/heartbeat_$round.out", 180);
	my $out = "$tmp/compaction_$round.out";
	my $h = background_psql_script(
		$node, 'aura_compaction',
		"SET maintenance_work_mem = '1MB';\nSET vacuum_cost_delay = '1ms';\n"
		  . "SET vacuum_cost_limit = 200;\n$r->{script}",
		$out, 180);

	my $t0 = time();
	my ($hit, $where) = (0, 'nothing seen');
	while (time() - $t0 < 30)
	{
		if ($r->{activity})
		{
			my $q = $node->safe_psql('postgres',
				q{SELECT query FROM pg_stat_activity WHERE application_name = 'aura_compaction'});
			if ($q =~ $r->{activity})
			{
				($hit, $where) = (1, "running \"$q\"");
				last;
			}
		}
		else
		{
			my $p = $node->safe_psql('postgres', $progress_sql);
			if ($p ne '')
			{
				my @p = split /\|/, $p;
				$where = "phase \"$p[0]\", $p[2] of $p[1] blocks scanned, "
				  . "$p[3] index passes, $p[4] dead rowids";
				if ($r->{ready}->(@p))
				{
					$hit = 1;
					last;
				}
			}
			elsif ($where ne 'nothing seen')
			{
				last;    # VACUUM ended
			}
		}
		sleep(0.01);
	}
	note "$label: killing the server during $r->{what}: $where";
	ok($hit, "$label: server killed during $r->{what}");
	crash_node($node);
	finish_quietly($h, 'compaction client');
	finish_quietly($beat, 'heartbeat client');
	note "$label: compaction client output:\n" . slurp_file($out);

	my $log_offset = -s $node->logfile;
	$node->start;
	ok( $node->log_contains(
			qr/database system was interrupted|not properly shut down/,
			$log_offset),
		"$label: server went through crash recovery");

	my $s_rec = stats($node, 'crashme');
	note "$label: after recovery: "
	  . join(', ', map { "$_ $s_rec->{$_}" } qw(total_pages hot_pages free_pages versions live_rows dead_versions unlinked_versions rowids_free vacuum_passes));
	is($s_rec->{live_rows}, $s->{live_rows},
		"$label: after recovery aura_stats counts the same live rows");
	if ($r->{activity})
	{
		is($s_rec->{dead_versions}, 0,
			"$label: after recovery the work of the finished compaction is all there");
	}
	else
	{
		cmp_ok($s_rec->{versions}, '<', $s->{versions},
			"$label: after recovery part of the work of the compaction is there");
		cmp_ok($s_rec->{dead_versions}, '>', 0,
			"$label: after recovery part of the work of the compaction is missing");
	}
	cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM heartbeat WHERE round = $round"),
		'>', 0, "$label: commits made during the compaction survived");
	check_clean($node, 'crashme', "$label: after recovery");
	is(crashme_content("$label: after recovery"), $expected,
		"$label: after recovery the content is what it was before the compaction");

	# A second compaction completes and cleans up.
	my ($ret, $vout, $verr) = $node->psql('postgres', 'VACUUM crashme');
	is($ret, 0, "$label: VACUUM after recovery completes") or diag $verr;
	check_clean($node, 'crashme', "$label: after recovery and VACUUM");
	is(crashme_content("$label: after recovery and VACUUM"), $expected,
		"$label: after VACUUM the content is still what it was");
	$s = stats($node, 'crashme');
	note "$label: after VACUUM: "
	  . join(', ', map { "$_ $s->{$_}" } qw(total_pages hot_pages free_pages versions live_rows dead_versions unlinked_versions rowids_free));
	is($s->{dead_versions}, 0, "$label: no dead version left after VACUUM");
	is($s->{versions}, $s->{live_rows}, "$label: every version left is live");
}

# The recovered table takes writes again.
$node->safe_psql(
	'postgres', q{
UPDATE crashme SET k = k + 1, v = v || 'after' WHERE id % 7 = 0;
DELETE FROM crashme WHERE id % 11 = 0;
INSERT INTO crashme SELECT i, i % 1000, 9, md5(i::text) FROM generate_series(9000000, 9009999) i;
VACUUM crashme;
});
check_clean($node, 'crashme', 'after the crash rounds, writes and VACUUM');
crashme_content('after the crash rounds, writes and VACUUM', 1);
check_log_health($node);
$node->stop;
note sprintf('part 2 done after %.1f s', time() - $test_start);

###########################################################################
# Part 3: a hot standby while the primary compacts

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf(
	'postgresql.conf', qq(
autovacuum = off
log_statement = none
max_connections = 30
));
$primary->start;
my $standby = start_standby(
	$primary, 'standby',
	max_standby_streaming_delay => '0',
	hot_standby_feedback => 'off',
	wal_receiver_status_interval => '1s',
	log_recovery_conflict_waits => 'on');

# The extension, the table and its contents reach the standby through WAL.
$primary->safe_psql('postgres', 'CREATE EXTENSION auradb');

# ids 1..25000: amounts move between them (and k changes: new rowids);
# 25001..30000: deleted and re-inserted; 30001..33000: moved in ranges.
my $nrows = 33000;
my $sum_id = $nrows * ($nrows + 1) / 2;
my $sum_id2 = $nrows * ($nrows + 1) * (2 * $nrows + 1) / 6;
$primary->safe_psql(
	'postgres', qq{
CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL, v int NOT NULL, chk text NOT NULL) USING aura;
CREATE INDEX t_k_idx ON t (k);
INSERT INTO t SELECT i, i, 0, md5(i || ':0') FROM generate_series(1, $nrows) i;
});

my %bench_files = (
	'transfer.sql' => q{
\set a random(1, 25000)
\set b random(1, 25000)
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set d random(1, 1000)
BEGIN;
UPDATE t SET v = v + :d, k = k + 1, chk = md5(id || ':' || (v + :d)) WHERE id = :lo;
UPDATE t SET v = v - :d, chk = md5(id || ':' || (v - :d)) WHERE id = :hi;
END;
},
	'reinsert.sql' => q{
\set c 25001 + :client_id * 1600 + random(0, 1599)
BEGIN;
DELETE FROM t WHERE id = :c;
INSERT INTO t (id, k, v, chk) VALUES (:c, :c, 0, md5(:c || ':0'));
END;
},
	'range.sql' => q{
\set s 30001 + :client_id * 1000 + random(0, 799)
UPDATE t SET k = k + 1 WHERE id BETWEEN :s AND :s + 199;
},);
for my $f (sort keys %bench_files)
{
	PostgreSQL::Test::Utils::append_to_file("$tmp/$f", $bench_files{$f});
}

# The invariants: the same query under three scan types.  A standby check is
# either one of them in a snapshot of its own, or all three in one snapshot
# (where sum(k) must agree too).
my %invariant_query = (
	seq => q{SELECT 'seq', count(*), sum(id::bigint), sum(id::bigint * id), sum(v), sum(k), count(*) FILTER (WHERE chk <> md5(id || ':' || v)) FROM t;},
	index => q{SELECT 'index', count(*), sum(id::bigint), sum(id::bigint * id), sum(v), sum(k), count(*) FILTER (WHERE chk <> md5(id || ':' || v)) FROM t WHERE id > 0;},
	bitmap => q{SELECT 'bitmap', count(*), sum(id::bigint), sum(id::bigint * id), sum(v), sum(k), count(*) FILTER (WHERE chk <> md5(id || ':' || v)) FROM t WHERE k > 0;},
);
my %standby_check;
for my $mode (qw(seq index bitmap))
{
	$standby_check{$mode} = "\\set VERBOSITY verbose\n$scan{$mode}\n$invariant_query{$mode}\n";
}
$standby_check{all} = "\\set VERBOSITY verbose\nBEGIN ISOLATION LEVEL REPEATABLE READ;\n"
  . join('', map { "$scan{$_}\n$invariant_query{$_}\n" } qw(seq index bitmap))
  . "COMMIT;\n";
my @check_kinds = qw(all seq index bitmap);

# Check the output of a standby check; returns an error message or undef.
sub invariant_problem
{
	my ($kind, $out) = @_;
	my %res = map { my @f = split /\|/; (shift(@f) => join('|', @f)) }
	  split /\n/, $out;
	my @modes = $kind eq 'all' ? qw(seq index bitmap) : ($kind);
	my ($sumk) = ($res{ $modes[0] } // '') =~ /^\d+\|\d+\|\d+\|-?\d+\|(\d+)\|/;
	my $want = "$nrows|$sum_id|$sum_id2|0|" . ($sumk // 'none') . '|0';
	for my $mode (@modes)
	{
		return "$mode scan: want $want, got " . ($res{$mode} // 'nothing')
		  if ($res{$mode} // '') ne $want;
	}
	return undef;
}

# The plans of the three queries are what they claim to be.
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
{
	my ($seq, $idx, $bmp) = @invariant_query{qw(seq index bitmap)};
	for my $n ($primary, $standby)
	{
		my $who = $n->name;
		like($n->safe_psql('postgres', "$scan{seq} EXPLAIN (COSTS OFF) $seq"),
			qr/Seq Scan on t/, "$who: invariant query 1 uses a seq scan");
		like($n->safe_psql('postgres', "$scan{index} EXPLAIN (COSTS OFF) $idx"),
			qr/Index Scan using t_pkey/, "$who: invariant query 2 uses an index scan");
		like($n->safe_psql('postgres', "$scan{bitmap} EXPLAIN (COSTS OFF) $bmp"),
			qr/Bitmap Index Scan on t_k_idx/, "$who: invariant query 3 uses a bitmap scan");
	}
}

my $t_content = q{SELECT count(*), sum(v), sum(k), md5(string_agg(id || ':' || k || ':' || v || ':' || chk, ',' ORDER BY id)) FROM t WHERE id > 0};

# Both nodes return the same, whatever the scan, once the standby caught up.
sub compare_nodes
{
	my ($label) = @_;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	my $want = $primary->safe_psql('postgres', "$scan{seq} $t_content");
	like($want, qr/^$nrows\|0\|/, "$label: primary has $nrows rows and sum(v) = 0");
	for my $mode (qw(seq index))
	{
		is($primary->safe_psql('postgres', "$scan{$mode} $t_content"),
			$want, "$label: primary, $mode scan: same content");
		is($standby->safe_psql('postgres', "$scan{$mode} $t_content"),
			$want, "$label: standby, $mode scan: same content as the primary");
	}
	return $want;
}

compare_nodes('standby set up');

my $phase_duration = 5;
my $ok_all = 0;
my $vacuum_generator = q{
	use Time::HiRes qw(time sleep);
	$| = 1;
	my $end = time() + $ARGV[0];
	while (time() < $end)
	{
		print "VACUUM t;\n" or exit 0;
		sleep(1);
		print "SELECT aura_compact('t');\n" or exit 0;
		sleep(1);
	}
};
# Three variants of the standby's settings:
#   - no feedback, conflicting queries cancelled at once: nearly every
#     standby query is cancelled (each reuse of a page that VACUUM freed
#     cancels the queries that were running when it was freed; with heap
#     tables, pruning has the same effect), so none need succeed;
#   - no feedback, replay waits up to 10 s for conflicting queries;
#   - hot_standby_feedback on (sent every second), cancelled at once.
my @variants = (
	{
		name => 'hot_standby_feedback = off, max_standby_streaming_delay = 0',
		feedback => 'off',
		delay => '0',
		min_ok => 0,
	},
	{
		name => 'hot_standby_feedback = off, max_standby_streaming_delay = 10s',
		feedback => 'off',
		delay => '10s',
		min_ok => 5,
	},
	{
		name => 'hot_standby_feedback = on, max_standby_streaming_delay = 0',
		feedback => 'on',
		delay => '0',
		min_ok => 3,
	},);
my $nvariant = 0;
for my $variant (@variants)
{
	my $label = $variant->{name};
	my $feedback = $variant->{feedback};
	$nvariant++;
	reconfigure_standby($standby, $label,
		hot_standby_feedback => $feedback,
		max_standby_streaming_delay => $variant->{delay});
	my $stats0 = stats($primary, 't');

	# (the VACUUM loop: VACUUM and aura_compact() by turns every second)
	my $ok = standby_phase(
		primary => $primary,
		standby => $standby,
		label => $label,
		duration => $phase_duration,
		tmp => $tmp,
		tag => "standby_$nvariant",
		pgbench => [
			'-c', '3', '-j', '2',
			'-f', "$tmp/transfer.sql\@8", '-f', "$tmp/reinsert.sql\@3",
			'-f', "$tmp/range.sql\@1"
		],
		vacuum_generator => $vacuum_generator,
		kinds => \@check_kinds,
		checks => \%standby_check,
		problem => \&invariant_problem,
		min_ok => $variant->{min_ok},
		during => 'the compactions');
	$ok_all += $ok->{all} // 0;

	my $stats1 = stats($primary, 't');
	cmp_ok($stats1->{vacuum_passes} - $stats0->{vacuum_passes}, '>=', 4,
		"$label: the primary compacted the table repeatedly");
	cmp_ok($stats1->{versions_removed} - $stats0->{versions_removed}, '>', 0,
		"$label: the compactions removed versions");
	cmp_ok($stats1->{rowids_recycled} - $stats0->{rowids_recycled}, '>', 0,
		"$label: the compactions recycled rowids");
	compare_nodes("after the churn with $label");
}

cmp_ok($ok_all, '>=', 1,
	'at least one standby check of all three scans in one snapshot succeeded during the compactions');

# Final compaction, then compare again and check both nodes.
$primary->safe_psql('postgres', "VACUUM t; SELECT aura_compact('t');");
my $final = compare_nodes('after the final compaction');
my $pstats = stats($primary, 't');
note 'primary t: ' . join(', ', map { "$_ $pstats->{$_}" } sort keys %$pstats);
cmp_ok($pstats->{pages_freed}, '>', 0, 'primary: compaction freed pages of t');
{
	my ($ret, $out, $err) =
	  $standby->psql('postgres', "SELECT * FROM aura_check('t')");
  SKIP:
	{
		if ($ret != 0
			&& $err =~ /cannot acquire lock mode ShareLock on database objects while recovery is in progress/)
		{
			note "aura_check() on the standby: $err";
			skip 'aura_check() needs a ShareLock, which a standby does not grant', 1;
		}
		ok($ret == 0 && $err !~ /WARNING|ERROR/, 'standby: aura_check(t) is clean')
		  or diag "exit code $ret: $err";
	}
}
check_clean($primary, 't', 'primary after the churn');

# Promotion.
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'timed out waiting for promotion';
check_clean($standby, 't', 'promoted standby');
for my $mode (qw(seq index))
{
	is($standby->safe_psql('postgres', "$scan{$mode} $t_content"),
		$final, "promoted standby, $mode scan: same content as the old primary");
}
$standby->command_ok(
	[
		'pgbench', '-n', '-c', '2', '-j', '2', '-t', '500',
		'-f', "$tmp/transfer.sql\@8", '-f', "$tmp/reinsert.sql\@3",
		'-f', "$tmp/range.sql\@1",
		'-h', $standby->host, '-p', $standby->port, 'postgres'
	],
	'promoted standby: pgbench writes succeed');
$standby->safe_psql('postgres', "VACUUM t; SELECT aura_compact('t');");
check_clean($standby, 't', 'promoted standby after writes and compaction');
is($standby->safe_psql('postgres', "SELECT count(*), sum(v), count(*) FILTER (WHERE chk <> md5(id || ':' || v)) FROM t"),
	"$nrows|0|0", 'promoted standby: invariants hold after writes and compaction');
for my $q (
	[ 'index', 't_pkey', 'SELECT count(*), sum(v), sum(k) FROM t WHERE id > 0' ],
	[ 'bitmap', 't_k_idx', 'SELECT count(*), sum(v), sum(k) FROM t WHERE k > 0' ])
{
	my ($mode, $idx, $sql) = @$q;
	is(scan_result($standby, $mode, $idx, $sql, 'promoted standby'),
		scan_result($standby, 'seq', 't', $sql, 'promoted standby'),
		"promoted standby: $mode scan agrees with seq scan");
}
check_log_health($_) for $primary, $standby;
$standby->stop;

note sprintf('test done after %.1f s', time() - $test_start);
done_testing();
