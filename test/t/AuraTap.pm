# test/t/AuraTap.pm - helpers shared by auradb's TAP tests (004_compaction,
# 005_cold_pages): aura_stats() and aura_check() of a table, queries under a
# forced scan type, the server log check, and background psql scripts.
package AuraTap;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(%scan stats check_clean check_plan scan_result
  check_log_health background_psql_script finish_quietly);

# Planner settings that force one scan type, and what its plan shows (%s:
# the index, or the table for seq scans).
our %scan = (
	seq => 'SET enable_seqscan = on; SET enable_indexscan = off; '
	  . 'SET enable_indexonlyscan = off; SET enable_bitmapscan = off;',
	index => 'SET enable_seqscan = off; SET enable_indexscan = on; '
	  . 'SET enable_indexonlyscan = off; SET enable_bitmapscan = off;',
	bitmap => 'SET enable_seqscan = off; SET enable_indexscan = off; '
	  . 'SET enable_indexonlyscan = off; SET enable_bitmapscan = on;',);
my %plan_pattern = (
	seq => 'Seq Scan on %s',
	index => 'Index Scan using %s',
	bitmap => 'Bitmap Index Scan on %s',);

# aura_stats() of a table as a hash reference.
sub stats
{
	my ($node, $rel) = @_;
	return decode_json(
		$node->safe_psql(
			'postgres', "SELECT row_to_json(s) FROM aura_stats('$rel') s"));
}

# aura_check() must succeed without a WARNING.
sub check_clean
{
	my ($node, $rel, $label) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', "SELECT * FROM aura_check('$rel')");
	ok($ret == 0 && $err !~ /WARNING|ERROR/,
		"$label: aura_check($rel) is clean")
	  or diag "aura_check($rel): exit code $ret, output: $out\n$err";
	return $out;
}

# Check (EXPLAIN) that $sql under the given scan type uses it, on $what (an
# index, or the table for seq scans).
sub check_plan
{
	my ($node, $mode, $what, $sql, $label) = @_;
	my $pattern = sprintf($plan_pattern{$mode}, $what);
	return like(
		$node->safe_psql('postgres', "$scan{$mode} EXPLAIN (COSTS OFF) $sql"),
		qr/\Q$pattern\E/, "$label: plan uses $pattern");
}

# Run $sql under the given scan type, after check_plan.
sub scan_result
{
	my ($node, $mode, $what, $sql, $label) = @_;
	check_plan($node, $mode, $what, $sql, $label);
	return $node->safe_psql('postgres', "$scan{$mode} $sql");
}

# No server log shows a crash of its own (crash_node kills the postmaster
# with its children, so the intended SIGKILLs leave no such line).
sub check_log_health
{
	my ($node) = @_;
	my $log = slurp_file($node->logfile);
	my @bad = grep {
		/PANIC:|TRAP:|invariant violated|terminated by signal|was terminated by exception/
	} split /\n/, $log;
	is(scalar(@bad), 0,
		$node->name
		  . ': no PANIC, failed assertion, invariant violation or crashed backend in the server log'
	) or diag join("\n", @bad[ 0 .. ($#bad < 20 ? $#bad : 19) ]);
	return;
}

# Start psql with a script in the background; output to $out.  (The script
# goes through a file: input from a scalar would only be fed to psql while
# we pump the IPC::Run harness.)
sub background_psql_script
{
	my ($node, $appname, $script, $out, $timeout) = @_;
	my $file = "$out.sql";
	open my $fh, '>', $file or die "could not write $file: $!";
	print $fh $script;
	close $fh;
	return IPC::Run::start(
		[
			'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres') . " application_name=$appname",
			'-f', $file
		],
		'<', \undef, '>', $out, '2>&1',
		IPC::Run::timeout($timeout));
}

# Wait for a background process; returns its success (no exception).
sub finish_quietly
{
	my ($h, $what) = @_;
	my $ok = eval { $h->finish; };
	if ($@)
	{
		diag "$what did not finish: $@";
		$h->kill_kill;
		return 0;
	}
	return $ok;
}

1;
