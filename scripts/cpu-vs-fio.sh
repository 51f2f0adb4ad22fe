#!/usr/bin/env bash
# cpu-vs-fio.sh — whole-process CPU (user+sys) of one 1 GiB read: aio-bench io against fio on the
# same existing file, alternating (A B A B ...), and the median ratio aio-bench / fio (lower is better
# for aio-bench). fio reads as shipped: io_uring, O_DIRECT, 1 MiB blocks, queue depth 32.
#
# usage: scripts/cpu-vs-fio.sh --dir DIR [--rounds 5] [--bin PATH] [-- extra aio-bench flags]
# The file DIR/_aio_read_1073741824.pt.0 is created once (and kept for later runs; remove it yourself).
set -euo pipefail
dir= rounds=5 bin=.build/release/aio-bench extra=()
while (($#)); do
  case $1 in
    --dir) dir=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --bin) bin=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "cpu-vs-fio: unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
[[ -n $dir && -d $dir ]] || { echo "cpu-vs-fio: --dir must name an existing folder" >&2; exit 64; }
command -v fio >/dev/null || { echo "cpu-vs-fio: no fio (apt-get install fio)" >&2; exit 1; }
[[ -x $bin ]] || { echo "cpu-vs-fio: no aio-bench at $bin (swift build -c release)" >&2; exit 1; }
file=$dir/_aio_read_1073741824.pt.0
[[ -f $file && $(stat -c %s "$file") == 1073741824 ]] ||
  dd if=/dev/urandom of="$file" bs=16M count=64 status=none
cpu() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.3f", $1 + $2}'; }
ratios=()
for ((i = 1; i <= rounds; i++)); do
  a=$(cpu "$bin" io --read --folder "$dir" --io_size 1G --loops 1 --warmup_loops 0 "${extra[@]}")
  b=$(cpu fio --name=cpu --filename="$file" --rw=read --ioengine=io_uring --direct=1 --bs=1M \
        --iodepth=32 --size=1G --output=/dev/null)
  r=$(python3 -c "print(f'{$a/$b:.3f}')")
  ratios+=("$r")
  printf 'round %d: aio-bench %s s  fio %s s  ratio %s\n' "$i" "$a" "$b" "$r"
done
python3 -c "import statistics,sys;print(f'cpu ratio aio-bench/fio (median of {len(sys.argv)-1} pairs): {statistics.median(map(float,sys.argv[1:])):.3f}')" "${ratios[@]}"
