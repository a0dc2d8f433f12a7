
# Copyright (c) auradb authors
#
# Prepared transactions (two-phase commit) on tables of the access method
# under test, across a crash and across a clean restart.
#
# Three transactions are prepared holding inserts (one with a value larger
# than a page), updates, deletes, a released and a rolled back savepoint,
# and row locks: FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE (one row share
# locked by two prepared transactions, i.e. a MultiXact), FOR KEY SHARE, and
# the KEY SHARE locks that foreign key checks take on referenced rows.
# While they are prepared, other sessions
#   - see none of their changes (seq, index and bitmap scans);
#   - block on every row they changed or locked in a conflicting mode
#     (lock_timeout fires: UPDATE, DELETE, conflicting row locks, a
#     duplicate key insert, deleting or re-keying an FK-referenced row);
#   - do not block where the lock modes are compatible (shared locks, a
#     non-key update of a KEY SHARE locked row, an FK insert referencing a
#     row whose non-key columns a prepared transaction updated, a row whose
#     update was rolled back to a savepoint).
# Then every server process is killed with SIGKILL.  After crash recovery
# pg_prepared_xacts lists the three, their transaction locks are back, the
# same rows block and the same do not.  One is committed, one rolled back,
# the lock-only one committed; the tables then hold exactly the expected
# rows (whatever the scan), every row is modifiable again, and foreign keys
# still hold.  A second crash keeps that outcome.  Finally two more
# transactions are prepared and the server is restarted cleanly (fast
# shutdown): same checks, one committed, one rolled back.
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
use AuraCrash;
use AuraTap qw(%scan);    # planner settings forcing a scan type
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time sleep);

my $am = $ENV{AURA_TEST_AM} // 'aura';
die "invalid AURA_TEST_AM \"$am\"" unless $am =~ /^[a-z_][a-z0-9_]*$/;
note "access method: $am";

my $node = PostgreSQL::Test::Cluster->new('twophase');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
max_prepared_transactions = 10
restart_after_crash = off
log_statement = none
autovacuum = off
));
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION auradb') if $am ne 'heap';

my $big = md5_hex('big') x 1000;    # 32 kB, stored out of line
$node->safe_psql(
	'postgres', qq{
CREATE TABLE t (id int PRIMARY KEY, v text) USING $am;
INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 100) i;
CREATE TABLE parent (id int PRIMARY KEY, n int NOT NULL, v text) USING $am;
INSERT INTO parent SELECT i, 0, 'p' || i FROM generate_series(1, 10) i;
CREATE TABLE child (id int PRIMARY KEY, pid int NOT NULL REFERENCES parent, v text) USING $am;
CREATE INDEX child_pid_idx ON child (pid);
INSERT INTO child VALUES (1, 10, 'c1');
});
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(c.relname || '=' || a.amname, ',' ORDER BY c.relname)
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('t', 'parent', 'child')}),
	"child=$am,parent=$am,t=$am",
	"tables use access method $am");

# Expected content: id => value.
my %t = map { $_ => "v$_" } 1 .. 100;
my %parent = map { $_ => "0|p$_" } 1 .. 10;
my %child = (1 => '10|c1');

# ---------------------------------------------------------------------------
# Helpers

# Table contents as one string per table: "id:value" lines, values of t as
# md5 (some are large).
my %content_query = (
	t => q{SELECT string_agg(id || ':' || md5(v), E'\n' ORDER BY id) FROM t WHERE id > 0},
	parent => q{SELECT string_agg(id || ':' || n || '|' || v, E'\n' ORDER BY id) FROM parent WHERE id > 0},
	child => q{SELECT string_agg(id || ':' || pid || '|' || v, E'\n' ORDER BY id) FROM child WHERE id > 0},
);

sub expected_content
{
	my ($tab) = @_;
	my %h =
	    $tab eq 't' ? (map { $_ => md5_hex($t{$_}) } keys %t)
	  : $tab eq 'parent' ? %parent
	  : %child;
	return join("\n", map { "$_:$h{$_}" } sort { $a <=> $b } keys %h);
}

# Every table holds exactly the expected rows, under every scan type.
sub check_content
{
	my ($label) = @_;
	for my $tab (qw(t parent child))
	{
		my $want = expected_content($tab);
		for my $mode (qw(seq index bitmap))
		{
			is( $node->safe_psql(
					'postgres', "$scan{$mode} $content_query{$tab}"),
				$want,
				"$label: $tab has exactly the expected rows ($mode scan)");
		}
	}
	# Foreign keys hold: no child without its parent, also via the index.
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM child c WHERE NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.pid)}
		),
		'0',
		"$label: every child has its parent");
	return;
}

# $sql must wait for a lock held by a prepared transaction: it fails with a
# lock timeout.
sub blocks
{
	my ($sql, $what) = @_;
	my $t0 = time();
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lock_timeout = '200ms'; $sql",
		on_error_stop => 1);
	like($err, qr/canceling statement due to lock timeout/, "$what: blocks")
	  or diag "ret $ret, stdout: $out, stderr: $err, after "
	  . sprintf('%.2f s', time() - $t0);
	return;
}

# $sql must not wait: it succeeds (then is rolled back, unless $commit).
sub does_not_block
{
	my ($sql, $what, $commit) = @_;
	my $end = $commit ? 'COMMIT' : 'ROLLBACK';
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lock_timeout = '5s'; BEGIN; $sql; $end;",
		on_error_stop => 1);
	ok($ret == 0 && $err eq '', "$what: does not block")
	  or diag "ret $ret, stdout: $out, stderr: $err";
	return;
}

sub prepared_xacts
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(gid || '/' || database || '/' || owner, ',' ORDER BY gid) FROM pg_prepared_xacts}
	);
}


sub crash_and_restart
{
	my ($label) = @_;
	crash_node($node);
	my $log_offset = -s $node->logfile;
	$node->start;
	ok( $node->log_contains(
			qr/database system was interrupted|not properly shut down/,
			$log_offset),
		"$label: server went through crash recovery");
	return;
}

# ---------------------------------------------------------------------------
# Three prepared transactions

# px_a, to be committed: inserts (one large value), updates, deletes, an FK
# insert (KEY SHARE on parent 1), a non-key update of parent 2, FOR UPDATE
# on t 21, FOR KEY SHARE on parent 3.
$node->safe_psql(
	'postgres', qq{
BEGIN;
INSERT INTO t SELECT i, 'a' || i FROM generate_series(1001, 1005) i;
INSERT INTO t VALUES (1006, '$big');
UPDATE t SET v = 'a-upd' || id WHERE id BETWEEN 1 AND 5;
DELETE FROM t WHERE id BETWEEN 11 AND 15;
INSERT INTO child VALUES (101, 1, 'a');
UPDATE parent SET n = n + 1, v = 'a-upd' WHERE id = 2;
SELECT id FROM t WHERE id = 21 FOR UPDATE;
SELECT id FROM parent WHERE id = 3 FOR KEY SHARE;
PREPARE TRANSACTION 'px_a';
});
# px_b, to be rolled back: the same kinds of changes on other rows, FOR
# SHARE on t 22, t 27 and parent 8.
$node->safe_psql(
	'postgres', qq{
BEGIN;
INSERT INTO t SELECT i, 'b' || i FROM generate_series(2001, 2005) i;
INSERT INTO t VALUES (2006, '$big' || 'b');
UPDATE t SET v = 'b-upd' || id WHERE id BETWEEN 6 AND 10;
DELETE FROM t WHERE id BETWEEN 16 AND 20;
INSERT INTO child VALUES (201, 6, 'b');
UPDATE parent SET n = n + 1, v = 'b-upd' WHERE id = 7;
SELECT id FROM t WHERE id = 22 FOR SHARE;
SELECT id FROM t WHERE id = 27 FOR SHARE;
SELECT id FROM parent WHERE id = 8 FOR SHARE;
PREPARE TRANSACTION 'px_b';
});
# px_c, to be committed: row locks only, plus an update in a rolled back
# savepoint (t 25: must not stay locked) and one in a released savepoint
# (t 26: is part of the transaction).  t 27 is then share locked by both
# px_b and px_c.
$node->safe_psql(
	'postgres', q{
BEGIN;
SELECT id FROM t WHERE id = 23 FOR NO KEY UPDATE;
SELECT id FROM t WHERE id = 24 FOR KEY SHARE;
SELECT id FROM parent WHERE id = 9 FOR UPDATE;
SELECT id FROM t WHERE id = 27 FOR SHARE;
SAVEPOINT s1;
UPDATE t SET v = 'c-rolled-back' WHERE id = 25;
ROLLBACK TO s1;
SAVEPOINT s2;
UPDATE t SET v = 'c-sp' WHERE id = 26;
RELEASE s2;
PREPARE TRANSACTION 'px_c';
});

my $owner = $node->safe_psql('postgres', 'SELECT current_user');
is(prepared_xacts(), "px_a/postgres/$owner,px_b/postgres/$owner,px_c/postgres/$owner",
	'three transactions are prepared');

# Lock checks while they are prepared.  A non-key update of parent 2 (done
# by px_a) does not keep an FK insert from referencing it: child 3 is
# committed here, on heap as on any table AM (the first time only).
sub check_prepared_locks
{
	my ($label, $first) = @_;

	# px_a
	blocks('UPDATE t SET v = \'x\' WHERE id = 1', "$label: update of a row updated by px_a");
	blocks('DELETE FROM t WHERE id = 3', "$label: delete of a row updated by px_a");
	blocks('DELETE FROM t WHERE id = 11', "$label: delete of a row deleted by px_a");
	blocks('UPDATE t SET v = \'x\' WHERE id = 12', "$label: update of a row deleted by px_a");
	blocks('SELECT id FROM t WHERE id = 13 FOR KEY SHARE', "$label: FOR KEY SHARE of a row deleted by px_a");
	blocks("INSERT INTO t VALUES (1001, 'dup')", "$label: insert of a key inserted by px_a");
	blocks('UPDATE t SET v = \'x\' WHERE id = 21', "$label: update of a row FOR UPDATE locked by px_a");
	blocks('SELECT id FROM t WHERE id = 21 FOR KEY SHARE', "$label: FOR KEY SHARE of a row FOR UPDATE locked by px_a");
	blocks('DELETE FROM parent WHERE id = 1', "$label: delete of a parent px_a inserted a child for");
	blocks('DELETE FROM parent WHERE id = 3', "$label: delete of a parent FOR KEY SHARE locked by px_a");
	blocks('UPDATE parent SET id = 33 WHERE id = 3', "$label: key update of a parent FOR KEY SHARE locked by px_a");
	blocks('UPDATE parent SET n = n + 1 WHERE id = 2', "$label: update of a parent updated by px_a");
	does_not_block('UPDATE parent SET n = n + 100 WHERE id = 3',
		"$label: non-key update of a parent FOR KEY SHARE locked by px_a");
	does_not_block('SELECT id FROM t WHERE id = 1001',
		"$label: read of a key inserted by px_a");
	does_not_block("INSERT INTO child VALUES (3, 2, 'c3')",
		"$label: FK insert referencing a parent whose non-key column px_a updated", 1)
	  if $first;
	does_not_block("INSERT INTO child VALUES (4, 2, 'c4')",
		"$label: FK insert referencing a parent whose non-key column px_a updated")
	  unless $first;

	# px_b
	blocks('UPDATE t SET v = \'x\' WHERE id = 6', "$label: update of a row updated by px_b");
	blocks('DELETE FROM t WHERE id = 16', "$label: delete of a row deleted by px_b");
	blocks("INSERT INTO t VALUES (2001, 'dup')", "$label: insert of a key inserted by px_b");
	blocks('UPDATE t SET v = \'x\' WHERE id = 22', "$label: update of a row FOR SHARE locked by px_b");
	blocks('SELECT id FROM t WHERE id = 22 FOR UPDATE', "$label: FOR UPDATE of a row FOR SHARE locked by px_b");
	blocks('UPDATE parent SET n = n + 1 WHERE id = 8', "$label: update of a parent FOR SHARE locked by px_b");
	blocks('DELETE FROM parent WHERE id = 6', "$label: delete of a parent px_b inserted a child for");
	blocks('UPDATE parent SET v = \'x\' WHERE id = 7', "$label: update of a parent updated by px_b");
	does_not_block('SELECT id FROM t WHERE id = 22 FOR SHARE',
		"$label: FOR SHARE of a row FOR SHARE locked by px_b");
	does_not_block('SELECT id FROM parent WHERE id = 8 FOR KEY SHARE',
		"$label: FOR KEY SHARE of a parent FOR SHARE locked by px_b");

	# px_c
	blocks('SELECT id FROM t WHERE id = 23 FOR SHARE', "$label: FOR SHARE of a row FOR NO KEY UPDATE locked by px_c");
	blocks('UPDATE t SET v = \'x\' WHERE id = 23', "$label: update of a row FOR NO KEY UPDATE locked by px_c");
	blocks('DELETE FROM t WHERE id = 24', "$label: delete of a row FOR KEY SHARE locked by px_c");
	blocks('UPDATE t SET id = 1024 WHERE id = 24', "$label: key update of a row FOR KEY SHARE locked by px_c");
	blocks('SELECT id FROM parent WHERE id = 9 FOR KEY SHARE', "$label: FOR KEY SHARE of a parent FOR UPDATE locked by px_c");
	blocks("INSERT INTO child VALUES (5, 9, 'c5')", "$label: FK insert referencing a parent FOR UPDATE locked by px_c");
	blocks('UPDATE t SET v = \'x\' WHERE id = 26', "$label: update of a row updated in a released savepoint of px_c");
	blocks('UPDATE t SET v = \'x\' WHERE id = 27', "$label: update of a row FOR SHARE locked by px_b and px_c");
	does_not_block('SELECT id FROM t WHERE id = 23 FOR KEY SHARE',
		"$label: FOR KEY SHARE of a row FOR NO KEY UPDATE locked by px_c");
	does_not_block('UPDATE t SET v = \'x\' WHERE id = 24',
		"$label: non-key update of a row FOR KEY SHARE locked by px_c");
	does_not_block('UPDATE t SET v = \'x\' WHERE id = 25',
		"$label: update of a row whose update px_c rolled back to a savepoint");
	does_not_block('SELECT id FROM t WHERE id = 27 FOR SHARE',
		"$label: FOR SHARE of a row FOR SHARE locked by px_b and px_c");
	return;
}

check_prepared_locks('before the crash', 1);
$child{3} = '2|c3';

# None of the prepared changes is visible (seq, index and bitmap scans).
check_content('while prepared, before the crash');

# ---------------------------------------------------------------------------
# Crash with three prepared transactions

crash_and_restart('crash 1');

is(prepared_xacts(), "px_a/postgres/$owner,px_b/postgres/$owner,px_c/postgres/$owner",
	'after crash 1: pg_prepared_xacts lists the three prepared transactions');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM pg_locks l JOIN pg_prepared_xacts p ON l.transactionid = p.transaction
 WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted}),
	'3',
	'after crash 1: the prepared transactions hold their transaction locks again');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(DISTINCT l.relation::regclass::text, ',' ORDER BY l.relation::regclass::text)
  FROM pg_locks l WHERE l.locktype = 'relation' AND l.pid IS NULL
   AND l.relation::regclass::text IN ('t', 'parent', 'child')}),
	'child,parent,t',
	'after crash 1: the prepared transactions hold their table locks again');

check_content('while prepared, after crash 1');
check_prepared_locks('after crash 1', 0);

# Outcome: px_a committed, px_b rolled back; t 27 stays locked by px_c.
$node->safe_psql('postgres', "COMMIT PREPARED 'px_a'");
$node->safe_psql('postgres', "ROLLBACK PREPARED 'px_b'");
is(prepared_xacts(), "px_c/postgres/$owner", 'after crash 1: px_a and px_b are resolved');
blocks('UPDATE t SET v = \'x\' WHERE id = 27',
	'after crash 1, px_b rolled back: update of a row still FOR SHARE locked by px_c');
blocks('UPDATE t SET v = \'x\' WHERE id = 23',
	'after crash 1, px_a and px_b resolved: update of a row FOR NO KEY UPDATE locked by px_c');
does_not_block('UPDATE t SET v = \'x\' WHERE id = 1',
	'after crash 1: update of a row updated by the committed px_a');
does_not_block('UPDATE t SET v = \'x\' WHERE id = 22',
	'after crash 1: update of a row locked by the rolled back px_b');
$node->safe_psql('postgres', "COMMIT PREPARED 'px_c'");
is(prepared_xacts(), '', 'after crash 1: no prepared transaction is left');

# px_a's changes are in, px_b's are not, px_c changed t 26 only.
$t{$_} = "a$_" for 1001 .. 1005;
$t{1006} = $big;
$t{$_} = "a-upd$_" for 1 .. 5;
delete $t{$_} for 11 .. 15;
$child{101} = '1|a';
$parent{2} = '1|a-upd';
$t{26} = 'c-sp';
check_content('after COMMIT/ROLLBACK PREPARED');

# Every row is modifiable again, and none waits (lock_timeout 5 s would
# fail the statement; NOWAIT fails at once).
does_not_block(
	q{SELECT id FROM t WHERE id IN (1, 3, 6, 21, 22, 23, 24, 25, 26, 27, 1001) ORDER BY id FOR UPDATE NOWAIT;
	  SELECT id FROM parent ORDER BY id FOR UPDATE NOWAIT},
	'after COMMIT/ROLLBACK PREPARED: FOR UPDATE NOWAIT of every row involved');
does_not_block(
	q{UPDATE t SET v = v || '+' WHERE id IN (1, 3, 6, 21, 22, 23, 24, 25, 26, 27, 1001, 1006);
	  DELETE FROM t WHERE id IN (2, 7, 1002);
	  INSERT INTO t SELECT i, 'again' || i FROM generate_series(2001, 2006) i;
	  INSERT INTO t SELECT i, 'again' || i FROM generate_series(11, 15) i;
	  UPDATE parent SET n = n + 10, v = v || '+' WHERE id IN (2, 3, 7, 8, 9);
	  UPDATE parent SET id = 33 WHERE id = 3;
	  DELETE FROM parent WHERE id = 6;
	  INSERT INTO child VALUES (6, 9, 'c6')},
	'after COMMIT/ROLLBACK PREPARED: rows involved are updated, deleted, re-inserted',
	1);
$t{$_} .= '+' for 1, 3, 6, 21, 22, 23, 24, 25, 26, 27, 1001, 1006;
delete $t{$_} for 2, 7, 1002;
$t{$_} = "again$_" for 2001 .. 2006, 11 .. 15;
for my $id (2, 3, 7, 8, 9)
{
	my ($n, $v) = split /\|/, $parent{$id};
	$parent{$id} = ($n + 10) . "|$v+";
}
$parent{33} = delete $parent{3};
delete $parent{6};
$child{6} = '9|c6';

# Foreign keys: the committed child of parent 1 and child 3 of parent 2
# keep them; parent 6 went because px_b's child was rolled back.
for my $id (1, 2)
{
	my ($ret, $out, $err) =
	  $node->psql('postgres', "DELETE FROM parent WHERE id = $id");
	like($err, qr/violates foreign key constraint/,
		"after COMMIT/ROLLBACK PREPARED: parent $id is still referenced");
}
check_content('after modifying the rows again');

# The outcome survives another crash.
crash_and_restart('crash 2');
is(prepared_xacts(), '', 'after crash 2: no prepared transaction');
check_content('after crash 2');

# ---------------------------------------------------------------------------
# Prepared transactions across a clean restart

$node->safe_psql(
	'postgres', q{
BEGIN;
UPDATE t SET v = 'd-upd' WHERE id = 50;
DELETE FROM t WHERE id = 51;
INSERT INTO t VALUES (4001, 'd');
SELECT id FROM parent WHERE id = 5 FOR KEY SHARE;
INSERT INTO child VALUES (401, 4, 'd');
PREPARE TRANSACTION 'px_d';
BEGIN;
UPDATE t SET v = 'e-upd' WHERE id = 60;
DELETE FROM t WHERE id = 61;
INSERT INTO t VALUES (5001, 'e');
SELECT id FROM t WHERE id = 62 FOR UPDATE;
UPDATE parent SET n = n + 1 WHERE id = 10;
PREPARE TRANSACTION 'px_e';
});
is(prepared_xacts(), "px_d/postgres/$owner,px_e/postgres/$owner",
	'two transactions prepared before the clean restart');

$node->restart;    # fast shutdown: a shutdown checkpoint writes the 2PC state

is(prepared_xacts(), "px_d/postgres/$owner,px_e/postgres/$owner",
	'after the clean restart: pg_prepared_xacts lists both');
check_content('while prepared, after the clean restart');
blocks('UPDATE t SET v = \'x\' WHERE id = 50', 'after the clean restart: update of a row updated by px_d');
blocks('UPDATE t SET v = \'x\' WHERE id = 51', 'after the clean restart: update of a row deleted by px_d');
blocks("INSERT INTO t VALUES (4001, 'dup')", 'after the clean restart: insert of a key inserted by px_d');
blocks('DELETE FROM parent WHERE id = 5', 'after the clean restart: delete of a parent FOR KEY SHARE locked by px_d');
blocks('DELETE FROM parent WHERE id = 4', 'after the clean restart: delete of a parent px_d inserted a child for');
blocks('DELETE FROM t WHERE id = 60', 'after the clean restart: delete of a row updated by px_e');
blocks('DELETE FROM t WHERE id = 61', 'after the clean restart: delete of a row deleted by px_e');
blocks("INSERT INTO t VALUES (5001, 'dup')", 'after the clean restart: insert of a key inserted by px_e');
blocks('SELECT id FROM t WHERE id = 62 FOR SHARE', 'after the clean restart: FOR SHARE of a row FOR UPDATE locked by px_e');
blocks('UPDATE parent SET n = 0 WHERE id = 10', 'after the clean restart: update of a parent updated by px_e');
does_not_block("INSERT INTO child VALUES (7, 10, 'c7')",
	'after the clean restart: FK insert referencing a parent whose non-key column px_e updated', 1);
$child{7} = '10|c7';
does_not_block('UPDATE parent SET n = n + 100 WHERE id = 5',
	'after the clean restart: non-key update of a parent FOR KEY SHARE locked by px_d');

$node->safe_psql('postgres', "COMMIT PREPARED 'px_d'");
$node->safe_psql('postgres', "ROLLBACK PREPARED 'px_e'");
is(prepared_xacts(), '', 'after the clean restart: px_d and px_e are resolved');
$t{50} = 'd-upd';
delete $t{51};
$t{4001} = 'd';
$child{401} = '4|d';
check_content('after COMMIT/ROLLBACK PREPARED following the clean restart');

does_not_block(
	q{SELECT id FROM t WHERE id IN (50, 60, 61, 62, 4001) ORDER BY id FOR UPDATE NOWAIT;
	  UPDATE t SET v = v || '+' WHERE id IN (50, 60, 62, 4001);
	  INSERT INTO t VALUES (51, 'again51'), (5001, 'again5001');
	  UPDATE parent SET n = n + 1 WHERE id IN (4, 5, 10)},
	'after the clean restart: rows involved are modifiable again',
	1);
$t{$_} .= '+' for 50, 60, 62, 4001;
$t{51} = 'again51';
$t{5001} = 'again5001';
for my $id (4, 5, 10)
{
	my ($n, $v) = split /\|/, $parent{$id};
	$parent{$id} = ($n + 1) . "|$v";
}
my ($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM parent WHERE id = 4');
like($err, qr/violates foreign key constraint/,
	'after the clean restart: parent 4 is referenced by the committed child of px_d');
check_content('at the end');

$node->stop;
done_testing();
