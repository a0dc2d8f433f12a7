#!/usr/bin/env bash
# test/run-tests.sh - build auradb and run every test suite against a scratch
# cluster.  This is THE test command (README and CI):
#
#     sudo bash test/run-tests.sh
#
# Steps: install Debian packages (skip with AURA_SKIP_APT=1), copy the tree to
# a scratch directory owned by an unprivileged user, make clean / make
# AURA_DEBUG=1 / make install, start a private cluster, then run as that user
#   make installcheck  for pg_regress  (sql/*.sql, expected/*.out)
#   make installcheck  for isolation   (test/specs/*.spec, test/expected/*.out)
#   make installcheck  for TAP         (test/t/*.pl, prove -v)
# and finally test/checks/*.sh (as root, cluster environment exported).
#
# Every pg_regress/isolation test, every TAP assertion and every check script
# is one result; one more result checks that the scratch server log shows no
# crash or PANIC.  The very last line of output is always "N passed, M failed".
# Exit status is 0 only if nothing failed.  A build failure prints
# "0 passed, 1 failed".
#
# Knobs: AURA_SKIP_APT, AURA_SKIP_BUILD, AURA_DEBUG (see test/lib.sh),
# AURA_SUITE_TIMEOUT (seconds per suite, default 420),
# AURA_CHECK_TIMEOUT (seconds per check script, default 300),
# AURA_DIFF_LINES (lines of regression.diffs to print, default 400).
set -euo pipefail

# shellcheck source=test/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE_TIMEOUT="${AURA_SUITE_TIMEOUT:-420}"
CHECK_TIMEOUT="${AURA_CHECK_TIMEOUT:-300}"
DIFF_LINES="${AURA_DIFF_LINES:-400}"

PASSED=0
FAILED=0
SUMMARY_LINES=()
SHOW_SERVER_LOG=0

# record SUITE PASSED FAILED [NOTE]
record() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SUMMARY_LINES+=("$(printf '  %-12s %4d passed, %4d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
	if [ "$3" -gt 0 ]; then
		SHOW_SERVER_LOG=1
	fi
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
on_exit() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
		# Aborted by an unexpected error (set -e) or a signal.
		record "aborted" 0 1 "run-tests.sh stopped early, exit code $rc"
	fi
	if [ "$SHOW_SERVER_LOG" = 1 ] && [ -n "${AURA_SERVER_LOG:-}" ] && [ -f "$AURA_SERVER_LOG" ]; then
		echo "---- tail of the scratch server log ($AURA_SERVER_LOG) ----"
		tail -n 80 "$AURA_SERVER_LOG"
		echo "---- end of server log ----"
	fi
	aura_cleanup
	echo
	echo "==== auradb test summary ===="
	if [ "${#SUMMARY_LINES[@]}" -gt 0 ]; then
		printf '%s\n' "${SUMMARY_LINES[@]}"
	fi
	if [ $((PASSED + FAILED)) -eq 0 ]; then
		echo "  (no tests found)"
	fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ]; then
		exit 1
	fi
	exit 0
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# setup_step NAME CMD...: run a setup step; on failure count 1 failure and stop.
setup_step() {
	local name="$1"
	shift
	if ! "$@"; then
		err "$name failed; no tests were run"
		record "$name" 0 1 "failed"
		exit 1
	fi
}

# Count pg_regress/pg_isolation_regress result lines (PG15 format):
#   "test NAME   ... ok   12 ms"          (serial)
#   "     NAME   ... FAILED   12 ms"      (inside a parallel group)
#   "... failed (ignored)"                (ignored failure: still counted failed)
# Prints "PASSED FAILED".
count_regress_log() {
	awk '
		/^(test |     )[^ ]+ +\.\.\. / {
			s = $0
			sub(/^[^.]*\.\.\. +/, "", s)
			if (s ~ /^ok/) p++
			else if (s ~ /^(FAILED|failed)/) f++
		}
		END { printf "%d %d\n", p, f }' "$1"
}

# Count TAP assertions in "prove -v" output (file $1).  Top-level "ok N"
# passes (skips included), "not ok N" fails ("not ok N # TODO" is not
# counted).  A script that prove lists in its "Test Summary Report" with
# "Failed: 0" (it died, had a bad or no plan, or exited non-zero) counts as
# one more failure.  The scripts listed in that report are written to file $2.
# Prints "PASSED FAILED TODO".
count_tap_log() {
	: >"$2"
	awk -v failed_list="$2" '
		/^ok [0-9]+/ { p++; next }
		/^not ok [0-9]+/ {
			if (tolower($0) ~ /# *todo/) t++; else f++
			next
		}
		/^Test Summary Report/ { insummary = 1; next }
		insummary && /\(Wstat: .*Tests: [0-9]+ Failed: [0-9]+\)/ {
			print $1 >> failed_list
			n = $0
			sub(/.*Failed: /, "", n)
			sub(/\).*/, "", n)
			if (n + 0 == 0) {
				f++
				print "TAP script failed without a failing assertion (died or bad plan): " $1 > "/dev/stderr"
			}
		}
		END { printf "%d %d %d\n", p, f, t }' "$1"
}

# print_tap_logs FAILED_LIST: tails of tmp_check/log/* of the failed scripts
# (all logs if the list is empty, e.g. when prove itself failed).
print_tap_logs() {
	local logdir="$AURA_WORK/tmp_check/log" script b lf
	local -a files=()
	shopt -s nullglob
	if [ -s "$1" ]; then
		while IFS= read -r script; do
			b="$(basename "$script" .pl)"
			files+=("$logdir/regress_log_$b" "$logdir/${b}"_*.log)
		done <"$1"
	else
		files=("$logdir"/*)
	fi
	shopt -u nullglob
	local shown=0
	for lf in "${files[@]}"; do
		[ -f "$lf" ] || continue
		echo "---- tail of $lf ----"
		tail -n 80 "$lf"
		echo "---- end of $lf ----"
		shown=1
	done
	if [ "$shown" = 0 ]; then
		echo "(no TAP log files in $logdir for the failed scripts; see the prove output above)"
	fi
}

# run_suite NAME LOG MAKE_VARS...: make installcheck as the test
# user with the given variable overrides; output goes to the console and LOG.
run_suite() {
	local name="$1" log="$2"
	shift 2
	local rc=0
	log "running $name suite: make installcheck $*"
	set +e
	run_as_user timeout -k 30 "$SUITE_TIMEOUT" \
		make -C "$AURA_WORK" "${AURA_MAKE_ARGS[@]}" installcheck "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		err "$name suite timed out after ${SUITE_TIMEOUT}s"
	fi
	return "$rc"
}

print_file_head() {
	local f="$1" n="$2"
	[ -s "$f" ] || return 0
	echo "---- $f (first $n lines) ----"
	head -n "$n" "$f"
	echo "---- end of $f ----"
}

# ----------------------------------------------------------------------------
require_root || { record "setup" 0 1 "not root"; exit 1; }

[ "${CI:-}" = true ] && log "CI mode"
setup_step "install-deps" install_deps
setup_step "test-user" ensure_test_user
setup_step "copy-tree" copy_tree
setup_step "build" build_and_install "$AURA_WORK"
setup_step "start-cluster" start_scratch_cluster
aura_make_args
export PG_CONFIG

shopt -s nullglob
regress_tests=()
for f in "$AURA_WORK"/sql/*.sql; do
	case "$(basename "$f")" in auradb--*) continue ;; esac
	regress_tests+=("$(basename "$f" .sql)")
done
iso_tests=("$AURA_WORK"/test/specs/*.spec)
tap_tests=("$AURA_WORK"/test/t/*.pl)
checks=("$AURA_ROOT"/test/checks/*.sh)
shopt -u nullglob

# run_regress_suite NAME NTESTS WHAT DIFFS MAKE-ARGS...: one pg_regress-style
# suite (pg_regress or pg_isolation_regress); every expected test that
# printed no result line counts as failed.
run_regress_suite() {
	local name=$1 ntests=$2 what=$3 diffs=$4 rc=0 p f note missing
	shift 4
	run_suite "$name" "$AURA_TMP/$name.log" "$@" || rc=$?
	read -r p f <<<"$(count_regress_log "$AURA_TMP/$name.log")"
	note=""
	missing=$((ntests - p - f))
	if [ "$missing" -gt 0 ]; then
		f=$((f + missing))
		note="$missing $what reported no result"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="make installcheck exited with $rc"
	fi
	record "$name" "$p" "$f" "$note"
	if [ "$f" -gt 0 ]; then
		print_file_head "$diffs" "$DIFF_LINES"
	fi
}

# --- pg_regress and isolation ----------------------------------------------
if [ "${#regress_tests[@]}" -gt 0 ]; then
	run_regress_suite regress "${#regress_tests[@]}" "test(s)" \
		"$AURA_WORK/regression.diffs" ISOLATION= TAP_TESTS=
else
	log "no pg_regress tests (sql/*.sql) found, skipping"
fi
if [ "${#iso_tests[@]}" -gt 0 ]; then
	run_regress_suite isolation "${#iso_tests[@]}" "spec(s)" \
		"$AURA_WORK/output_iso/regression.diffs" REGRESS= TAP_TESTS=
else
	log "no isolation specs (test/specs/*.spec) found, skipping"
fi

# --- TAP --------------------------------------------------------------------
if [ "${#tap_tests[@]}" -gt 0 ]; then
	rc=0
	run_suite tap "$AURA_TMP/tap.log" REGRESS= ISOLATION= PROVE_FLAGS=-v || rc=$?
	read -r p f t <<<"$(count_tap_log "$AURA_TMP/tap.log" "$AURA_TMP/tap-failed.txt")"
	note=""
	if [ "$t" -gt 0 ]; then
		note="$t TODO assertion(s) not counted"
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="prove/make exited with $rc"
	fi
	record tap "$p" "$f" "$note"
	if [ "$f" -gt 0 ]; then
		print_tap_logs "$AURA_TMP/tap-failed.txt"
	fi
else
	log "no TAP tests (test/t/*.pl) found, skipping"
fi

# --- extra checks -------------------------------------------------------------
if [ "${#checks[@]}" -gt 0 ]; then
	cp=0
	cf=0
	export AURA_WORK AURA_TMP AURA_SERVER_LOG AURA_PGDATA PGHOST PGPORT PGUSER PGDATABASE
	for c in "${checks[@]}"; do
		name="$(basename "$c")"
		log "running check $name"
		crc=0
		(cd "$AURA_ROOT" && timeout -k 10 "$CHECK_TIMEOUT" bash "$c") || crc=$?
		if [ "$crc" -eq 0 ]; then
			log "check $name: passed"
			cp=$((cp + 1))
		else
			err "check $name: FAILED (exit code $crc)"
			cf=$((cf + 1))
		fi
	done
	record checks "$cp" "$cf"
else
	log "no extra checks (test/checks/*.sh) found, skipping"
fi

# --- scratch server health ----------------------------------------------------
crashes="$(grep -E 'terminated by signal|PANIC:|was terminated by exception' "$AURA_SERVER_LOG" || true)"
if [ -n "$crashes" ]; then
	err "the scratch server log shows crashes or PANICs:"
	printf '%s\n' "$crashes" | head -n 20
	record server-log 0 1 "crash/PANIC in server log"
else
	record server-log 1 0
fi

exit 0
