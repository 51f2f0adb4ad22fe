#!/usr/bin/env python3
"""buffer-layout.py — how the pages of a running process's large buffers sit in physical memory.

usage: scripts/buffer-layout.py PID [--min-mib 256] [--every 0.5] [--samples 1]

Finds the process's anonymous mappings of at least --min-mib MiB (a benchmark's data buffer: ds_io's
pinned tensor, aio-bench's task buffers) and reads their frame numbers from /proc/PID/pagemap (root:
without CAP_SYS_ADMIN the kernel reads zeros). For each it prints the resident 4 KiB pages, the runs
of physically consecutive pages they form, and the runs' mean and median length. Over 4 KiB pages
a direct request is as many device segments as the buffer has runs in it, so the run length decides
how far the block layer can merge (docs/benchmarks.md, "Against DeepSpeed's ds_io").
"""
import argparse, statistics, struct, sys, time

PAGE = 4096
PRESENT, FRAME = 1 << 63, (1 << 55) - 1

def mappings(pid, min_bytes):
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if end - start >= min_bytes and (name == "" or name.startswith("[anon") or "hugepage" in name):
                yield start, end, name

def runs(pid, start, end):
    lengths, pages, previous, run = [], 0, None, 0
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(start // PAGE * 8)
        data = pagemap.read((end - start) // PAGE * 8)
    for (entry,) in struct.iter_unpack("<Q", data):
        if not entry & PRESENT:
            continue
        frame = entry & FRAME
        if frame == 0:
            sys.exit("buffer-layout: frame numbers read as zero: run as root")
        pages += 1
        if previous is not None and frame == previous + 1:
            run += 1
        else:
            if run:
                lengths.append(run)
            run = 1
        previous = frame
    if run:
        lengths.append(run)
    return pages, lengths

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pid", type=int)
    parser.add_argument("--min-mib", type=int, default=256)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=1)
    args = parser.parse_args()
    for sample in range(args.samples):
        try:
            found = list(mappings(args.pid, args.min_mib << 20))
            for start, end, name in found:
                pages, lengths = runs(args.pid, start, end)
                if not lengths:
                    continue
                print(f"pid {args.pid} {start:#x} {(end - start) >> 20} MiB{' ' + name if name else ''}: "
                      f"{pages} pages resident in {len(lengths)} runs, mean {pages * 4 / len(lengths):.1f} KiB, "
                      f"median {statistics.median(lengths) * 4:.0f} KiB", flush=True)
        except (FileNotFoundError, ProcessLookupError):
            return
        if sample + 1 < args.samples:
            time.sleep(args.every)

if __name__ == "__main__":
    main()
