#!/usr/bin/env bash
# stream-vs-whole.sh — `io --stream` against whole-buffer `io` of the same 1 GiB, alternating in one go.
#
# usage: scripts/stream-vs-whole.sh MODE ROUNDS BIN...
#   MODE: overwrite (both overwrite in place), fresh (both --fresh_file_each_loop), read (both --read)
#   BIN:  aio-bench binaries; each round runs the streamed loop with every BIN, then the whole-buffer
#         loop with the first. Prints one line per round: each speed in GiB/s.
# The scratch folder is $STREAM_DIR (default /tmp/sw), removed at the end, also on error and Ctrl-C.
set -euo pipefail
mode=$1; rounds=$2; shift 2
dir=${STREAM_DIR:-/tmp/sw}
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
extra=""; [ "$mode" = fresh ] && extra="--fresh_file_each_loop"; [ "$mode" = read ] && extra="--read"
for i in $(seq $rounds); do
  line="$i"
  for v in "$@"; do
    s=$("$v" io --folder "$dir" --io_size 1G --loops 2 $extra --stream --fast_io_size 64M 2>&1 | grep "^speed" | awk '{print $2}')
    line="$line $(basename "$v")=$s"
  done
  s=$("$1" io --folder "$dir" --io_size 1G --loops 2 $extra 2>&1 | grep "^speed" | awk '{print $2}')
  echo "$line whole=$s"
done
