import AsyncIO

/// The C entry points of the Python package `swift_aio` (python/): DeepSpeed's `aio_handle` over
/// memory the caller owns (an address and a length: a torch tensor's or numpy array's storage).
/// Every call that can fail takes `code`, `message`, `capacity` (see `ErrorOut`) and returns -1 (or
/// nil) on failure. The handle is an opaque pointer from `swiftaio_handle_new`, freed by
/// `swiftaio_handle_free`; the calls are thread-safe, and the Python side calls them without the GIL.

/// A new handle; `engine` is `auto`, `io_uring`, `aio` or `posix`.
@_cdecl("swiftaio_handle_new")
public func swiftaio_handle_new(_ blockSize: Int64, _ queueDepth: Int64, _ singleSubmit: Int32,
                                _ overlapEvents: Int32, _ parallelism: Int64, _ engine: UnsafePointer<CChar>?,
                                _ direct: Int32, _ code: UnsafeMutablePointer<Int32>?,
                                _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> UnsafeMutableRawPointer? {
    let out = ErrorOut(code: code, message: message, capacity: capacity)
    let name = string(engine)
    guard let kind = EngineKind(rawValue: name.isEmpty ? "auto" : name) else {
        out.report(code: 22, "engine '\(name)' is not one of auto, io_uring, aio, posix")
        return nil
    }
    do {
        let config = HandleConfig(blockSize: Int(blockSize), queueDepth: Int(queueDepth), singleSubmit: singleSubmit != 0,
                                  overlapEvents: overlapEvents != 0, intraOpParallelism: Int(parallelism),
                                  engine: kind, direct: direct != 0)
        let handle = DeepSpeedHandle(try AIOHandle(config))
        return Unmanaged.passRetained(handle).toOpaque()
    } catch {
        out.report(error)
        return nil
    }
}

/// Frees a handle once its operations are done (it waits for any still in flight).
@_cdecl("swiftaio_handle_free")
public func swiftaio_handle_free(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    let ds = Unmanaged<DeepSpeedHandle>.fromOpaque(handle)
    _ = try? ds.takeUnretainedValue().wait()
    ds.release()
}

func handle(_ pointer: UnsafeMutableRawPointer) -> DeepSpeedHandle {
    Unmanaged<DeepSpeedHandle>.fromOpaque(pointer).takeUnretainedValue()
}

/// A knob of the handle: 0 block size, 1 queue depth, 2 single submit, 3 overlap events,
/// 4 intra-op parallelism, 5 alignment (DeepSpeed's `get_alignment`).
@_cdecl("swiftaio_handle_knob")
public func swiftaio_handle_knob(_ pointer: UnsafeMutableRawPointer, _ which: Int32) -> Int64 {
    let ds = handle(pointer)
    switch which {
    case 0: return Int64(ds.getBlockSize())
    case 1: return Int64(ds.getQueueDepth())
    case 2: return ds.getSingleSubmit() ? 1 : 0
    case 3: return ds.getOverlapEvents() ? 1 : 0
    case 4: return Int64(ds.getIntraOpParallelism())
    default: return Int64(ds.getAlignment())
    }
}

/// The engine's path (`io_uring: registered buffers ...`), written into `buffer`; returns its length.
@_cdecl("swiftaio_handle_engine")
public func swiftaio_handle_engine(_ pointer: UnsafeMutableRawPointer, _ buffer: UnsafeMutablePointer<CChar>?,
                                   _ capacity: Int64) -> Int64 {
    let text = handle(pointer).handle.enginePath
    ErrorOut(code: nil, message: buffer, capacity: capacity).report(code: 0, text)
    return Int64(text.utf8.count)
}

/// One transfer of `count` bytes at `address` and the file at `offset`: `write` 0 reads, 1 writes;
/// `parallel` 0 is DeepSpeed's `read`/`write` (one worker), 1 its `pread`/`pwrite`; with `async`
/// it returns 0 at once and `swiftaio_wait` collects it, else it returns 1 once done.
@_cdecl("swiftaio_transfer")
public func swiftaio_transfer(_ pointer: UnsafeMutableRawPointer, _ write: Int32, _ address: UnsafeMutableRawPointer?,
                              _ count: Int64, _ path: UnsafePointer<CChar>?, _ offset: Int64, _ parallel: Int32,
                              _ async: Int32, _ code: UnsafeMutablePointer<Int32>?,
                              _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int64 {
    let out = ErrorOut(code: code, message: message, capacity: capacity)
    guard count >= 0, address != nil || count == 0 else { return out.report(code: 22, "a buffer of \(count) bytes") }
    do {
        let memory = UnsafeMutableRawBufferPointer(start: address, count: Int(count))
        return Int64(try handle(pointer).transfer(write != 0 ? .write : .read, memory: memory, filename: string(path),
                                                  fileOffset: offset, parallel: parallel != 0, async: async != 0))
    } catch {
        return out.report(error)
    }
}

/// Waits for every asynchronous transfer started since the last wait; returns how many there were.
@_cdecl("swiftaio_wait")
public func swiftaio_wait(_ pointer: UnsafeMutableRawPointer, _ code: UnsafeMutablePointer<Int32>?,
                          _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> Int64 {
    do {
        return Int64(try handle(pointer).wait())
    } catch {
        return ErrorOut(code: code, message: message, capacity: capacity).report(error)
    }
}
