"""The address and length of the memory behind a torch tensor, a numpy array or any object that
exports the buffer protocol; the object returned with them keeps that memory alive."""
import ctypes


def memory(buffer, writable):
    """(address, nbytes, keepalive) of `buffer`'s bytes; `writable` when the call fills them."""
    if hasattr(buffer, "data_ptr") and hasattr(buffer, "element_size"):  # torch.Tensor
        if buffer.device.type != "cpu":
            raise ValueError(f"swift_aio: a {buffer.device.type} tensor: only CPU tensors (pinned or not) are supported")
        if not buffer.is_contiguous():
            raise ValueError("swift_aio: the tensor is not contiguous: pass tensor.contiguous() (a copy) or a "
                             "contiguous view")
        return buffer.data_ptr(), buffer.numel() * buffer.element_size(), buffer
    if hasattr(buffer, "__array_interface__") and hasattr(buffer, "flags"):  # numpy.ndarray
        if not buffer.flags["C_CONTIGUOUS"]:
            raise ValueError("swift_aio: the array is not C-contiguous: pass numpy.ascontiguousarray(array)")
        address, readonly = buffer.__array_interface__["data"]
        if writable and readonly:
            raise ValueError("swift_aio: the array is read-only and a read would fill it")
        return address or 0, buffer.nbytes, buffer
    view = memoryview(buffer)
    if not view.contiguous:
        raise ValueError("swift_aio: the buffer is not contiguous")
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if view.nbytes == 0:
        return 0, 0, view
    if view.readonly:
        if writable:
            raise TypeError("swift_aio: the buffer is read-only and a read would fill it")
        if isinstance(view.obj, bytes) and len(view.obj) == view.nbytes:
            pointer = ctypes.c_char_p(view.obj)
            return ctypes.cast(pointer, ctypes.c_void_p).value, view.nbytes, (view, pointer)
        copy = bytearray(view)  # a read-only buffer ctypes cannot address: written from a copy
        array = (ctypes.c_char * len(copy)).from_buffer(copy)
        return ctypes.addressof(array), len(copy), (copy, array)
    array = (ctypes.c_char * view.nbytes).from_buffer(view)
    return ctypes.addressof(array), view.nbytes, (view, array)
