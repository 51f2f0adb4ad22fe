"""DeepSpeed's aio_handle over AsyncIO: round trips over numpy arrays and buffers of odd sizes and
offsets on every engine, the asynchronous calls and wait(), the getters, every error case."""
import errno
import os
import random

import numpy as np
import pytest

import swift_aio
from conftest import engines

ENGINES = engines()


@pytest.mark.parametrize("engine", ENGINES)
def test_round_trips_at_seeded_sizes_and_offsets(folder, engine):
    rng = random.Random(7)
    h = swift_aio.aio_handle(block_size=64 << 10, queue_depth=8, intra_op_parallelism=2, engine=engine)
    for round_ in range(8):
        size = rng.randrange(1, 3 << 20)
        offset = rng.choice([0, 4096, 512 * rng.randrange(1, 100), rng.randrange(1, 10_000)])
        path = os.path.join(folder, f"f{round_}")
        data = np.frombuffer(rng.randbytes(size), dtype=np.uint8)
        call = round_ % 4
        if call == 0:
            assert h.sync_pwrite(data, path, offset) == 1
        elif call == 1:
            assert h.async_pwrite(data, path, offset) == 0 and h.wait() == 1
        elif call == 2:
            assert h.pwrite(data, path, False, False, offset) == 1
        else:
            assert h.write(data, path, False, offset) == 0
        back = np.zeros(size, dtype=np.uint8)
        if call == 0:
            assert h.sync_pread(back, path, offset) == 1
        elif call == 1:
            assert h.async_pread(back, path, offset) == 0 and h.wait() == 1
        elif call == 2:
            assert h.pread(back, path, False, True, offset) == 0 and h.wait() == 1
        else:
            assert h.read(back, path, False, offset) == 0
        assert np.array_equal(back, data), f"round {round_}: {size} bytes at {offset}"


@pytest.mark.parametrize("engine", ENGINES)
def test_many_asynchronous_operations_then_one_wait(folder, engine):
    h = swift_aio.aio_handle(queue_depth=16, intra_op_parallelism=3, engine=engine)
    sources = [np.full(100_003 + i, i, dtype=np.uint8) for i in range(12)]
    for i, s in enumerate(sources):
        h.async_pwrite(s, os.path.join(folder, f"m{i}"))
    assert h.wait() == 12
    sinks = [np.zeros_like(s) for s in sources]
    for i, s in enumerate(sinks):
        h.async_pread(s, os.path.join(folder, f"m{i}"))
    assert h.wait() == 12
    assert all(np.array_equal(a, b) for a, b in zip(sources, sinks))
    assert h.wait() == 0, "nothing pending: 0 (DeepSpeed's aborts the process)"


def test_buffer_protocol_objects_and_views(folder):
    h = swift_aio.aio_handle()
    path = os.path.join(folder, "b")
    h.sync_pwrite(b"hello, direct world" * 1000, path)
    target = bytearray(19_000)
    h.sync_pread(target, path)
    assert bytes(target) == b"hello, direct world" * 1000
    big = np.arange(10_000, dtype=np.float32)
    h.sync_pwrite(big[100:2100], path)          # a view that starts inside the array
    back = np.zeros(2000, dtype=np.float32)
    h.sync_pread(memoryview(back), path)
    assert np.array_equal(back, big[100:2100])


def test_getters_are_deepspeeds():
    h = swift_aio.aio_handle(block_size=262144, queue_depth=16, single_submit=True, overlap_events=True,
                             intra_op_parallelism=4)
    assert (h.get_block_size(), h.get_queue_depth(), h.get_single_submit(), h.get_overlap_events(),
            h.get_intra_op_parallelism(), h.get_alignment()) == (262144, 16, True, True, 4, 2048)
    d = swift_aio.aio_handle()
    assert (d.get_block_size(), d.get_queue_depth(), d.get_intra_op_parallelism()) == (1048576, 128, 1)


def test_errors_are_oserrors_with_errno_and_file_name(folder):
    h = swift_aio.aio_handle()
    missing = os.path.join(folder, "missing")
    with pytest.raises(OSError) as info:
        h.sync_pread(np.zeros(10, dtype=np.uint8), missing)
    assert info.value.errno == errno.ENOENT and info.value.filename == missing
    short = os.path.join(folder, "short")
    h.sync_pwrite(np.ones(100, dtype=np.uint8), short)
    with pytest.raises(OSError) as info:
        h.sync_pread(np.zeros(101, dtype=np.uint8), short)
    assert info.value.errno == errno.ENODATA and "shorter" in info.value.strerror
    with pytest.raises(OSError) as info:
        h.sync_pread(np.zeros(10, dtype=np.uint8), short, -1)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(OSError) as info:
        swift_aio.aio_handle(queue_depth=0)
    assert info.value.errno == errno.EINVAL and "queue depth" in info.value.strerror
    with pytest.raises(OSError):
        swift_aio.aio_handle(engine="floppy")
    with pytest.raises(ValueError, match="not C-contiguous"):
        h.sync_pwrite(np.zeros((4, 4))[:, 1], short)
    with pytest.raises(TypeError, match="read-only"):
        h.sync_pread(b"immutable", short)
    with pytest.raises(OSError) as info:
        h.async_pread(np.zeros(10, dtype=np.uint8), missing)
    assert info.value.errno == errno.ENOENT
    assert h.wait() == 0


def test_module_level_aio_read_and_write(folder):
    path = os.path.join(folder, "whole")
    data = np.arange(50_000, dtype=np.int32)
    assert swift_aio.aio_write(data, path, 1 << 20, 8, False, True, False) == 0
    back = np.zeros_like(data)
    assert swift_aio.aio_read(back, path, 1 << 20, 8, False, True, False) == 0
    assert np.array_equal(back, data)
    with pytest.raises(OSError, match="buffer of its size"):
        swift_aio.aio_read(np.zeros(10, dtype=np.int32), path, 1 << 20, 8, False, True, False)


def test_descriptor_form_of_async_pwrite(folder):
    path = os.path.join(folder, "fd")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        h = swift_aio.aio_handle()
        h.async_pwrite(np.full(8192, 3, dtype=np.uint8), fd, 4096)
        assert h.wait() == 1
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        assert f.read() == bytes(4096) + bytes([3]) * 8192


def test_striping_over_several_folders(folder):
    folders = [os.path.join(folder, f"drive{i}") for i in range(3)]
    for f in folders:
        os.mkdir(f)
    striped = swift_aio.striped_handle(folders, stripe_size=64 << 10, queue_depth=8)
    data = np.frombuffer(random.Random(9).randbytes((1 << 20) + 12345), dtype=np.uint8)
    assert striped.write(data[1:], "state") == data.nbytes - 1      # an unaligned address
    assert all(len(os.listdir(f)) == 1 for f in folders)
    back = np.zeros(data.nbytes - 1, dtype=np.uint8)
    assert striped.read(back, "state") == back.nbytes
    assert np.array_equal(back, data[1:])
    with pytest.raises(OSError) as info:
        striped.read(back, "other")
    assert info.value.errno == errno.ENOENT
    with pytest.raises(OSError):
        swift_aio.striped_handle([folders[0], folders[0]])
