"""What the package promises about the process: the GIL is released while data moves, no
descriptor is left behind, the library carries its own Swift runtime."""
import os
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

import swift_aio
from swift_aio import _lib


def test_a_python_thread_runs_during_a_blocking_1_gib_read(folder):
    path = os.path.join(folder, "big")
    h = swift_aio.aio_handle(queue_depth=32, intra_op_parallelism=2)
    data = np.zeros(1 << 30, dtype=np.uint8)
    h.sync_pwrite(data, path)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    time.sleep(0.05)
    before = len(ticks)
    start = time.monotonic()
    h.sync_pread(data, path)
    during = [t for t in ticks[before:] if t >= start]
    stop.set()
    thread.join()
    assert len(during) >= 3, f"the other thread ran {len(during)} times during the read"


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_saves_leave_no_descriptor(folder):
    path = os.path.join(folder, "ckpt")
    payload = os.urandom(10_000)
    swift_aio.open(path, "wb").close()
    before = open_descriptors()
    for i in range(1000):
        with swift_aio.open(path, "wb", durable=False) as f:
            f.write(payload)
            if i % 100 == 0:
                with pytest.raises(ValueError):
                    f.write(np.zeros((3, 3))[:, 0])   # an error inside the with: close still runs
    with swift_aio.open(path, "rb") as f:
        assert f.read() == payload
    assert open_descriptors() == before


def test_the_library_carries_its_swift_runtime():
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed: cannot list the library's dependencies")
    dynamic = subprocess.run([readelf, "-d", _lib._PATH], capture_output=True, text=True, check=True).stdout
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed, dynamic
    assert not [line for line in needed if "libswift" in line or "libFoundation" in line or "libdispatch" in line], \
        "\n".join(needed)
