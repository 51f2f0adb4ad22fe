#!/usr/bin/env bash
# Fuzzes the parsers of AIOBench with libFuzzer: log contents, sweep-config JSON and log file names / size strings.
#
#   scripts/fuzz.sh                 build, then run each fuzzer for FUZZ_SECONDS (default 60)
#   FUZZ_SECONDS=600 scripts/fuzz.sh logs     one target, longer
#
# The fuzzer is the target aio-bench-fuzz built with -sanitize=fuzzer -DFUZZING in its own scratch path
# (.build-fuzz), so plain `swift build` and `swift test` never see libFuzzer. Each run starts from a copy of
# Fuzz/corpus/<target> in a temporary folder (libFuzzer adds what it finds there; the committed seed corpus stays
# small). A crash, a hang (-timeout) or a broken round trip fails the script; the input is kept under
# .build-fuzz/artifacts/ and can be replayed in a plain build:
#   swift run aio-bench-fuzz <target> .build-fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=("$@")
((${#targets[@]})) || targets=(logs sweep names)
for target in "${targets[@]}"; do
  case $target in
    logs | sweep | names) ;;
    *) echo "fuzz.sh: unknown target '$target': expected logs, sweep or names" >&2; exit 64 ;;
  esac
done

scratch=.build-fuzz
echo "fuzz: building aio-bench-fuzz with libFuzzer in $scratch"
swift build -c debug --scratch-path "$scratch" --product aio-bench-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -enable-experimental-feature -Xswiftc Extern
fuzzer="$(swift build -c debug --scratch-path "$scratch" --show-bin-path)/aio-bench-fuzz"

work=$(mktemp -d "${TMPDIR:-/tmp}/aio-bench-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$PWD/$scratch/artifacts"

# Let libFuzzer handle crashes (it installs no handler where Swift's backtracer already has one) and save inputs.
export SWIFT_BACKTRACE=enable=no

failed=()
for target in "${targets[@]}"; do
  case $target in
    logs) max_len=8192 ;;
    sweep) max_len=4096 ;;
    names) max_len=256 ;;
  esac
  mkdir -p "$work/$target" "$artifacts/$target"
  cp Fuzz/corpus/"$target"/* "$work/$target/"
  echo "fuzz: $target for ${seconds}s from $(ls "$work/$target" | wc -l) seed inputs"
  status=0
  AIO_FUZZ_TARGET=$target "$fuzzer" "$work/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -dict="Fuzz/dict/$target.dict" -artifact_prefix="$artifacts/$target/" -print_final_stats=1 \
    >"$work/$target.log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -1)
  corpus=$(ls "$work/$target" | wc -l)
  if ((status == 0)); then
    echo "fuzz: $target passed: ${runs:-?} inputs run, corpus grew to $corpus"
  else
    echo "fuzz: $target FAILED (exit $status) after ${runs:-?} inputs; libFuzzer's report:"
    grep -v -E '^#[0-9]+|^INFO:' "$work/$target.log" | tail -40 || true
    echo "fuzz: inputs kept in $artifacts/$target/: $(ls "$artifacts/$target" | tr '\n' ' ')"
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: no crash, hang or broken round trip in: ${targets[*]}"
