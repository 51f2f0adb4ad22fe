#!/usr/bin/env bash
# copy-alongside.sh — what a memory copy running beside it costs a whole-buffer write or read: the
# copy a streamed write makes (4 KiB-page memory into a huge-page buffer, 64 MiB at a time), as a C
# loop on the other core. Alternates `io` alone and `io` with the copy running, ROUNDS times.
#
# usage: scripts/copy-alongside.sh BIN ROUNDS [io flags...]   e.g. .build/release/aio-bench 3 --read
# Scratch: $COPY_DIR (default /tmp/copy-alongside), removed at the end, also on error and Ctrl-C.
set -euo pipefail
bin=$1; rounds=$2; shift 2
dir=${COPY_DIR:-/tmp/copy-alongside}
mkdir -p "$dir"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/copy.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* Copies 1 GiB of ordinary memory, one byte in, into a 64 MiB aligned buffer for argv[1] seconds. */
int main(int argc, char **argv) {
    size_t n = (size_t)1 << 30, chunk = (size_t)64 << 20;
    char *from = malloc(n + 1), *to = aligned_alloc((size_t)2 << 20, chunk);
    memset(from, 1, n + 1);
    double limit = argc > 1 ? atof(argv[1]) : 5, elapsed = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t done = 0;
    while (elapsed < limit) {
        for (size_t at = 0; at < n; at += chunk) { memcpy(to, from + 1 + at, chunk); done += chunk; }
        clock_gettime(CLOCK_MONOTONIC, &t);
        elapsed = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    }
    printf("copy %.2f GiB/s (%d)\n", (double)done / elapsed / (double)(1 << 30), to[5]);
    return 0;
}
C
cc -O1 -fno-builtin -o "$dir/copy" "$dir/copy.c"
speed() { "$bin" io --folder "$dir" --io_size 1G --loops 2 "$@" 2>&1 | awk '/^speed/ {print $2}'; }
speed >/dev/null   # a file for --read
for i in $(seq "$rounds"); do
  alone=$(speed "$@")
  "$dir/copy" 8 > "$dir/copy.out" &
  sleep 0.3
  beside=$(speed "$@")
  wait
  echo "$i alone $alone GiB/s, with the copy $beside GiB/s, $(cat "$dir/copy.out")"
done
