"""swift_aio inside DeepSpeed: AsyncIOBuilder().load() returns it after install(); DeepSpeed's own
ds_io validates reads and writes on it; FastFileWriter and torch.save write through it."""
import os
import subprocess
import sys

import pytest

deepspeed = pytest.importorskip("deepspeed", reason="DeepSpeed is not installed here "
                                "(../shared/bench/install-deepspeed.sh DIR, then run pytest with DIR/bin/python)")
torch = pytest.importorskip("torch")

import swift_aio  # noqa: E402
from swift_aio.deepspeed import install  # noqa: E402


def test_install_makes_the_builder_load_swift_aio():
    install()
    from deepspeed.ops.op_builder import AsyncIOBuilder
    assert AsyncIOBuilder().load() is swift_aio
    assert AsyncIOBuilder().is_compatible()
    h = AsyncIOBuilder().load().aio_handle(block_size=1 << 20, queue_depth=8, single_submit=False,
                                           overlap_events=True, intra_op_parallelism=2)
    assert h.get_intra_op_parallelism() == 2


@pytest.mark.parametrize("operation", [[], ["--read"]], ids=["write", "read"])
def test_deepspeeds_own_ds_io_validates_on_swift_aio(folder, operation):
    run = subprocess.run([sys.executable, "-m", "swift_aio.ds_io", "--folder", folder, "--io_size", "16M",
                          "--block_size", "1M", "--queue_depth", "8", "--io_parallel", "2", "--loops", "2",
                          "--validate", *operation],
                         capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Pass: correctness of" in output and "Fail:" not in output, output
    assert "E2E" in output and "Speed" in output, output


def test_fast_file_writer_and_torch_save_load_back_equal(folder):
    install()
    from deepspeed.io import FastFileWriter, FastFileWriterConfig
    from deepspeed.ops.op_builder import AsyncIOBuilder
    h = AsyncIOBuilder().load().aio_handle(1 << 20, 8, False, True, 1)
    pinned = h.new_cpu_locked_tensor(16 << 20, torch.empty(0, dtype=torch.uint8))
    state = {"w": torch.randn(513, 1027), "step": 3}
    path = os.path.join(folder, "fast.pt")
    writer = FastFileWriter(path, FastFileWriterConfig(dnvme_handle=h, pinned_tensor=pinned))
    torch.save(state, writer)
    writer.close()
    back = torch.load(path)
    assert torch.equal(back["w"], state["w"]) and back["step"] == 3
    h.free_cpu_locked_tensor(pinned)
