# Compaction asked for by writers (src/tableam/autocompact.c), in a server
# whose log can be read:
#   - committed updates of an aura table start a background worker
#     ("aura compaction") whose pass is logged as "automatic compaction of
#     table ..." under log_autovacuum_min_duration = 0, and makes updated
#     rows cold again;
#   - an autovacuum pass of an aura table is logged as "automatic vacuum of
#     table ..." (aura's VACUUM honours log_autovacuum_min_duration);
#   - with log_autovacuum_min_duration = -1 neither is logged;
#   - a worker whose table another session keeps locked (as an ANALYZE
#     does) waits for the lock -- one worker per table, seen by the
#     advisory lock it holds meanwhile -- and passes once it is released,
#     rather than skipping the table;
#   - no process crashed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AuraTap;

my $node = PostgreSQL::Test::Cluster->new('autocompact');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
autovacuum = on
autovacuum_naptime = 1s
log_autovacuum_min_duration = 0
));
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION auradb');

# wc: written by sessions with the trigger on, never autovacuumed itself;
# wa: written with the trigger off, autovacuumed often
$node->safe_psql(
	'postgres', q{
CREATE TABLE wc (id int PRIMARY KEY, v int, pad text) USING aura
  WITH (autovacuum_vacuum_threshold = 2000000000,
        autovacuum_vacuum_insert_threshold = 2000000000,
        autovacuum_analyze_threshold = 2000000000);
CREATE TABLE wa (id int PRIMARY KEY, v int, pad text) USING aura
  WITH (autovacuum_vacuum_threshold = 100, autovacuum_vacuum_scale_factor = 0,
        autovacuum_analyze_threshold = 2000000000);
SET aura.compaction_trigger = 0;
INSERT INTO wc SELECT g, 0, repeat('p', 100) FROM generate_series(1, 10000) g;
INSERT INTO wa SELECT * FROM wc;
VACUUM wc;
});

# 100 committed UPDATEs of 1% of the rows each: about 300 hot pages
sub update_in_steps
{
	my ($table, $trigger) = @_;
	my $sql = "SET aura.compaction_trigger = $trigger;\n";
	$sql .= "UPDATE $table SET v = v + 1 WHERE id % 100 = $_;\n" for 0 .. 99;
	$node->safe_psql('postgres', $sql);
	return;
}

my $made_cold = $node->safe_psql('postgres',
	"SELECT rows_made_cold FROM aura_stats('wc')");
my $offset = -s $node->logfile;
update_in_steps('wc', 0.02);
ok( $node->wait_for_log(
		qr/automatic compaction of table "postgres\.public\.wc"/, $offset),
	'a compaction worker pass of wc is logged');
is( $node->safe_psql(
		'postgres',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relid = 'wc'::regclass"),
	'0',
	'the pass was no autovacuum');
ok( $node->safe_psql('postgres',
		"SELECT rows_made_cold > $made_cold FROM aura_stats('wc')") eq 't',
	'the worker made updated rows of wc cold again');
is($node->safe_psql('postgres', 'SELECT count(*), sum(v) FROM wc'),
	'10000|10000', 'wc has its rows');

$offset = -s $node->logfile;
update_in_steps('wa', 0);
ok( $node->wait_for_log(
		qr/automatic vacuum of table "postgres\.public\.wa"/, $offset),
	'an autovacuum pass of wa is logged');

# no report once log_autovacuum_min_duration is -1: the pass still runs
$node->append_conf('postgresql.conf', "log_autovacuum_min_duration = -1\n");
$node->reload;
$node->poll_query_until('postgres',
	"SELECT current_setting('log_autovacuum_min_duration') = '-1'")
  or die 'log_autovacuum_min_duration did not change';
my $passes = $node->safe_psql('postgres',
	"SELECT vacuum_passes FROM aura_stats('wc')");
$offset = -s $node->logfile;
update_in_steps('wc', 0.02);
ok( $node->poll_query_until(
		'postgres',
		"SELECT vacuum_passes > $passes FROM aura_stats('wc')"),
	'a compaction worker passes over wc again');
ok( !$node->log_contains(qr/automatic (compaction|vacuum) of table "postgres\.public\.wc"/,
		$offset),
	'with log_autovacuum_min_duration = -1 the pass is not logged');

# a session holds SHARE UPDATE EXCLUSIVE on wc (what ANALYZE takes) until
# it finds a row in wc_release; the updates ask for passes meanwhile
my $tmp = PostgreSQL::Test::Utils::tempdir;
$node->safe_psql('postgres', 'CREATE TABLE wc_release (go boolean)');
my $holder = background_psql_script(
	$node, 'holder', q{
BEGIN;
LOCK TABLE wc IN SHARE UPDATE EXCLUSIVE MODE;
DO $$ BEGIN
  WHILE NOT EXISTS (SELECT FROM wc_release) LOOP PERFORM pg_sleep(0.01); END LOOP;
END $$;
COMMIT;
}, "$tmp/holder.out", 120);
$node->poll_query_until(
	'postgres', q{SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	 WHERE a.application_name = 'holder' AND l.relation = 'wc'::regclass
	   AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted})
  or die 'the holder did not lock wc';
# (no pass can be running now: it would hold the lock)
$passes = $node->safe_psql('postgres',
	"SELECT vacuum_passes FROM aura_stats('wc')");
update_in_steps('wc', 0.02);
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		 WHERE a.backend_type = 'aura compaction' AND l.locktype = 'advisory'
		   AND l.classid = 'wc'::regclass::oid AND l.objid = 0 AND l.objsubid = 16725
		   AND l.granted}),
	'one compaction worker waits for the lock on wc');
is( $node->safe_psql('postgres',
		"SELECT vacuum_passes FROM aura_stats('wc')"),
	$passes, 'no pass while the lock is held');
$node->safe_psql('postgres', 'INSERT INTO wc_release VALUES (true)');
ok(finish_quietly($holder, 'the lock holder'), 'the holder released the lock');
ok( $node->poll_query_until(
		'postgres', "SELECT vacuum_passes > $passes FROM aura_stats('wc')"),
	'the waiting worker passes over wc once the lock is released');

check_log_health($node);
$node->stop;
done_testing();
