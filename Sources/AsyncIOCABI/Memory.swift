import AsyncIO
import Synchronization

/// Page-aligned memory for the Python side (DeepSpeed's `new_cpu_locked_tensor`, the whole-file
/// buffer of `swift_aio.open(path, "rb")`), kept alive here by address until freed.
enum MemoryRegistry {
    static let buffers = Mutex<[UInt: AlignedBuffer]>([:])
}

/// `count` bytes of page-aligned memory, page-locked when `lock` is 1 and the memlock limit allows
/// (`swiftaio_is_locked` says), on huge pages when `huge` is 1 and the buffer is 2 MiB or more (a
/// request then reaches the device in fewer segments); zeroed. Returns its address, or nil with the error.
@_cdecl("swiftaio_alloc")
public func swiftaio_alloc(_ count: Int64, _ lock: Int32, _ huge: Int32, _ code: UnsafeMutablePointer<Int32>?,
                           _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> UnsafeMutableRawPointer? {
    do {
        let buffer = try AlignedBuffer(count: Int(count), lock: lock != 0, hugePages: huge != 0)
        let address = buffer.withUnsafeMutableBytes { $0.baseAddress! }
        MemoryRegistry.buffers.withLock { $0[UInt(bitPattern: address)] = buffer }
        return address
    } catch {
        ErrorOut(code: code, message: message, capacity: capacity).report(error)
        return nil
    }
}

/// Frees what `swiftaio_alloc` gave; returns 1, or 0 when `address` is not the start of such memory.
@_cdecl("swiftaio_free")
public func swiftaio_free(_ address: UnsafeMutableRawPointer?) -> Int32 {
    let key = UInt(bitPattern: address)
    return MemoryRegistry.buffers.withLock { $0.removeValue(forKey: key) } == nil ? 0 : 1
}

/// 1 when `[address, address + count)` lies inside one page-locked allocation of `swiftaio_alloc`
/// (views and slices of it count, as DeepSpeed's `is_pinned` says of its own).
@_cdecl("swiftaio_is_locked")
public func swiftaio_is_locked(_ address: UnsafeMutableRawPointer?, _ count: Int64) -> Int32 {
    let start = UInt(bitPattern: address)
    return MemoryRegistry.buffers.withLock { buffers in
        buffers.contains { base, buffer in
            buffer.isLocked && start >= base && start + UInt(max(count, 0)) <= base + UInt(buffer.count)
        }
    } ? 1 : 0
}
