"""Makes DeepSpeed's async I/O op this package: `install()` patches DeepSpeed's `AsyncIOBuilder` so
that `AsyncIOBuilder().load()` returns `swift_aio` (DeepSpeed has no plugin hook for ops). ZeRO-Infinity's
swappers, `deepspeed.io.FastFileWriter` and `ds_io` then run on AsyncIO, with no libaio and no op build.

Call it before DeepSpeed builds its engine (first thing in the training script). Processes that
DeepSpeed spawns import the main script again, so calling it at the top level of that script covers
them too (`python -m swift_aio.ds_io` does this for ds_io).
"""
import sys

_installed = []


def _builder_classes():
    classes = []
    for module, name in (("deepspeed.ops.op_builder", "AsyncIOBuilder"),
                         ("deepspeed.ops.op_builder.async_io", "AsyncIOBuilder"),
                         ("deepspeed.ops.op_builder.cpu.async_io", "AsyncIOBuilder")):
        try:
            __import__(module)
            cls = getattr(sys.modules[module], name)
        except (ImportError, AttributeError):
            continue
        if cls not in classes:
            classes.append(cls)
    return classes


def install():
    """Patches every AsyncIOBuilder class DeepSpeed has here; returns their names. Idempotent."""
    import swift_aio
    classes = _builder_classes()
    if not classes:
        raise ImportError("swift_aio.deepspeed.install: DeepSpeed (deepspeed.ops.op_builder) is not importable")
    for cls in classes:
        if getattr(cls, "_swift_aio_patched", False):
            continue
        original_load, original_compatible = cls.load, cls.is_compatible

        def load(self, verbose=True, _original=original_load):
            # GDSBuilder derives from the CUDA AsyncIOBuilder: only the async_io op is replaced.
            if getattr(self, "NAME", "") == "async_io":
                return swift_aio
            return _original(self, verbose)

        def is_compatible(self, verbose=False, _original=original_compatible):
            if getattr(self, "NAME", "") == "async_io":
                return True
            return _original(self, verbose)

        cls.load, cls.is_compatible, cls._swift_aio_patched = load, is_compatible, True
        _installed.append(f"{cls.__module__}.{cls.__name__}")
    _stand_in_for_utils()
    return list(_installed)


def cast_to_byte_tensor(tensors):
    """DeepSpeed's utils op `cast_to_byte_tensor`: a uint8 view of each tensor's bytes (no copy)."""
    import torch
    if isinstance(tensors, (list, tuple)):
        return [cast_to_byte_tensor(t) for t in tensors]
    if tensors.nbytes <= 1:
        return tensors
    return torch.empty(0, dtype=torch.uint8, device=tensors.device).set_(
        tensors.untyped_storage(), tensors.storage_offset() * tensors.element_size(), (tensors.nbytes,), (1,))


class _UtilsStandIn:
    """What `FastFileWriter` needs of DeepSpeed's utils op where this machine's accelerator has none
    (DeepSpeed's CPU accelerator: "This op had not been implemented on CPU backend")."""

    def load(self, verbose=True):
        return sys.modules[__name__]


def _stand_in_for_utils():
    try:
        import deepspeed.io.fast_file_writer as writer
    except ImportError:
        return
    try:
        writer.UtilsBuilder().load()
    except Exception:  # not built and not buildable here: the Python stand-in does the one cast it needs
        writer.UtilsBuilder = _UtilsStandIn
        _installed.append("deepspeed.io.fast_file_writer.UtilsBuilder (cast_to_byte_tensor in Python)")
