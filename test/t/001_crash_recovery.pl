
# Copyright (c) auradb authors
#
# Crash safety of the table access method under concurrent write load.
#
# A node runs pgbench (TPC-B like, on tables of the access method under test)
# plus a client committing numbered single-row transactions.  After a random
# couple of seconds every server process is killed with SIGKILL, the node is
# restarted (crash recovery / WAL replay) and we verify that:
#
#   (a) the pgbench invariant holds:
#       sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta)
#   (b) every acknowledged commit survived, nothing that was never attempted
#       appeared, and no row is duplicated (the single commit that was in
#       flight at the time of the crash may or may not be there)
#   (c) a static table with known content (including values > 8 kB) still has
#       exactly its checksum
#   (d) pgbench_accounts still has 100000 * scale rows
#   (e) index scans and bitmap scans agree with sequential scans
#
# The access method comes from $ENV{AURA_TEST_AM} (default "aura"); run with
# AURA_TEST_AM=heap to validate the test itself.  $ENV{AURA_TEST_SEED} makes
# the random crash timing reproducible.
#
# fsync stays off (PostgreSQL::Test::Cluster's default): killing processes
# does not drop the OS page cache, so this is still a genuine test of WAL
# replay, only not of power loss.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AuraCrash;
use IPC::Run;
use Time::HiRes qw(time sleep);

my $am = $ENV{AURA_TEST_AM} // 'aura';
die "invalid AURA_TEST_AM \"$am\"" unless $am =~ /^[a-z_][a-z0-9_]*$/;

my $seed = $ENV{AURA_TEST_SEED} // (time() ^ $$);
$seed = int($seed);
srand($seed);
note "access method: $am, random seed: $seed (set AURA_TEST_SEED to repeat)";

my $scale = 1;
my $rounds = 3;
my $tmp = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
wal_level = replica
max_wal_senders = 0
max_connections = 30
restart_after_crash = off
log_statement = none
log_checkpoints = on
checkpoint_timeout = 30s
max_wal_size = 256MB
));
$node->start;

if ($am ne 'heap')
{
	$node->safe_psql('postgres', 'CREATE EXTENSION auradb');
}
$node->safe_psql('postgres',
	"ALTER DATABASE postgres SET default_table_access_method = $am");

# pgbench tables (pgbench -i creates them with the database default AM).
$node->command_ok([ 'pgbench', '-i', '-q', '-s', $scale, 'postgres' ],
	"pgbench -i -s $scale on $am tables");

# Numbered commits, and a static table with known content.  Every 100th row
# carries a compressible 16 kB value, every 1000th row an incompressible
# 48 kB value (so out-of-line storage is used, not just compression).
$node->safe_psql(
	'postgres', qq{
CREATE TABLE commits (n int NOT NULL, filler text) USING $am;
CREATE INDEX commits_n_idx ON commits (n);
CREATE TABLE known (id int PRIMARY KEY, payload text) USING $am;
INSERT INTO known
SELECT i,
       CASE WHEN i % 1000 = 0 THEN
              (SELECT string_agg(md5(i::text || ':' || j::text), '')
                 FROM generate_series(1, 1500) j)
            WHEN i % 100 = 0 THEN repeat(md5(i::text), 500)
            ELSE 'row ' || i || ' ' || md5(i::text)
       END
  FROM generate_series(1, 10000) i;
});

my %am_of = map { split /\|/ } split /\n/,
  $node->safe_psql(
	'postgres', q{
SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('pgbench_accounts', 'pgbench_branches', 'pgbench_tellers',
                     'pgbench_history', 'commits', 'known')});
for my $rel (
	qw(pgbench_accounts pgbench_branches pgbench_tellers pgbench_history commits known)
  )
{
	is($am_of{$rel}, $am, "table $rel uses access method $am");
}

my $known_sum_query = q{
SELECT count(*), sum(length(payload)), max(length(payload)),
       md5(string_agg(id::text || '=' || payload, ',' ORDER BY id))
  FROM known};
my $known_sum = $node->safe_psql('postgres', $known_sum_query);
my (undef, undef, $known_maxlen) = split /\|/, $known_sum;
cmp_ok($known_maxlen, '>', 8192, 'known table holds values larger than 8 kB');
note "known table checksum: $known_sum";

my $have_amcheck = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'");
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck') if $have_amcheck;

# n => 1 for acknowledged commits, n => 0 for the one that may be in flight.
my %allowed;
my $history_rows = 0;

# No checkpoint here on purpose: the first crash replays the creation and
# loading of all the tables.

for my $round (1 .. $rounds)
{
	my $base = $round * 1_000_000;

	my $bench_out = "$tmp/pgbench_$round.out";
	my $commit_out = "$tmp/commits_$round.out";
	my $bench = do
	{
		# Name the pgbench connections, so we can see they are running.
		local $ENV{PGAPPNAME} = 'aura_pgbench';
		IPC::Run::start(
			[
				'pgbench', '-n', '-c', '4', '-j', '2', '-T', '30',
				'-h', $node->host, '-p', $node->port, 'postgres'
			],
			'<', \undef, '>', $bench_out, '2>&1',
			IPC::Run::timeout(60));
	};
	# Numbered single-row transactions, generated without end and piped into
	# psql; "ack n" is printed only once the server has acknowledged the
	# commit of n.  The generator stops once psql has exited (SIGPIPE may be
	# ignored, so check that print worked).
	my $generator = q{
		my ($k, $tag) = @ARGV;
		while (1)
		{
			$k++;
			print "INSERT INTO commits (n, filler) VALUES ($k, '$tag');\n",
			  chr(92), "echo ack $k\n"
			  or exit 0;
		}
	};
	my $committer = IPC::Run::start(
		[ $^X, '-e', $generator, $base, "round $round" ],
		'<', \undef, '|',
		[
			'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres') . ' application_name=aura_committer'
		],
		'>', $commit_out, '2>', "$commit_out.err",
		IPC::Run::timeout(60));

	# Wait for the workload to be connected and running.
	my $activity_query = q{
SELECT count(*) FILTER (WHERE application_name = 'aura_pgbench'),
       count(*) FILTER (WHERE application_name = 'aura_committer')
  FROM pg_stat_activity WHERE backend_type = 'client backend'};
	my $t0 = time();
	while ($node->safe_psql('postgres', $activity_query) ne '4|1')
	{
		last if time() - $t0 > 30;
		sleep(0.1);
	}

	my $delay = 2 + rand(3);
	my $checkpoint_at = 0.5 + rand($delay - 1);
	note sprintf("round %d: crash after %.2f s%s",
		$round, $delay,
		$round > 1 ? sprintf(", CHECKPOINT after %.2f s", $checkpoint_at) : '');
	$t0 = time();
	if ($round > 1)
	{
		# Make recovery start from a redo point taken under load.
		sleep($checkpoint_at);
		$node->safe_psql('postgres', 'CHECKPOINT');
	}
	my $left = $delay - (time() - $t0);
	sleep($left) if $left > 0;

	is($node->safe_psql('postgres', $activity_query),
		'4|1', "round $round: pgbench and commit client running at crash time");

	crash_node($node);

	# The clients fail once the server is gone.
	for my $client ([ 'pgbench', $bench ], [ 'commit client', $committer ])
	{
		my ($what, $h) = @$client;
		eval { $h->finish; };
		if ($@)
		{
			diag "$what did not finish: $@";
			$h->kill_kill;
		}
	}
	note "pgbench output (round $round):\n" . slurp_file($bench_out);
	note "commit client stderr (round $round):\n"
	  . slurp_file("$commit_out.err");

	my @acked = slurp_file($commit_out) =~ /^ack (\d+)$/mg;
	my $max_acked = @acked ? $acked[-1] : $base;
	cmp_ok(scalar(@acked), '>', 0,
		"round $round: commit client got commits acknowledged");
	note "round $round: "
	  . scalar(@acked)
	  . " commits acknowledged, last $max_acked";
	$allowed{$_} = 1 for @acked;
	# The next one may have been in flight at the time of the crash.
	$allowed{ $max_acked + 1 } = 0;

	# Crash recovery.
	my $log_offset = -s $node->logfile;
	$node->start;
	ok( $node->log_contains(
			qr/database system was interrupted|not properly shut down/,
			$log_offset),
		"round $round: server went through crash recovery");

	my $new_history_rows =
	  $node->safe_psql('postgres', 'SELECT count(*) FROM pgbench_history');
	cmp_ok($new_history_rows, '>', $history_rows,
		"round $round: pgbench transactions survived the crash");
	$history_rows = $new_history_rows;

	verify_state($node, "after crash $round");
}

# The recovered tables must also survive maintenance: vacuum away whatever the
# crashed transactions left behind, then check everything again.
$node->safe_psql('postgres', 'VACUUM');
verify_state($node, 'after crashes and VACUUM');

$node->stop;
done_testing();


# All checks after a recovery.
sub verify_state
{
	my ($node, $label) = @_;

	# (a) pgbench invariant
	my ($sum_a, $sum_b, $sum_t, $sum_h) = split /\|/,
	  $node->safe_psql(
		'postgres', q{
SELECT (SELECT sum(abalance) FROM pgbench_accounts),
       (SELECT sum(bbalance) FROM pgbench_branches),
       (SELECT sum(tbalance) FROM pgbench_tellers),
       (SELECT coalesce(sum(delta), 0) FROM pgbench_history)});
	is($sum_a, $sum_h, "$label: sum(abalance) = sum(delta)");
	is($sum_b, $sum_h, "$label: sum(bbalance) = sum(delta)");
	is($sum_t, $sum_h, "$label: sum(tbalance) = sum(delta)");

	# (b) acknowledged commits are there, nothing else is
	my @rows = split /\n/,
	  $node->safe_psql('postgres', 'SELECT n FROM commits ORDER BY n');
	my %present;
	$present{$_}++ for @rows;
	my @missing = sort { $a <=> $b } grep { $allowed{$_} && !$present{$_} }
	  keys %allowed;
	my @unexpected =
	  sort { $a <=> $b } grep { !exists $allowed{$_} } keys %present;
	my @duplicated = sort { $a <=> $b } grep { $present{$_} > 1 } keys %present;
	is(scalar(@missing), 0, "$label: no acknowledged commit is lost")
	  or diag "missing: @missing[0 .. ($#missing < 20 ? $#missing : 19)]";
	is(scalar(@unexpected), 0, "$label: no commit appeared that was never made")
	  or diag "unexpected: @unexpected[0 .. ($#unexpected < 20 ? $#unexpected : 19)]";
	is(scalar(@duplicated), 0, "$label: no commit is duplicated")
	  or diag "duplicated: @duplicated[0 .. ($#duplicated < 20 ? $#duplicated : 19)]";

	# (c) static content
	is($node->safe_psql('postgres', $known_sum_query),
		$known_sum, "$label: known table has its checksum");

	# (d) row count
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pgbench_accounts'),
		100000 * $scale, "$label: pgbench_accounts has 100000 * scale rows");

	# (e) index and bitmap scans agree with seq scans
	my $seq_scan = q{
SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;
};
	my $index_scan = q{
SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;
};
	my $bitmap_scan = q{
SET enable_seqscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;
};
	for my $q (
		[
			'pgbench_accounts',
			'SELECT count(*), sum(abalance), sum(bid) FROM pgbench_accounts WHERE aid > 0',
			'pgbench_accounts_pkey'
		],
		[
			'commits',
			'SELECT count(*), sum(n::bigint), count(filler) FROM commits WHERE n > 0',
			'commits_n_idx'
		],
		[
			'known',
			'SELECT count(*), md5(string_agg(md5(payload), \'\' ORDER BY id)) FROM known WHERE id > 0',
			'known_pkey'
		])
	{
		my ($rel, $sql, $idx) = @$q;
		my $expected = $node->safe_psql('postgres', "$seq_scan $sql");
		like(
			$node->safe_psql('postgres', "$index_scan EXPLAIN (COSTS OFF) $sql"),
			qr/Index Scan using $idx/,
			"$label: $rel query is planned as an index scan");
		is($node->safe_psql('postgres', "$index_scan $sql"),
			$expected, "$label: index scan on $rel agrees with seq scan");
		like(
			$node->safe_psql(
				'postgres', "$bitmap_scan EXPLAIN (COSTS OFF) $sql"),
			qr/Bitmap Index Scan on $idx/,
			"$label: $rel query is planned as a bitmap scan");
		is($node->safe_psql('postgres', "$bitmap_scan $sql"),
			$expected, "$label: bitmap scan on $rel agrees with seq scan");
	}

  SKIP:
	{
		skip 'amcheck not available', 2 unless $have_amcheck;
		for my $idx (qw(pgbench_accounts_pkey commits_n_idx))
		{
			my ($ret, $out, $err) = $node->psql('postgres',
				"SELECT bt_index_check('$idx'::regclass, true)");
			is($ret, 0,
				"$label: amcheck bt_index_check(heapallindexed) on $idx")
			  or diag $err;
		}
	}
	return;
}

