"""`aio_handle`: DeepSpeed 0.19.8's async I/O handle, method for method, over AsyncIO."""
import ctypes
import os
import threading

from . import _lib
from ._buffers import memory

_locked = {}  # address -> ctypes array of a new_cpu_locked_tensor, kept alive until freed
_locked_guard = threading.Lock()


def _target(filename):
    """A path for a file name, or for an open descriptor (DeepSpeed's `async_pwrite(buffer, fd)`)."""
    if isinstance(filename, int):
        return os.readlink(f"/proc/self/fd/{filename}")
    return filename


class aio_handle:
    """DeepSpeed's `aio_handle(block_size, queue_depth, single_submit, overlap_events,
    intra_op_parallelism)`, with swift-aio's engine (`engine`, default `$SWIFT_AIO_ENGINE` or `auto`:
    io_uring, then kernel AIO, then POSIX; `aio` is DeepSpeed's own path) and `direct=False` for the
    page cache. Where DeepSpeed returns -1 or aborts the process, these raise OSError (errno, the
    message, the file name); a file shorter than the buffer is an error (ENODATA), never a short read."""

    def __init__(self, block_size=1048576, queue_depth=128, single_submit=False, overlap_events=False,
                 intra_op_parallelism=1, engine=None, direct=True):
        # SWIFT_AIO_ENGINE picks the engine of handles made by code that cannot pass it (DeepSpeed's).
        engine = engine or os.environ.get("SWIFT_AIO_ENGINE", "auto")
        self._handle = _lib.call(_lib.handle_new, int(block_size), int(queue_depth), int(bool(single_submit)),
                                 int(bool(overlap_events)), int(intra_op_parallelism), engine.encode(),
                                 int(bool(direct)), failed=lambda result: not result)
        self._pending = []  # buffers of asynchronous operations, alive until wait()
        self._guard = threading.Lock()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _lib.handle_free(handle)

    # Getters -------------------------------------------------------------------------------
    def get_block_size(self):
        return _lib.handle_knob(self._handle, 0)

    def get_queue_depth(self):
        return _lib.handle_knob(self._handle, 1)

    def get_single_submit(self):
        return bool(_lib.handle_knob(self._handle, 2))

    def get_overlap_events(self):
        return bool(_lib.handle_knob(self._handle, 3))

    def get_intra_op_parallelism(self):
        return _lib.handle_knob(self._handle, 4)

    def get_alignment(self):
        return _lib.handle_knob(self._handle, 5)

    def engine_path(self):
        """swift-aio's addition: the engine and how it submits (`io_uring: registered buffers ...`)."""
        text = ctypes.create_string_buffer(512)
        _lib.handle_engine(self._handle, text, len(text))
        return text.value.decode()

    # Transfers -----------------------------------------------------------------------------
    def _transfer(self, write, buffer, filename, file_offset, parallel, is_async, validate=False):
        path = _target(filename)
        address, nbytes, keep = memory(buffer, writable=not write)
        if write:
            _warn_once()
        result = _lib.call(_lib.transfer, self._handle, int(write), address, nbytes, _lib.path_bytes(path),
                           int(file_offset), int(parallel), int(is_async), filename=path)
        if is_async:
            with self._guard:
                self._pending.append((keep, validate, write, path, file_offset))
        elif validate:
            _validate(keep, write, path, file_offset)
        return result

    def read(self, buffer, filename, validate, file_offset=0):
        self._transfer(False, buffer, filename, file_offset, parallel=False, is_async=False, validate=validate)
        return 0

    def write(self, buffer, filename, validate, file_offset=0):
        self._transfer(True, buffer, filename, file_offset, parallel=False, is_async=False, validate=validate)
        return 0

    def pread(self, buffer, filename, validate, async_op=False, file_offset=0, **kwargs):
        is_async = kwargs.pop("async", async_op)
        return self._transfer(False, buffer, filename, file_offset, True, is_async, validate)

    def pwrite(self, buffer, filename, validate, async_op=False, file_offset=0, **kwargs):
        is_async = kwargs.pop("async", async_op)
        return self._transfer(True, buffer, filename, file_offset, True, is_async, validate)

    def sync_pread(self, buffer, filename, file_offset=0):
        return self._transfer(False, buffer, filename, file_offset, True, False)

    def sync_pwrite(self, buffer, filename, file_offset=0):
        return self._transfer(True, buffer, filename, file_offset, True, False)

    def async_pread(self, buffer, filename, file_offset=0):
        return self._transfer(False, buffer, filename, file_offset, True, True)

    def async_pwrite(self, buffer, filename, file_offset=0):
        return self._transfer(True, buffer, filename, file_offset, True, True)

    def wait(self):
        """Waits for every asynchronous operation since the last wait; returns how many there were
        (0 when none: DeepSpeed's aborts the process there). Raises the first error, after all are done."""
        try:
            return _lib.call(_lib.wait, self._handle)
        finally:
            with self._guard:
                done, self._pending = self._pending, []
            for keep, validate, write, path, offset in done:
                if validate:
                    _validate(keep, write, path, offset)

    # Page-locked memory ----------------------------------------------------------------------
    def new_cpu_locked_tensor(self, num_elem, example_tensor):
        import torch
        nbytes = int(num_elem) * example_tensor.element_size()
        # Huge pages unless SWIFT_AIO_HUGE_PAGES=0 (4 KiB pages, as DeepSpeed's own pinned tensors).
        huge = int(os.environ.get("SWIFT_AIO_HUGE_PAGES", "1") != "0")
        address = _lib.call(_lib.alloc, max(nbytes, 1), 1, huge, failed=lambda result: not result)
        array = (ctypes.c_uint8 * max(nbytes, 1)).from_address(address)
        with _locked_guard:
            _locked[address] = array
        return torch.frombuffer(array, dtype=torch.uint8)[:nbytes].view(example_tensor.dtype)

    def free_cpu_locked_tensor(self, tensor):
        address = tensor.data_ptr()
        with _locked_guard:
            if address not in _locked:
                return False
            del _locked[address]
        return bool(_lib.free(address))

    def is_pinned(self, buffer):
        if hasattr(buffer, "is_pinned") and buffer.is_pinned():
            return True
        address, nbytes, _ = memory(buffer, writable=False)
        return bool(_lib.is_locked(address, nbytes))


def _validate(keep, write, path, offset):
    """DeepSpeed's `validate`: the range read again with ordinary I/O equals the buffer (prints its line)."""
    address, nbytes, _ = memory(keep if not isinstance(keep, tuple) else keep[0], writable=False)
    with open(path, "rb") as f:
        f.seek(offset)
        on_disk = f.read(nbytes)
    ok = on_disk == ctypes.string_at(address, nbytes)
    name = "deepspeed_aio_write()" if write else "deepspeed_aio_read()"
    print(f"{'Pass' if ok else 'Fail'}: correctness of  {name}using read()")


_warned = []


def _warn_once():
    """DeepSpeed warns once per process that NVMe offload writes a lot; so does its drop-in."""
    if not _warned:
        _warned.append(True)
        try:
            from deepspeed.utils import logger
            logger.warning("Offloading to NVMe can generate heavy write traffic. Consumer SSDs may wear out faster.")
        except Exception:  # DeepSpeed not installed: nothing to say it through
            pass


class striped_handle:
    """One buffer striped over several folders (one drive each), RAID-0 in user space: member `i` of
    set `name` is a file in folder `i`, holding every `len(folders)`-th stripe of `stripe_size` bytes.
    `write(buffer, name)` replaces the set, `read(buffer, name)` checks every member first."""

    def __init__(self, folders, stripe_size=1 << 20, block_size=1048576, queue_depth=32, intra_op_parallelism=1):
        joined = b"\0".join(_lib.path_bytes(f) for f in folders)
        self._handle = _lib.call(_lib.striped_new, joined, len(joined), int(stripe_size), int(block_size),
                                 int(queue_depth), int(intra_op_parallelism), failed=lambda result: not result)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _lib.striped_free(handle)

    def write(self, buffer, name):
        """Writes the buffer as the set `name`; returns the bytes written."""
        address, nbytes, keep = memory(buffer, writable=False)
        return _lib.call(_lib.striped_transfer, self._handle, 1, address, nbytes, name.encode(), filename=name)

    def read(self, buffer, name):
        """Fills the buffer from the set `name`; returns the bytes read."""
        address, nbytes, keep = memory(buffer, writable=True)
        return _lib.call(_lib.striped_transfer, self._handle, 0, address, nbytes, name.encode(), filename=name)
