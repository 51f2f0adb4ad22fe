import AsyncIO

/// A striped handle for the Python package (`swift_aio.striped_handle`): one buffer spread over
/// several folders (one drive each), RAID-0 in user space.

/// A striped handle over `count` folders (`folders`: NUL-separated paths), `stripeSize` bytes per stripe.
@_cdecl("swiftaio_striped_new")
public func swiftaio_striped_new(_ folders: UnsafePointer<CChar>?, _ length: Int64, _ stripeSize: Int64,
                                 _ blockSize: Int64, _ queueDepth: Int64, _ parallelism: Int64,
                                 _ code: UnsafeMutablePointer<Int32>?, _ message: UnsafeMutablePointer<CChar>?,
                                 _ capacity: Int64) -> UnsafeMutableRawPointer? {
    let out = ErrorOut(code: code, message: message, capacity: capacity)
    guard let folders, length > 0 else {
        out.report(code: 22, "a striped handle needs at least one folder")
        return nil
    }
    let bytes = UnsafeRawBufferPointer(start: folders, count: Int(length))
    let paths = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    do {
        let layout = try StripeLayout(folders: paths, stripeSize: Int(stripeSize))
        let handle = try StripedHandle(layout, config: HandleConfig(blockSize: Int(blockSize), queueDepth: Int(queueDepth),
                                                                    intraOpParallelism: Int(parallelism)))
        return Unmanaged.passRetained(handle).toOpaque()
    } catch {
        out.report(error)
        return nil
    }
}

/// Frees a striped handle.
@_cdecl("swiftaio_striped_free")
public func swiftaio_striped_free(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    Unmanaged<StripedHandle>.fromOpaque(pointer).release()
}

/// Writes (`write` 1) `count` bytes at `address` as the striped set `name`, or reads the set into
/// them; blocks until done. The bytes go through page-aligned memory of the library's (a copy), so
/// any address works. Returns the bytes moved.
@_cdecl("swiftaio_striped_transfer")
public func swiftaio_striped_transfer(_ pointer: UnsafeMutableRawPointer, _ write: Int32,
                                      _ address: UnsafeMutableRawPointer?, _ count: Int64, _ name: UnsafePointer<CChar>?,
                                      _ code: UnsafeMutablePointer<Int32>?, _ message: UnsafeMutablePointer<CChar>?,
                                      _ capacity: Int64) -> Int64 {
    let out = ErrorOut(code: code, message: message, capacity: capacity)
    guard count >= 0, address != nil || count == 0 else { return out.report(code: 22, "a buffer of \(count) bytes") }
    let striped = Unmanaged<StripedHandle>.fromOpaque(pointer).takeUnretainedValue()
    let memory = UnsafeMutableRawBufferPointer(start: address, count: Int(count))
    do {
        let staging = try AlignedBuffer(count: Int(count), lock: false)
        if write != 0 {
            staging.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(memory)) }
            return Int64(try striped.submitWrite(from: staging, to: string(name)).wait())
        }
        let moved = try striped.submitRead(into: staging, from: string(name)).wait()
        staging.withUnsafeBytes { memory.copyMemory(from: $0) }
        return Int64(moved)
    } catch {
        return out.report(error)
    }
}
