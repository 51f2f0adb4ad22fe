@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// io_uring-specific paths: ring wrap-around, a ring smaller than the queue depth, registration
/// fallback, SQPOLL. Skipped, with the kernel's reason, where the kernel refuses io_uring.
@Suite("io_uring engine",
       .enabled(if: KernelProbe.ioUringWorks, "io_uring is refused here: \(KernelProbe.ioUringRefusal ?? "")"))
struct URingTests {
    func roundTrip(_ config: HandleConfig, size: Int, seed: UInt64) throws -> AIOHandle {
        let dir = ScratchFolder("uring")
        let handle = try AIOHandle(config)
        #expect(handle.engine == .uring)
        let source = try randomBuffer(size, seed: seed)
        try handle.submitWrite(from: source, to: dir.file("u")).wait()
        #expect(plainRead(dir.file("u")) == source.bytes())
        let sink = try AlignedBuffer(count: size, lock: false)
        try handle.submitRead(into: sink, from: dir.file("u")).wait()
        #expect(sink.bytes() == source.bytes())
        return handle
    }

    @Test("the ring wraps around many times: 1,024 requests through 4 entries")
    func wrapAround() throws {
        for overlap in [true, false] {
            for single in [true, false] {
                _ = try roundTrip(HandleConfig(blockSize: 4096, queueDepth: 4, singleSubmit: single,
                                               overlapEvents: overlap, engine: .uring),
                                  size: 4 << 20, seed: 21)
            }
        }
    }

    @Test("a queue depth larger than the ring caps requests in flight and still moves every byte")
    func depthLargerThanRing() throws {
        let options = EngineOptions.ring(entries: 8)
        let handle = try roundTrip(HandleConfig(blockSize: 4096, queueDepth: 64, intraOpParallelism: 2,
                                                engine: .uring, engineOptions: options),
                                   size: (3 << 20) + 4097, seed: 22)
        #expect(handle.enginePath.contains("in flight capped at 16 of queue depth 64"))
    }

    @Test("buffer registration that fails falls back to plain READ/WRITE and says so")
    func registrationFallback() throws {
        let failing = try roundTrip(
            HandleConfig(blockSize: 65536, queueDepth: 8, engine: .uring,
                         engineOptions: .failingRegistration),
            size: 1 << 20, seed: 23)
        #expect(failing.enginePath.contains("plain READ/WRITE (buffer registration failed"))
        let registered = try roundTrip(HandleConfig(blockSize: 65536, queueDepth: 8, engine: .uring),
                                       size: 1 << 20, seed: 24)
        #expect(registered.enginePath.contains("registered buffers"))
        let off = try roundTrip(
            HandleConfig(blockSize: 65536, queueDepth: 8, engine: .uring,
                         engineOptions: EngineOptions(uring: URingOptions(registerResources: false))),
            size: 1 << 20, seed: 25)
        #expect(off.enginePath.contains("registration off"))
    }

    @Test("registered files work too")
    func registeredFiles() throws {
        let handle = try roundTrip(
            HandleConfig(blockSize: 65536, queueDepth: 8, intraOpParallelism: 3, engine: .uring,
                         engineOptions: EngineOptions(uring: URingOptions(registerFiles: true))),
            size: (1 << 20) + 333, seed: 26)
        #expect(handle.enginePath.contains("registered files"))
    }

    @Test("SQPOLL: a kernel thread consumes the submissions")
    func sqpoll() throws {
        let handle = try roundTrip(
            HandleConfig(blockSize: 65536, queueDepth: 16, intraOpParallelism: 2, engine: .uring,
                         engineOptions: EngineOptions(uring: URingOptions(sqpoll: true))),
            size: 2 << 20, seed: 27)
        // Unprivileged kernels may refuse SQPOLL; the ring then runs without it and says nothing of it.
        if geteuid() == 0 { #expect(handle.enginePath.contains("SQPOLL")) }
    }
}
