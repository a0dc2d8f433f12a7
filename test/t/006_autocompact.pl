# Compaction asked for by writers (src/tableam/autocompact.c), in a server
# whose log can be read:
#   - committed updates of an aura table start a background worker
#     ("aura compaction") whose pass is logged as "automatic compaction of
#     table ..." under log_autovacuum_min_duration = 0, and makes updated
#     rows cold again;
#   - an autovacuum pass of an aura table is logged as "automatic vacuum of
#     table ..." (aura's VACUUM honours log_autovacuum_min_duration);
#   - with log_autovacuum_min_duration = -1 neither is logged;
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

check_log_health($node);
$node->stop;
done_testing();
