#!/bin/bash
# Striping over two folders of one disk against one folder of it: same io_size, block size and queue
# depth, runs alternated (folder, stripe, folder, stripe, ...), ratio stripe / folder per pair, median.
# Build first: swift build -c release. Usage:
#   bash scripts/stripe-vs-folder.sh DIR [--read] [PAIRS] [extra io flags for both runs ...]
# Creates DIR/one, DIR/a and DIR/b (kept; empty afterwards). Speeds are DeepSpeed's E2E "GB/sec" (GiB/s).
set -euo pipefail
dir=${1:?usage: stripe-vs-folder.sh DIR [--read] [PAIRS] [io flags ...]}
shift
op=()
if [[ ${1:-} == --read ]]; then op=(--read); shift; fi
pairs=${1:-9}
[[ $# -gt 0 ]] && shift
tool="$(cd "$(dirname "$0")/.." && pwd)/.build/release/aio-bench"
mkdir -p "$dir/one" "$dir/a" "$dir/b"
common=(--io_size 1G --block_size 1M --queue_depth 32 "${op[@]}" "$@")
e2e() { "$tool" io "$@" | awk '/^E2E .* Speed = / { print $5 }'; }
ratios=()
for i in $(seq 1 "$pairs"); do
    one=$(e2e --folder "$dir/one" "${common[@]}")
    striped=$(e2e --stripe "$dir/a" "$dir/b" --stripe_size 1M "${common[@]}")
    ratio=$(awk -v s="$striped" -v f="$one" 'BEGIN { printf "%.3f", s / f }')
    ratios+=("$ratio")
    printf 'pair %d: folder %.3f GiB/s, stripe %.3f GiB/s, ratio %s\n' "$i" "$one" "$striped" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { printf "median ratio %s of %d pairs\n", r[int((NR + 1) / 2)], NR }'
