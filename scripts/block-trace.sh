#!/usr/bin/env bash
# block-trace.sh — what a disk saw while one command ran: its requests, how many were in flight,
# whether completions came one by one or in bursts, and how soon after a burst the next request
# reached the disk. Reads the kernel's block_rq_issue / block_rq_complete trace events (tracefs;
# needs root). Only reads of at least 4 KiB on the device are counted (other traffic on the disk
# during the run is left out).
#
# usage: scripts/block-trace.sh [--device vda] [--buffer-kb N] -- COMMAND [ARG...]
#   --device: the disk to watch (default: the one that holds the current folder)
#   --buffer-kb: the kernel's trace buffer per CPU, in KiB (default 65536: about 300,000 events);
#     when a run overflows it, the script says so and the figures are not to be trusted
#   e.g. scripts/block-trace.sh -- .build/release/aio-bench io --read --folder D --io_size 1G \
#          --block_size 1M --queue_depth 16 --loops 1 --warmup_loops 0 --stream --fast_io_size 8M
#
# Prints the command's own output, then one line:
#   requests, time from first issue to last completion, mean requests in flight on the device,
#   completion bursts (completions less than 100 µs apart count as one burst) and their median size,
#   the median time from a burst to the next request issued, and the mean time between bursts.
set -euo pipefail
device=
buffer_kb=65536
usage='usage: block-trace.sh [--device vda] [--buffer-kb N] -- COMMAND [ARG...]'
while [[ $# -gt 0 ]]; do
  case $1 in
    --device)
      device=${2:-}
      [[ -n $device && $device != -* ]] || { echo "block-trace: --device needs a disk name such as vda ($usage)" >&2; exit 64; }
      shift 2 ;;
    --buffer-kb)
      buffer_kb=${2:-}
      [[ $buffer_kb =~ ^[1-9][0-9]{0,7}$ ]] || { echo "block-trace: --buffer-kb needs a whole number of KiB from 1 to 99999999, not '$buffer_kb'" >&2; exit 64; }
      shift 2 ;;
    --) shift; break ;;
    *) echo "block-trace: unknown option '$1' ($usage)" >&2; exit 64 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "block-trace: no command given ($usage)" >&2; exit 64; }
[[ $(id -u) == 0 ]] || { echo "block-trace: needs root (tracefs)" >&2; exit 1; }
if [[ -z $device ]]; then   # the disk that holds the current folder
  source=$(findmnt -no SOURCE -T .)
  device=$(basename "$source")
  [[ -e /sys/block/$device ]] || device=$(lsblk -no PKNAME "$source" 2>/dev/null | head -1)
  [[ -n $device ]] || { echo "block-trace: cannot tell which disk holds $(pwd) ($source): give --device" >&2; exit 64; }
fi
[[ -r /sys/block/$device/dev ]] || { echo "block-trace: no block device '$device' in /sys/block" >&2; exit 64; }
majmin=$(tr ':' ',' < "/sys/block/$device/dev")

T=/sys/kernel/tracing
[[ -d $T/events/block ]] || mount -t tracefs nodev $T 2>/dev/null || true
[[ -d $T/events/block ]] || { echo "block-trace: tracefs has no block events at $T" >&2; exit 1; }

out=$(mktemp)   # mode 0600
old_clock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' $T/trace_clock)
old_size=$(cat $T/buffer_size_kb)
old_on=$(cat $T/tracing_on)
restore() {   # every step, also when one fails
  set +e
  echo 0 > $T/tracing_on
  echo 0 > $T/events/block/block_rq_issue/enable
  echo 0 > $T/events/block/block_rq_complete/enable
  echo "$old_clock" > $T/trace_clock
  echo > $T/trace
  echo "${old_size%% *}" > $T/buffer_size_kb
  echo "$old_on" > $T/tracing_on
  rm -f "$out"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo 0 > $T/tracing_on
echo mono > $T/trace_clock
echo > $T/trace
echo "$buffer_kb" 2>/dev/null > $T/buffer_size_kb || { echo "block-trace: the kernel refused a trace buffer of $buffer_kb KiB per CPU: give a smaller --buffer-kb" >&2; exit 1; }
echo 1 > $T/events/block/block_rq_issue/enable
echo 1 > $T/events/block/block_rq_complete/enable
echo 1 > $T/tracing_on
status=0
"$@" || status=$?
echo 0 > $T/tracing_on
cat $T/trace > "$out"
lost=$(cat $T/per_cpu/cpu*/stats 2>/dev/null | awk '/^overrun:/ { n += $2 } END { print n + 0 }')
(( lost == 0 )) || echo "block-trace: the trace buffer overflowed ($lost events lost): the figures below miss part of the run; trace a shorter one" >&2

analysis=0
python3 - "$out" "$majmin" "$device" <<'EOF' || analysis=$?
import bisect, re, statistics, sys
path, majmin, device = sys.argv[1:]
pattern = re.compile(r'\s(\d+\.\d+): block_rq_(issue|complete): ' + re.escape(majmin)
                     + r' R\S* (?:\d+ )?\(\) (\d+) \+ (\d+)')
events = []
for line in open(path):
    m = pattern.search(line)
    if m and int(m.group(4)) >= 8:
        events.append((float(m.group(1)), m.group(2), int(m.group(3))))
completions = [t for t, kind, _ in events if kind == 'complete']
if len(completions) < 2:
    sys.exit(f"block-trace: fewer than 2 reads reached {device} during the command")
issues = [t for t, kind, _ in events if kind == 'issue']
bursts, sizes, size = [completions[0]], [], 1
for a, b in zip(completions, completions[1:]):
    if b - a > 100e-6:
        bursts.append(b)
        sizes.append(size)
        size = 1
    else:
        size += 1
sizes.append(size)
first = []
for a, b in zip(bursts, bursts[1:] + [float('inf')]):
    i = bisect.bisect_right(issues, a)   # issues are in time order
    if i < len(issues) and issues[i] < b:
        first.append(issues[i] - a)
points = sorted((t, 1 if kind == 'issue' else -1) for t, kind, _ in events)
area, depth, last = 0.0, 0, points[0][0]
for t, d in points:
    area += depth * (t - last)
    depth += d
    last = t
span = points[-1][0] - points[0][0]
cycle = statistics.mean([b - a for a, b in zip(bursts, bursts[1:])]) if len(bursts) > 1 else 0
after = f"{statistics.median(first) * 1e3:.3f} ms" if first else "none"
print(f"block-trace {device}: {len(completions)} reads in {span * 1e3:.0f} ms, {area / span:.2f} in flight, "
      f"{len(bursts)} completion bursts (median {statistics.median(sizes):g} reads), "
      f"next issue after a burst {after} (median), {cycle * 1e3:.2f} ms between bursts (mean)")
EOF
(( status != 0 )) && exit $status
exit $analysis
