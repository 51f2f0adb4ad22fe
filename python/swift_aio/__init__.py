"""swift-aio from Python: DeepSpeed's async I/O handle over swift-aio's AsyncIO (io_uring, kernel
AIO or POSIX; no libaio, no op build) and a checkpoint file object.

    import swift_aio
    h = swift_aio.aio_handle(block_size=1 << 20, queue_depth=32, intra_op_parallelism=2)
    h.async_pwrite(tensor, "/mnt/nvme0/t.pt"); h.wait()
    torch.save(state, swift_aio.open("/mnt/nvme0/ckpt.pt", "wb"))
    swift_aio.deepspeed.install()   # DeepSpeed's AsyncIOBuilder().load() returns this module

Every call into the library releases the GIL (ctypes).
"""
import os

from ._file import open  # noqa: A004 - the module's API
from ._handle import aio_handle, striped_handle

__version__ = "0.1.0"
__all__ = ["aio_handle", "aio_read", "aio_write", "deepspeed_memcpy", "open", "striped_handle"]


def _whole(buffer, filename, block_size, queue_depth, single_submit, overlap_events, write):
    handle = aio_handle(block_size, queue_depth, single_submit, overlap_events, 1)
    if not write:
        from ._buffers import memory
        _, nbytes, _ = memory(buffer, writable=True)
        size = os.stat(filename).st_size
        if size != nbytes:
            raise OSError(22, f"read {filename}: the file is {size} bytes and the buffer {nbytes}: DeepSpeed's "
                          "aio_read reads a whole file into a buffer of its size", filename)
    return handle._transfer(write, buffer, filename, 0, parallel=False, is_async=False)


def aio_read(buffer, filename, block_size, queue_depth, single_submit, overlap_events, validate):
    """DeepSpeed's module-level `aio_read`: the whole file into a buffer of its size; returns 0."""
    _whole(buffer, filename, block_size, queue_depth, single_submit, overlap_events, write=False)
    return 0


def aio_write(buffer, filename, block_size, queue_depth, single_submit, overlap_events, validate):
    """DeepSpeed's module-level `aio_write`: the whole buffer to the file; returns 0."""
    _whole(buffer, filename, block_size, queue_depth, single_submit, overlap_events, write=True)
    return 0


def deepspeed_memcpy(dest, src):
    """DeepSpeed's `deepspeed_memcpy`: copies `src` into `dest` (tensors); returns 0."""
    dest.copy_(src)
    return 0


from . import deepspeed  # noqa: E402 - after the API it installs
