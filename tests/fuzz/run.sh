#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (called by `make fuzz`).
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# For each target (default: every fuzz_* binary built in BUILD_DIR/tests/fuzz):
#  1. replays tests/fuzz/regressions/<target>/* (inputs that crashed before);
#  2. fuzzes for SECONDS on a copy of tests/fuzz/corpus/<target> made under
#     BUILD_DIR/fuzz/<target>/ (the repository's corpus is never written),
#     with the target's dictionary and input-size limit; crash inputs land in
#     BUILD_DIR/fuzz/<target>/artifacts/.
# Prints executions, exec/s, coverage (cov: edges, ft: features) and corpus
# size per target, and exits non-zero if any target crashed (ASan, UBSan,
# an invariant, a leak, a timeout or an out-of-memory) in either step.
# Each target's run is bounded by SECONDS plus a minute.
#
# FUZZ_KEEP_GOING=1 fuzzes in libFuzzer's fork mode (one job at a time) and
# goes on after a crash, timeout or OOM for the whole SECONDS, counting them
# (oom/timeout/crash column) and keeping every crash input in artifacts/:
# for long runs while a known bug is still open.
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
build=$(cd "$build" && pwd) || exit 2

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] && targets+=("$(basename "$bin")")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $build/tests/fuzz (run make fuzz-build)" >&2
  exit 2
fi

# Largest input per target: bodies big enough for deep nesting and long
# numbers (with the 512 KiB stack the targets set, recursion that grows with
# the input overflows at a few KiB), small enough for speed.
max_len() {
  case $1 in
    fuzz_initiate_body | fuzz_results_body) echo 8192 ;;
    # Tests grow as addresses x ports: 4 KiB holds up to ~500,000 (500 x
    # 1,000), 3 s an input with Go's report; 8 KiB would be 4 times that.
    fuzz_check_body) echo 4096 ;;
    fuzz_duration) echo 8192 ;; # long numbers (the parser once used std::stold)
    fuzz_scenario) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# fuzz_results_body's reference: the Go oracle the fuzz build made.
export NETPOL_GO_ORACLE=${NETPOL_GO_ORACLE:-$build/tests/oracle/kube-burner-decode}
# fuzz_check_body's: the client's Go oracle, netpolvalidator-codec.
export NETPOL_GO_CLIENT_ORACLE=${NETPOL_GO_CLIENT_ORACLE:-$build/tests/oracle/netpolvalidator-codec}
keep_going=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] &&
  keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)

failed=()
rows=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "== $t: not built, skipped"
    rows+=("$(printf '%-20s %s' "$t" "not built")")
    continue
  fi
  work=$build/fuzz/$t
  rm -rf "$work/corpus" "$work/artifacts"
  mkdir -p "$work/corpus" "$work/artifacts"

  # 1. Known crash inputs.
  regress="ok"
  shopt -s nullglob
  inputs=("$here/regressions/$t"/*)
  shopt -u nullglob
  if [ ${#inputs[@]} -gt 0 ]; then
    regress="${#inputs[@]} ok"
    for input in "${inputs[@]}"; do
      if ! { timeout 120 "$bin" -runs=1 "$input" >"$work/regress.log" 2>&1; } 2>/dev/null; then
        regress="CRASH"
        echo "== $t: regression input crashes: ${input#"$here"/}"
        grep -E "^(SUMMARY|==[0-9]+==ERROR)|invariant violated|threw|runtime error" \
          "$work/regress.log" | head -5 | sed 's/^/   /'
        failed+=("$t (regression ${input##*/})")
      fi
    done
  else
    regress="none"
  fi

  # 2. Fuzzing on a copy of the seed corpus.
  [ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$work/corpus/" 2>/dev/null
  dict=()
  [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
  echo "== $t: fuzzing ${seconds}s (max_len $(max_len "$t"))"
  { timeout $((seconds + 60)) "$bin" "${dict[@]}" "${keep_going[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1; } 2>/dev/null
  rc=$?
  log=$work/fuzz.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  if [ -z "$execs" ]; then # no final stats after a crash: the last status line
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  fi
  if [ ${#keep_going[@]} -gt 0 ]; then # fork mode: "#N: cov: .. corp: N exec/s R oom/timeout/crash: a/b/c time: Ts"
    corp=$(sed -n 's/.* corp: \([0-9]*\) .*/\1/p' <<<"$last")
    [ -z "$rate" ] && rate=$(sed -n 's/.* exec\/s \([0-9]*\) .*/\1/p' <<<"$last")
    otc=$(sed -n 's/.* oom\/timeout\/crash: \([0-9\/]*\) .*/\1/p' <<<"$last")
    corp="$corp o/t/c:${otc:-?}"
  fi
  artifacts=$(find "$work/artifacts" -type f | wc -l)
  result="ok"
  if [ $rc -ne 0 ] || [ "$artifacts" -gt 0 ]; then
    result="CRASH"
    [ $rc -eq 124 ] && result="HUNG"
    failed+=("$t (fuzzing, rc $rc)")
    echo "== $t: fuzzing failed (rc $rc); log: $log"
    grep -E "^(SUMMARY|==[0-9]+==ERROR)|invariant violated|threw|runtime error|Test unit written" \
      "$log" | head -8 | sed 's/^/   /'
  fi
  rows+=("$(printf '%-20s %-10s %-8s %12s %9s %7s %7s %14s %s' "$t" "$regress" \
    "$result" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$(find "$work/corpus" -type f | wc -l)")")
done

echo
printf '%-20s %-10s %-8s %12s %9s %7s %7s %14s %s\n' target regressions \
  fuzzing executions exec/s cov ft "corp(n/size)" files
for row in "${rows[@]}"; do
  echo "$row"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "FAILED: ${failed[*]}"
  exit 1
fi
