"""`swift_aio.open(path, "wb" | "rb")`: a binary file object for checkpoints (`torch.save`,
`torch.load`) that moves its bytes with O_DIRECT through AsyncIO."""
import ctypes
import io
import os
import threading

from . import _lib
from ._buffers import memory

#: Writes smaller than this are gathered before they cross into the library (torch.save writes
#: many small records between its tensors' bytes).
_GATHER = 1 << 20


def _shared_handle(parallelism=2):
    """One handle per process for the file objects (workers and queues are kept between files)."""
    global _handle
    with _handle_guard:
        if _handle is None:
            _handle = _lib.call(_lib.handle_new, 1 << 20, 32, 0, 1, parallelism, b"auto", 1,
                                failed=lambda result: not result)
        return _handle


_handle = None
_handle_guard = threading.Lock()


class _Writer(io.RawIOBase):
    """Streams through page-locked bounce buffers and O_DIRECT; `close()` writes the tail, cuts the
    file to the bytes written, fsyncs (unless `durable=False`) and closes, on every path."""

    def __init__(self, path, buffer_size, durable, expected_size=None):
        super().__init__()
        self.name = os.fspath(path)
        self._durable = durable
        self._small = bytearray()
        self._position = 0
        self._writer = None
        if expected_size is not None and (isinstance(expected_size, bool) or not isinstance(expected_size, int)
                                          or not 0 <= expected_size < 1 << 63):
            raise ValueError(f"swift_aio.open: expected_size must be a byte count (an int >= 0), not {expected_size!r}")
        self._writer = _lib.call(_lib.writer_open, _shared_handle(), _lib.path_bytes(path), buffer_size,
                                 -1 if expected_size is None else expected_size, filename=self.name, failed=lambda result: not result)

    def writable(self):
        return True

    def tell(self):
        return self._position + len(self._small)

    def write(self, data):
        if self._writer is None:
            raise ValueError("I/O operation on closed file.")
        address, nbytes, keep = memory(data, writable=False)
        if nbytes < _GATHER:
            self._small += ctypes.string_at(address, nbytes) if nbytes else b""
            if len(self._small) >= _GATHER:
                self._flush_small()
            return nbytes
        self._flush_small()
        _lib.call(_lib.writer_write, self._writer, address, nbytes, filename=self.name)
        self._position += nbytes
        del keep
        return nbytes

    def _flush_small(self):
        if self._small:
            pending, self._small = self._small, bytearray()
            array = (ctypes.c_char * len(pending)).from_buffer(pending)
            _lib.call(_lib.writer_write, self._writer, ctypes.addressof(array), len(pending), filename=self.name)
            self._position += len(pending)
            del array

    def close(self):
        if self._writer is None:
            return super().close()
        try:
            try:
                self._flush_small()
            finally:
                writer, self._writer = self._writer, None
                _lib.call(_lib.writer_close, writer, int(self._durable), filename=self.name)
        finally:
            super().close()


class _Window:
    """Page-aligned memory that holds the file's bytes [start, end), or will once its read ends."""

    def __init__(self, address):
        self.address = address
        self.start = self.end = 0
        self.pending = False   # a read into it is in flight

    def holds(self, position):
        return self.start <= position < self.end


class _Reader(io.RawIOBase):
    """Reads with O_DIRECT through two windows of page-aligned memory that are reused: while the
    caller copies out of one, the handle's workers read the file's next bytes into the other.
    `read`, `readinto`, `seek` and `tell` serve from them (torch.load seeks to the zip directory at
    the end, then reads the records in order). The reader has a handle of its own, so that waiting
    for its read-ahead never waits for another file's."""

    def __init__(self, path, window=32 << 20):
        super().__init__()
        self.name = os.fspath(path)
        self._size = os.stat(self.name).st_size
        self._position = 0
        self._window = min(window, max(self._size + 4095 - (self._size + 4095) % 4096, 4096))
        self._handle = None
        self._windows = []
        if self._size:
            try:
                self._handle = _lib.call(_lib.handle_new, 1 << 20, 32, 0, 1, 2, b"auto", 1, filename=self.name,
                                         failed=lambda result: not result)
                for _ in range(2):
                    address = _lib.call(_lib.alloc, self._window, 0, 1, filename=self.name,
                                        failed=lambda result: not result)
                    self._windows.append(_Window(address))
            except BaseException:
                self.close()   # what was made so far
                raise

    def _read(self, window, position, wait):
        """Reads the file from `position` (a multiple of 4096) into `window`; in the background
        unless `wait`."""
        count = min(self._window, self._size - position)
        window.start, window.end = position, position + count
        window.pending = not wait
        _lib.call(_lib.transfer, self._handle, 0, window.address, count, _lib.path_bytes(self.name), position,
                  1, 0 if wait else 1, filename=self.name)

    def _settle(self):
        """Waits for the read-ahead in flight, if any."""
        if any(w.pending for w in self._windows):
            for w in self._windows:
                w.pending = False
            _lib.call(_lib.wait, self._handle, filename=self.name)

    def _window_at(self, position):
        """The window holding `position`, read now if neither does; the other one then starts
        reading what follows."""
        found = next((w for w in self._windows if w.holds(position)), None)
        if found is None:
            self._settle()
            found = self._windows[0]
            self._read(found, position - position % 4096, wait=True)
        elif found.pending:
            self._settle()
        other = self._windows[1] if found is self._windows[0] else self._windows[0]
        if found.end < self._size and not other.holds(found.end):
            self._settle()
            self._read(other, found.end, wait=False)
        return found

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(22, f"negative seek position {base + offset}", self.name)
        self._position = base + offset
        return self._position

    def readinto(self, target):
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        view = memoryview(target).cast("B")
        wanted = max(0, min(len(view), self._size - self._position))
        done = 0
        while done < wanted:
            window = self._window_at(self._position)
            n = min(wanted - done, window.end - self._position)
            destination = (ctypes.c_char * n).from_buffer(view[done:done + n])
            ctypes.memmove(destination, window.address + (self._position - window.start), n)
            del destination
            self._position += n
            done += n
        return done

    def readall(self):
        data = bytearray(max(0, self._size - self._position))
        n = self.readinto(data)
        return bytes(data[:n])

    def close(self):
        windows, self._windows = self._windows, []
        handle, self._handle = self._handle, None
        if handle:
            if any(w.pending for w in windows):
                try:
                    _lib.call(_lib.wait, handle, filename=self.name)
                except OSError:
                    pass   # a read ahead that nobody asked for: its error concerns no one
            _lib.handle_free(handle)
        for w in windows:
            _lib.free(w.address)
        super().close()


def open(path, mode="rb", *, buffer_size=64 << 20, durable=True, expected_size=None):  # noqa: A001 - the module's API
    """A binary file object: `"wb"` streams through AsyncIO (the file is replaced), `"rb"` reads
    through two reused 32 MiB windows, one read ahead while the other is copied out.
    `torch.save(state, swift_aio.open(p, "wb"))` and `torch.load(swift_aio.open(p, "rb"))` work
    unchanged; use `with` (or `close()`) so the tail is written and fsynced.
    `expected_size` ("wb"), when the caller knows about how many bytes it will write, reserves the
    file's blocks at once instead of in growing steps: the file still ends at the bytes written."""
    if expected_size is not None and mode not in ("wb", "bw"):
        raise ValueError(f"swift_aio.open: expected_size is for mode 'wb', not {mode!r}")
    if mode in ("wb", "bw"):
        return _Writer(path, buffer_size, durable, expected_size)
    if mode in ("rb", "br", "r"):
        return _Reader(path)
    raise ValueError(f"swift_aio.open: mode {mode!r} is not 'wb' or 'rb'")
