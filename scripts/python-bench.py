#!/usr/bin/env python3
"""python-bench.py — swift_aio against DeepSpeed's own async_io op, alternating, median ratios.

usage: DIR/bin/python scripts/python-bench.py --dir FOLDER [--rounds 5] [--part ds_io,save,load,call]
(DIR: a venv with DeepSpeed 0.19.8 and its built op (install-deepspeed.sh) and swift_aio installed.)

  ds_io: DeepSpeed's ds_io, same flags, its op against swift_aio's (python -m swift_aio.ds_io), reads and
         writes on two configurations; swift_aio's default engine, and its `aio` engine (the deepspeed
         target's path: kernel AIO, 4 KiB-page buffers).
  save:  torch.save of a 1 GiB state dict, fsync included: swift_aio.open against a plain file and
         against DeepSpeed's FastFileWriter; torch.load of it (page cache dropped first) likewise.
  load:  only the torch.load pairs of `save` (of a file written once with torch.save).
  call:  10,000 async_pread + wait of 4 KiB, per call, swift_aio against DeepSpeed's op.
Every ratio is swift_aio / the other (higher is better, except for call time and CPU).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

PY = sys.executable


def run(argv, env=None):
    out = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if out.returncode != 0:
        sys.exit(f"python-bench: {' '.join(argv)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout + out.stderr


def e2e(text):
    found = re.findall(r"E2E \w+ Speed = ([0-9.]+) GB/sec", text)
    return float(found[-1])


def pairs(name, a, b, rounds):
    ratios = []
    for i in range(rounds):
        x, y = a(), b()
        ratios.append(x / y)
        print(f"  {name} round {i + 1}: swift_aio {x:.3f}  other {y:.3f}  ratio {x / y:.3f}", flush=True)
    print(f"{name}: median ratio of {rounds} pairs: {statistics.median(ratios):.3f}", flush=True)


def part_ds_io(folder, rounds):
    for config in (["--io_size", "1G", "--block_size", "1M", "--queue_depth", "32", "--io_parallel", "1"],
                   ["--io_size", "1G", "--block_size", "2M", "--queue_depth", "16", "--io_parallel", "2"]):
        for op in ([], ["--read"]):
            flags = ["--folder", folder, "--loops", "3", "--warmup_loops", "1", *config, *op]
            theirs = lambda: e2e(run([os.path.join(os.path.dirname(PY), "ds_io"), *flags]))
            for engine in ("auto", "aio"):
                # `aio`: the deepspeed target's path (kernel AIO, 4 KiB-page pinned buffers).
                env = {"SWIFT_AIO_ENGINE": engine, "SWIFT_AIO_HUGE_PAGES": "0" if engine == "aio" else "1"}
                ours = lambda env=env: e2e(run([PY, "-m", "swift_aio.ds_io", *flags], env))
                pairs(f"ds_io {' '.join(config + op)} engine {engine}", ours, theirs, rounds)


SAVE = r'''
import os, sys, time, torch
kind, path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
state = {f"t{i}": torch.randn(16 << 20) for i in range(16)}          # 16 x 64 MiB = 1 GiB
start = time.perf_counter()
if kind == "plain":
    with open(path, "wb") as f:
        torch.save(state, f); f.flush(); os.fsync(f.fileno())
elif kind == "swift_aio":
    import swift_aio
    with swift_aio.open(path, "wb") as f:
        torch.save(state, f)
else:
    from deepspeed.io import FastFileWriter, FastFileWriterConfig
    from deepspeed.ops.op_builder import AsyncIOBuilder
    # DeepSpeed's own async_io op; only its utils op, which its CPU accelerator lacks, is stood in for.
    from swift_aio.deepspeed import _stand_in_for_utils
    _stand_in_for_utils()
    h = AsyncIOBuilder().load().aio_handle(1 << 20, 32, False, True, 2)
    pinned = h.new_cpu_locked_tensor(64 << 20, torch.empty(0, dtype=torch.uint8))
    writer = FastFileWriter(path, FastFileWriterConfig(dnvme_handle=h, pinned_tensor=pinned))
    torch.save(state, writer); writer.close()
print(f"GBps {(1 << 30) / (time.perf_counter() - start) / 1e9:.4f}")
'''

LOAD = r'''
import os, sys, time, torch
kind, path = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
start = time.perf_counter()
if kind == "plain":
    state = torch.load(path)
else:
    import swift_aio
    with swift_aio.open(path, "rb") as f:
        state = torch.load(f)
assert len(state) == 16
print(f"GBps {(1 << 30) / (time.perf_counter() - start) / 1e9:.4f}")
'''

CALL = r'''
import os, sys, time, torch
kind, path = sys.argv[1], sys.argv[2]
if kind == "swift_aio":
    import swift_aio as op
else:
    from deepspeed.ops.op_builder import AsyncIOBuilder
    op = AsyncIOBuilder().load()
h = op.aio_handle(4096, 8, False, True, 1)
buf = h.new_cpu_locked_tensor(4096, torch.empty(0, dtype=torch.uint8))
for _ in range(100):
    h.async_pread(buf, path); h.wait()
start = time.perf_counter()
for _ in range(10000):
    h.async_pread(buf, path); h.wait()
print(f"GBps {(time.perf_counter() - start) / 10000 * 1e6:.3f}")   # microseconds per call
'''


def figure(script, *args):
    return float(re.search(r"GBps ([0-9.]+)", run([PY, "-c", script, *args])).group(1))


def part_save(folder, rounds):
    path = os.path.join(folder, "ckpt.pt")
    pairs("torch.save 1 GiB vs a plain file", lambda: figure(SAVE, "swift_aio", path),
          lambda: figure(SAVE, "plain", path), rounds)
    pairs("torch.save 1 GiB vs FastFileWriter", lambda: figure(SAVE, "swift_aio", path),
          lambda: figure(SAVE, "fast", path), rounds)
    pairs("torch.load 1 GiB vs a plain file", lambda: figure(LOAD, "swift_aio", path),
          lambda: figure(LOAD, "plain", path), rounds)
    os.remove(path)


def part_load(folder, rounds):
    path = os.path.join(folder, "ckpt.pt")
    figure(SAVE, "plain", path)
    pairs("torch.load 1 GiB vs a plain file", lambda: figure(LOAD, "swift_aio", path),
          lambda: figure(LOAD, "plain", path), rounds)
    os.remove(path)


def part_call(folder, rounds):
    path = os.path.join(folder, "small")
    with open(path, "wb") as f:
        f.write(os.urandom(4096))
    # Time per call: ours over theirs (lower is better).
    pairs("async_pread + wait of 4 KiB, time per call", lambda: figure(CALL, "swift_aio", path),
          lambda: figure(CALL, "deepspeed", path), rounds)
    os.remove(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--part", default="ds_io,save,call")
    args = parser.parse_args()
    for part in args.part.split(","):
        {"ds_io": part_ds_io, "save": part_save, "load": part_load, "call": part_call}[part](args.dir, args.rounds)


if __name__ == "__main__":
    main()
