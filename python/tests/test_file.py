"""swift_aio.open: a binary file object for checkpoints."""
import io
import os
import random

import pytest

import swift_aio

torch = pytest.importorskip("torch", reason="torch is not installed: torch.save / torch.load are not tested")


def test_bytes_in_many_sizes_come_back(folder):
    rng = random.Random(3)
    path = os.path.join(folder, "pieces")
    pieces = [rng.randbytes(rng.choice([0, 1, 17, 4095, 4096, 70_000, 1 << 20, (3 << 20) + 5])) for _ in range(40)]
    with swift_aio.open(path, "wb", buffer_size=1 << 20) as f:
        assert isinstance(f, io.RawIOBase)
        for p in pieces:
            assert f.write(p) == len(p)
    whole = b"".join(pieces)
    assert os.path.getsize(path) == len(whole)
    with swift_aio.open(path, "rb") as f:
        assert f.read(10) == whole[:10]
        f.seek(-5, io.SEEK_END)
        assert f.read() == whole[-5:]
        f.seek(0)
        assert f.read() == whole


@pytest.mark.parametrize("expected", [0, 5 << 20, 64 << 20])
def test_expected_size_reserves_and_the_file_ends_at_the_bytes_written(folder, expected):
    data = random.Random(5).randbytes((5 << 20) + 123)
    path = os.path.join(folder, "expected")
    with swift_aio.open(path, "wb", buffer_size=1 << 20, expected_size=expected) as f:
        f.write(data)
    assert os.path.getsize(path) == len(data)
    with swift_aio.open(path, "rb") as f:
        assert f.read() == data


@pytest.mark.parametrize("bad", [-1, 1.5, "1G", True, 1 << 63])
def test_a_bad_expected_size_is_one_clear_error(folder, bad):
    with pytest.raises(ValueError, match="expected_size"):
        swift_aio.open(os.path.join(folder, "bad"), "wb", expected_size=bad)
    with pytest.raises(ValueError, match="expected_size is for mode 'wb'"):
        swift_aio.open(os.path.join(folder, "bad"), "rb", expected_size=10)
    assert not os.path.exists(os.path.join(folder, "bad"))


def test_torch_save_and_load_unchanged(folder):
    path = os.path.join(folder, "state.pt")
    state = {"w": torch.randn(1000, 333), "b": torch.arange(7, dtype=torch.int64), "odd": torch.randn(3, 5)[:, 1],
             "meta": {"step": 12, "name": "x"}}
    with swift_aio.open(path, "wb") as f:
        torch.save(state, f)
    with swift_aio.open(path, "rb") as f:
        back = torch.load(f)
    assert back["meta"] == state["meta"]
    for key in ("w", "b", "odd"):
        assert torch.equal(back[key], state[key])
    assert torch.equal(torch.load(path)["w"], state["w"]), "a plain torch.load reads it too"


def test_torch_tensors_through_the_handle(folder):
    h = swift_aio.aio_handle(intra_op_parallelism=2)
    path = os.path.join(folder, "t")
    t = torch.randn(123_457)
    h.sync_pwrite(t, path)
    back = torch.empty_like(t)
    h.sync_pread(back, path)
    assert torch.equal(back, t)
    base = torch.zeros(300_000)
    view = base[1000:124_457]                        # a view: storage offset, still contiguous
    h.sync_pread(view, path)
    assert torch.equal(view, t) and base[:1000].eq(0).all()
    with pytest.raises(ValueError, match="not contiguous"):
        h.sync_pread(torch.zeros(10, 10).t(), path)
    locked = h.new_cpu_locked_tensor(123_457, torch.zeros(1))
    assert h.is_pinned(locked) and h.is_pinned(locked[10:20]) and not h.is_pinned(back)
    assert locked.data_ptr() % 4096 == 0
    h.async_pread(locked, path)
    assert h.wait() == 1 and torch.equal(locked, t)
    assert h.free_cpu_locked_tensor(locked) and not h.free_cpu_locked_tensor(back)


def test_reads_across_a_small_window_with_seeks(folder):
    from swift_aio._file import _Reader
    rng = random.Random(5)
    path = os.path.join(folder, "windowed")
    whole = rng.randbytes(300_001)
    with open(path, "wb") as f:
        f.write(whole)
    with _Reader(path, window=8192) as f:
        assert f.read() == whole
        for _ in range(200):
            at, n = rng.randrange(0, len(whole)), rng.randrange(0, 40_000)
            f.seek(at)
            assert f.read(n) == whole[at:at + n]
        f.seek(10, io.SEEK_END)
        assert f.read(5) == b""


def test_a_reader_closed_with_its_read_ahead_in_flight_leaves_nothing_open(folder):
    from swift_aio._file import _Reader
    path = os.path.join(folder, "ahead")
    whole = random.Random(6).randbytes(5 << 20)
    with open(path, "wb") as f:
        f.write(whole)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with _Reader(path, window=1 << 20) as f:
            assert f.read(10) == whole[:10]   # the next megabyte is being read ahead
    assert len(os.listdir("/proc/self/fd")) == before
