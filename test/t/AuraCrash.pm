# test/t/AuraCrash.pm - simulate a crash of a PostgreSQL::Test::Cluster node,
# for auradb's TAP tests (001_crash_recovery, 003_prepared_xacts,
# 004_compaction, 005_cold_pages).
#
# Killing only the postmaster ($node->kill9) leaves the backends running until
# they notice, so they could still write WAL, and their attachment to the old
# shared memory would make the restart fail.  crash_node therefore stops the
# postmaster first (SIGSTOP) so it cannot fork or react to its children dying,
# SIGKILLs all its children, then the postmaster, and waits until every one of
# them is reaped: a zombie postmaster still counts as alive for the
# postmaster.pid check of the next start.
package AuraCrash;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

our @EXPORT = qw(crash_node);

# State letter (and parent pid) of a process from /proc/<pid>/stat, undef
# if it is gone.
sub proc_state
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return undef;
	my $stat = <$fh>;
	close $fh;
	return undef unless defined $stat && $stat =~ /\)\s+(\S)\s+(\d+)/;
	return wantarray ? ($1, $2) : $1;
}

sub child_pids
{
	my ($ppid) = @_;
	my @kids;
	opendir my $dh, '/proc' or return ();
	for my $pid (grep { /^\d+$/ } readdir $dh)
	{
		my ($state, $parent) = proc_state($pid);
		push @kids, $pid if defined $parent && $parent == $ppid;
	}
	closedir $dh;
	return @kids;
}

sub crash_node
{
	my ($node) = @_;
	my ($pm) = slurp_file($node->data_dir . '/postmaster.pid') =~ /^(\d+)/;
	die 'no postmaster pid' unless $pm;

	kill 'STOP', $pm;
	my $t0 = time();
	while ((proc_state($pm) // 'T') ne 'T' && time() - $t0 < 10)
	{
		sleep(0.01);
	}
	my @kids = child_pids($pm);
	note "killing postmaster $pm and children @kids with SIGKILL";
	kill 'KILL', @kids;
	$node->kill9;    # SIGKILL the postmaster; the node is now known stopped

	$t0 = time();
	for my $pid ($pm, @kids)
	{
		while (defined proc_state($pid))
		{
			if (time() - $t0 > 60)
			{
				diag "process $pid still exists 60 s after SIGKILL: "
				  . proc_state($pid);
				last;
			}
			sleep(0.02);
		}
	}
	return;
}

1;
