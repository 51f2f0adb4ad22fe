#!/usr/bin/env bash
# Builds and runs the whole test suite under a sanitizer, in its own scratch path:
#
#   scripts/sanitize.sh thread      ThreadSanitizer, .build-tsan
#   scripts/sanitize.sh address     AddressSanitizer + LeakSanitizer, .build-asan
#
# Extra arguments go to `swift test` (e.g. --filter LogParser). The CLI tests spawn the sanitized aio-bench
# built next to the test bundle, so the tool is checked too; a sanitizer report makes that process exit
# non-zero (TSan 66, ASan and LeakSanitizer 1) and the test that ran it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
(($#)) && shift
link=()
# Tests that a sanitizer's runtime makes meaningless read this and say so (see their condition traits).
export AIO_SANITIZER=$kind
case $kind in
  thread)
    scratch=.build-tsan
    # TSan's lock-order (deadlock) detector failed an internal CHECK in DD::MutexAfterLock once the suite
    # had created and destroyed many handles' worker mutexes, then hung while printing the failure
    # (seen on a fresh clone, Swift 6.3.1): races are still detected, lock-order inversions are not.
    export TSAN_OPTIONS="detect_deadlocks=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    ;;
  address)
    scratch=.build-asan
    # Leaks at exit in XCTest, swift-argument-parser and Foundation.Process, none of them ours: see the file.
    suppressions="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
    export LSAN_OPTIONS="$suppressions${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    # The default linker (gold) prints one "Cannot export local symbol '__asan_…'" warning per ASan
    # runtime symbol for every executable (hundreds of lines); the toolchain's lld links the same without.
    link=(-Xswiftc -use-ld=lld)
    ;;
  *)
    echo "usage: scripts/sanitize.sh thread|address [swift test arguments...]" >&2
    exit 64
    ;;
esac

# Both sanitizers intercept mlock() and return success without locking anything (sanitizer_common), so
# the refused page lock that FaultCLITests.pageLockingRefused provokes (RLIMIT_MEMLOCK 64 KiB) cannot
# happen in a sanitized aio-bench: the plain `swift test` runs it.
skip=(--skip 'pageLockingRefused')

echo "sanitize: building with --sanitize=$kind in $scratch"
swift build --build-tests --scratch-path "$scratch" --sanitize="$kind" "${link[@]}"
echo "sanitize: testing with --sanitize=$kind"
swift test --skip-build --scratch-path "$scratch" --sanitize="$kind" "${link[@]}" "${skip[@]}" "$@"
