"""Loads libswiftaio.so with ctypes (which releases the GIL for every call) and turns its errors
into OSError (errno, the library's one-line message, the file name)."""
import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_PATH = os.environ.get("SWIFT_AIO_LIB") or os.path.join(_HERE, "libswiftaio.so")

try:
    lib = ctypes.CDLL(_PATH)
except OSError as error:  # pragma: no cover - a broken install
    raise ImportError(f"swift_aio: cannot load {_PATH}: {error}") from error

_p, _i64, _i32, _s = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_char_p
_err = [ctypes.POINTER(ctypes.c_int32), ctypes.c_char_p, ctypes.c_int64]


def _sig(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


handle_new = _sig("swiftaio_handle_new", _p, _i64, _i64, _i32, _i32, _i64, _s, _i32, *_err)
handle_free = _sig("swiftaio_handle_free", None, _p)
handle_knob = _sig("swiftaio_handle_knob", _i64, _p, _i32)
handle_engine = _sig("swiftaio_handle_engine", _i64, _p, _s, _i64)
transfer = _sig("swiftaio_transfer", _i64, _p, _i32, _p, _i64, _s, _i64, _i32, _i32, *_err)
wait = _sig("swiftaio_wait", _i64, _p, *_err)
alloc = _sig("swiftaio_alloc", _p, _i64, _i32, _i32, *_err)
free = _sig("swiftaio_free", _i32, _p)
is_locked = _sig("swiftaio_is_locked", _i32, _p, _i64)
striped_new = _sig("swiftaio_striped_new", _p, _s, _i64, _i64, _i64, _i64, _i64, *_err)
striped_free = _sig("swiftaio_striped_free", None, _p)
striped_transfer = _sig("swiftaio_striped_transfer", _i64, _p, _i32, _p, _i64, _s, *_err)
writer_open = _sig("swiftaio_writer_open", _p, _p, _s, _i64, _i64, *_err)
writer_write = _sig("swiftaio_writer_write", _i64, _p, _p, _i64, *_err)
writer_close = _sig("swiftaio_writer_close", _i64, _p, _i32, *_err)


def call(fn, *args, filename=None, failed=lambda result: result == -1):
    """Calls `fn(*args, code, message, capacity)`; raises OSError when `failed(result)`."""
    code = ctypes.c_int32(0)
    message = ctypes.create_string_buffer(1024)
    result = fn(*args, ctypes.byref(code), message, len(message))
    if failed(result):
        text = message.value.decode("utf-8", "replace")
        if filename is None:
            raise OSError(code.value, text)
        raise OSError(code.value, text, os.fsdecode(filename))
    return result


def path_bytes(path):
    """A path (str, bytes or os.PathLike) as the bytes the C side takes."""
    return os.fsencode(os.fspath(path))
