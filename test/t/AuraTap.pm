# test/t/AuraTap.pm - helpers shared by auradb's TAP tests (004_compaction,
# 005_cold_pages, 006_autocompact, 007_reuse_feedback): aura_stats() and
# aura_check() of a table, queries under a forced scan type, the server log
# check, background psql scripts, starting and reconfiguring a streaming
# standby, and a standby answering queries while the primary is loaded and
# compacted.
package AuraTap;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(%scan stats check_clean check_plan scan_result
  check_log_health background_psql_script generated_psql finish_quietly
  start_standby reconfigure_standby standby_phase);

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

# Start psql (application_name $appname) on $node, fed by the Perl program
# $generator run with the arguments @$args; its output and errors go to
# $out.  It ends when the generator does.
sub generated_psql
{
	my ($node, $appname, $generator, $args, $out, $timeout) = @_;
	return IPC::Run::start(
		[ $^X, '-e', $generator, @$args ],
		'|',
		[
			'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres') . " application_name=$appname"
		],
		'>', $out, '2>&1',
		IPC::Run::timeout($timeout));
}

# Start a streaming standby called $name from a new base backup of
# $primary, with the settings given (name => value) in its
# postgresql.conf; returns the node.
sub start_standby
{
	my ($primary, $name, %settings) = @_;

	$primary->backup("${name}_base");
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, "${name}_base", has_streaming => 1);
	$standby->append_conf('postgresql.conf',
		join('', map { "$_ = $settings{$_}\n" } sort keys %settings));
	$standby->start;
	return $standby;
}

# Change settings of a running node (name => value) by appending them to
# its postgresql.conf and reloading; dies unless the node reports them all
# before the timeout.
sub reconfigure_standby
{
	my ($node, $label, %settings) = @_;
	my @names = sort keys %settings;

	$node->append_conf('postgresql.conf',
		join('', map { "$_ = $settings{$_}\n" } @names));
	$node->reload;
	$node->poll_query_until('postgres',
		'SELECT '
		  . join(' AND ',
			map { "current_setting('$_') = '$settings{$_}'" } @names))
	  or die "standby settings did not change to $label";
	return;
}

# One phase of a standby under load.  For $a{duration} seconds pgbench runs
# on the primary with the arguments @{$a{pgbench}}, and so does a VACUUM
# loop (psql fed by the Perl program $a{vacuum_generator}, which gets the
# duration as its argument), while the standby answers the queries
# $a{checks}{kind} for the kinds @{$a{kinds}} in turn; $a{problem}->(kind,
# output) says what is wrong with an answer, or undef.  Then tests, named
# after $a{label}: pgbench and the loop succeeded (pgbench with more than
# $a{min_xacts} transactions, if given), at least $a{min_ok} answers were
# correct (during $a{during}), none was wrong, and the others failed only
# with recovery conflicts.  Output files are named after $a{tag} in
# $a{tmp}.  Returns the correct answers per kind.
sub standby_phase
{
	my (%a) = @_;
	my ($primary, $standby, $label) = @a{qw(primary standby label)};
	my @kinds = @{ $a{kinds} };
	my $bench_out = "$a{tmp}/pgbench_$a{tag}.out";
	my $bench = IPC::Run::start(
		[
			'pgbench', '-n', '-T', $a{duration}, @{ $a{pgbench} },
			'-h', $primary->host, '-p', $primary->port, 'postgres'
		],
		'<', \undef, '>', $bench_out, '2>&1',
		IPC::Run::timeout($a{duration} + 120));
	my $vacuum_out = "$a{tmp}/vacuum_$a{tag}.out";
	my $vacuum = generated_psql($primary, 'aura_vacuum_loop', $a{vacuum_generator},
		[ $a{duration} - 0.5 ], $vacuum_out, $a{duration} + 120);

	my %ok;
	my ($conflicts, $wrong, $errors) = (0, 0, 0);
	my $n = 0;
	my $t0 = time();
	while (time() - $t0 < $a{duration})
	{
		my $kind = $kinds[ $n++ % @kinds ];
		my ($ret, $out, $err) = $standby->psql('postgres', $a{checks}{$kind});
		if ($ret == 0)
		{
			my $problem = $a{problem}->($kind, $out);
			if (defined $problem)
			{
				$wrong++;
				diag "$label: standby returned wrong results ($kind): $problem\n$out";
			}
			else
			{
				$ok{$kind}++;
			}
		}
		elsif ($err =~ /\b(?:ERROR|FATAL):  40001: (?:canceling statement|terminating connection) due to conflict with recovery/
			|| $err =~ /connection to server .* failed: FATAL:  (?:canceling statement|terminating connection) due to conflict with recovery/)
		{
			# (a conflict while the connection is being set up is reported
			# without SQLSTATE)
			$conflicts++;
		}
		else
		{
			$errors++;
			diag "$label: standby query ($kind) failed (exit code $ret):\n$err";
		}
	}
	my $ok = 0;
	$ok += $_ for values %ok;
	my $bench_ok = finish_quietly($bench, 'pgbench');
	my $vacuum_ok = finish_quietly($vacuum, 'VACUUM loop');
	my $bench_output = slurp_file($bench_out);
	my ($xacts) = $bench_output =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $bench_output =~ /number of failed transactions: (\d+)/;
	note "$label: " . ($xacts // '?') . ' pgbench transactions; standby checks: '
	  . "$ok correct (" . join(', ', map { ($ok{$_} // 0) . " $_" } @kinds) . '), '
	  . "$conflicts cancelled by recovery conflicts, $wrong wrong, $errors other errors";

	ok($bench_ok, "$label: pgbench on the primary succeeded") or diag $bench_output;
	is($failed, 0, "$label: no failed pgbench transaction");
	cmp_ok($xacts // 0, '>', $a{min_xacts}, "$label: pgbench processed transactions")
	  if defined $a{min_xacts};
	ok($vacuum_ok, "$label: every VACUUM / aura_compact() on the primary succeeded")
	  or diag slurp_file($vacuum_out);
	cmp_ok($ok, '>=', $a{min_ok},
		"$label: at least $a{min_ok} standby checks succeeded during $a{during}");
	cmp_ok($ok + $conflicts, '>', 0, "$label: standby checks ran");
	is($wrong, 0, "$label: no standby query returned a wrong result");
	is($errors, 0, "$label: standby queries failed only with recovery conflicts");
	return \%ok;
}

1;
