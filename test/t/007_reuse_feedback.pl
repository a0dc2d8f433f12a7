# Reuse of free pages (src/storage/pagefree.c).  A free page may be reused
# once no backend that could still read its old contents is left:
#   - on the primary, such a backend holds a lock on the table and has a
#     snapshot from before the page was freed: a REPEATABLE READ
#     transaction that has read only another table does not keep the pages
#     from being reused (although it holds the removal horizon back), one
#     that has read the table does;
#   - a standby query that started before VACUUM freed the pages may read
#     them through its own copies, and their reuse on the primary cancels
#     it (the reuse's conflict record).  With hot_standby_feedback on, the
#     primary keeps the pages for it as it keeps versions: a query running
#     during VACUUM and the reinsertion of the rows on the primary is not
#     cancelled, and the primary extends the table instead of reusing the
#     pages until the query has ended.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use AuraTap;

my $primary = PostgreSQL::Test::Cluster->new('feedback_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION auradb');
# Part 1, on the primary (no standby yet): a transaction holding a
# snapshot from before the pages were freed, in the background for 8 s
my $tmp = PostgreSQL::Test::Utils::tempdir;
$primary->safe_psql(
	'postgres', q{
CREATE TABLE reuse (id int, v text) USING aura WITH (autovacuum_enabled = off);
CREATE TABLE reuse_other (id int) USING heap;
INSERT INTO reuse_other VALUES (1);
});
for my $variant (
	{ reads => 'reuse_other', reused => 1 },
	{ reads => 'reuse', reused => 0 })
{
	my $reads = $variant->{reads};
	$primary->safe_psql(
		'postgres', q{
TRUNCATE reuse;
INSERT INTO reuse SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
DELETE FROM reuse;
});
	my $holder = background_psql_script($primary, 'holder',
		"BEGIN ISOLATION LEVEL REPEATABLE READ;
"
		  . "SELECT count(*) FROM $reads;
"
		  . "SELECT pg_sleep(8);
COMMIT;
",
		"$tmp/holder_$reads.out", 60);
	$primary->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity
		   WHERE application_name = 'holder' AND query LIKE 'SELECT pg_sleep%'
		     AND backend_xmin IS NOT NULL})
	  or die 'the holder did not start';
	$primary->safe_psql('postgres', 'VACUUM (TRUNCATE false) reuse');
	my $freed = stats($primary, 'reuse')->{free_pages};
	cmp_ok($freed, '>', 40,
		"holder read $reads: VACUUM freed the pages of the deleted rows");
	$primary->safe_psql(
		'postgres', q{
SELECT txid_current();
INSERT INTO reuse SELECT g, repeat('y', 200) FROM generate_series(1, 2000) g;
});
	my $left = stats($primary, 'reuse')->{free_pages};
	if ($variant->{reused})
	{
		cmp_ok($left, '<', 10,
			"holder read only $reads: the freed pages were reused");
	}
	else
	{
		cmp_ok($left, '>=', $freed - 2,
			"holder read $reads: the freed pages were not reused");
	}
	ok(finish_quietly($holder, 'the holder'), "holder read $reads: it committed");
	check_clean($primary, 'reuse', "holder read $reads");
}

my $standby = start_standby(
	$primary, 'feedback_standby',
	hot_standby_feedback => 'on',
	wal_receiver_status_interval => '1s',
	max_standby_streaming_delay => '0');

# Part 2, with a standby.  Rows deleted before the standby query starts:
# VACUUM may remove them, and frees their pages, while the query runs
$primary->safe_psql(
	'postgres', q{
CREATE TABLE r (id int, v text) USING aura WITH (autovacuum_enabled = off);
INSERT INTO r SELECT g, repeat('a', 200) FROM generate_series(1, 3000) g;
INSERT INTO r SELECT -g, 'stays' FROM generate_series(1, 10) g;
DELETE FROM r WHERE id > 0;
});
$primary->wait_for_catchup($standby);

# on the standby, a cursor that has read part of the table (its scan holds
# a copy of the map page naming the deleted rows' pages) and reads on
# after 8 s
my $out = "$tmp/standby_query.out";
my $query = background_psql_script($standby, 'cursor',
	"BEGIN ISOLATION LEVEL REPEATABLE READ;\n"
	  . "DECLARE c CURSOR FOR SELECT id, v FROM r;\n"
	  . "FETCH 4 FROM c;\n"
	  . "SELECT pg_sleep(8);\n"
	  . "FETCH ALL FROM c;\nCOMMIT;\n",
	$out, 120);
$standby->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity
	   WHERE application_name = 'cursor' AND query LIKE 'SELECT pg_sleep%'})
  or die 'the standby query did not start';
# (let the standby report the query's xmin)
sleep(3);

$primary->safe_psql('postgres', 'VACUUM (TRUNCATE false) r');
my $freed = stats($primary, 'r');
cmp_ok($freed->{free_pages}, '>', 30, 'VACUUM freed the pages of the deleted rows');
$primary->safe_psql(
	'postgres', q{
SELECT txid_current();
INSERT INTO r SELECT g, repeat('b', 200) FROM generate_series(1, 3000) g;
});
my $after = stats($primary, 'r');
cmp_ok($after->{free_pages}, '>=', $freed->{free_pages} - 2,
	'the freed pages were not reused while the standby query could read them');
cmp_ok($after->{total_pages}, '>', $freed->{total_pages},
	'the primary extended the table instead');

ok(finish_quietly($query, 'the standby query'),
	'the standby query was not cancelled');
my @rows = grep { /^-\d+\|stays$/ } split /\n/, slurp_file($out);
is(scalar(@rows), 10, 'the standby query read the rows of its snapshot');

# once it has ended and the standby reports a newer xmin, the pages are
# reused
my $xid = $primary->safe_psql('postgres', 'SELECT txid_current()');
$primary->poll_query_until('postgres',
	"SELECT backend_xmin::text::bigint > $xid FROM pg_stat_replication")
  or die 'the standby kept its old xmin';
$primary->safe_psql(
	'postgres', q{
SELECT txid_current();
INSERT INTO r SELECT g, repeat('c', 200) FROM generate_series(3001, 4000) g;
});
my $later = stats($primary, 'r');
cmp_ok($later->{free_pages}, '<', $after->{free_pages},
	'after the standby query the freed pages are reused');
is($primary->safe_psql('postgres', "SELECT count(*) FROM r"), '4010',
	'the primary has every row');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', "SELECT count(*), sum(id) FROM r"),
	$primary->safe_psql('postgres', "SELECT count(*), sum(id) FROM r"),
	'the standby has the same rows');
check_clean($primary, 'r', 'at the end');

$standby->stop;
$primary->stop;
done_testing();
