import AsyncIO
import Foundation
import Testing

/// io_uring registered buffers and buffer lifetimes: a registration pins the pages of the memory
/// it was given, so it must not outlive the buffer that owned them.
@Suite("io_uring buffer registration",
       .enabled(if: KernelProbe.ioUringWorks, "io_uring is refused here: \(KernelProbe.ioUringRefusal ?? "")"))
struct URingRegistrationTests {
    /// A buffer freed and a new one of the same size allocated: the allocator usually hands out the
    /// same address on fresh pages. The ring used to keep the old registration for that address and
    /// wrote the freed buffer's bytes (found by the ThreadSanitizer run of `LoadTests`, where tasks
    /// sharing a handle read back another round's data).
    @Test("a new buffer at a freed buffer's address is written from its own memory")
    func newBufferAtFreedAddress() throws {
        let dir = ScratchFolder("uring-registration")
        let handle = try AIOHandle(HandleConfig(blockSize: 64 << 10, queueDepth: 8, engine: .uring))
        let size = (1 << 20) + 8192
        for round in 0..<8 {
            let path = dir.file("r\(round)")
            do {
                let first = try randomBuffer(size, seed: UInt64(2 * round + 1))
                try handle.submitWrite(from: first, to: path).wait()
            }
            let second = try randomBuffer(size, seed: UInt64(2 * round + 2))
            try handle.submitWrite(from: second, to: path).wait()
            #expect(plainRead(path) == second.bytes(), "round \(round): the file holds the freed buffer's bytes")
            let sink = try AlignedBuffer(count: size, lock: false)
            try handle.submitRead(into: sink, from: path).wait()
            #expect(sink.bytes() == second.bytes(), "round \(round): the read landed outside the new buffer")
        }
        if !handle.enginePath.contains("registered buffers") {
            print("newBufferAtFreedAddress: buffers were not registered here (\(handle.enginePath));"
                + " the plain path was checked")
        }
    }
}
