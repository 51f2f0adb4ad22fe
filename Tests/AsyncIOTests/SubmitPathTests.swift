import Dispatch
import Glibc
import Testing
@testable @_spi(Testing) import AsyncIO

/// Engines whose submit calls the kernel plugs (and so merges): io_uring and kernel AIO, where they work.
let pluggedEngines: [EngineKind] = realEngines.filter { $0 == .uring || $0 == .aio }

/// How requests reach the kernel: `RequestMerging` sets how many one submit call carries, and a
/// worker waiting for completions is woken when work is queued for it.
@Suite("Submit path: request merging and wake-ups")
struct SubmitPathTests {
    /// The submit calls (requests in each) of an 8 MiB write at queue depth 16.
    static func submitSizes(_ engine: EngineKind, block: Int, merging: RequestMerging, single: Bool = false) throws -> [Int] {
        let recorder = QueueRecorder()
        var options = EngineOptions(requestMerging: merging)
        options.recorder = recorder
        let handle = try AIOHandle(HandleConfig(blockSize: block, queueDepth: 16, singleSubmit: single,
                                                engine: engine, engineOptions: options))
        let dir = ScratchFolder("merging")
        let buffer = try randomBuffer(8 << 20, seed: UInt64(block))
        try handle.submitWrite(from: buffer, to: dir.file("m")).wait()
        let back = try AlignedBuffer(count: buffer.count, lock: false)
        try handle.submitRead(into: back, from: dir.file("m")).wait()
        #expect(firstDifference(back, buffer) == nil)
        return recorder.logs.flatMap(\.submitSizes)
    }

    @Test("avoided: no submit call carries more than 2 requests; allowed: the queue goes in one call",
          .enabled(if: !pluggedEngines.isEmpty, "neither io_uring nor kernel AIO works here"),
          arguments: pluggedEngines)
    func policies(engine: EngineKind) throws {
        let avoided = try Self.submitSizes(engine, block: 256 << 10, merging: .avoided)
        #expect(avoided.max() == 2, "calls \(avoided)")
        let allowed = try Self.submitSizes(engine, block: 256 << 10, merging: .allowed)
        #expect(allowed.max() == 16, "calls \(allowed)")
        let single = try Self.submitSizes(engine, block: 256 << 10, merging: .allowed, single: true)
        #expect(single.max() == 1, "calls \(single)")
    }

    @Test("auto keeps requests of 128 KiB and more whole and lets smaller ones merge",
          .enabled(if: !pluggedEngines.isEmpty, "neither io_uring nor kernel AIO works here"),
          arguments: pluggedEngines)
    func auto(engine: EngineKind) throws {
        #expect(RequestMerging.auto.keepsWhole(blockSize: RequestMerging.autoWholeFrom))
        #expect(!RequestMerging.auto.keepsWhole(blockSize: RequestMerging.autoWholeFrom - 4096))
        let large = try Self.submitSizes(engine, block: 128 << 10, merging: .auto)
        #expect(large.max() == 2, "calls \(large)")
        let small = try Self.submitSizes(engine, block: 64 << 10, merging: .auto)
        #expect(small.max() == 16, "calls \(small)")
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 20, engine: engine))
        #expect(handle.enginePath.contains("submit calls of at most 2 requests"))
    }

    @Test("a worker blocked on a request that never completes is woken by new work",
          .enabled(if: KernelProbe.ioUringWorks, "io_uring is refused here: \(KernelProbe.ioUringRefusal ?? "")"))
    func wakeup() throws {
        let queue = try #require(try makeQueue(kind: .uring, depth: 4, options: EngineOptions()) as? URingQueue)
        let wakeup = try #require(queue.wakeup)
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let buffer = try AlignedBuffer(count: 4096, lock: false)
        // A read of an empty pipe: it stays in flight until something is written.
        let request = IORequest(operation: .read, fd: fds[0], address: buffer.base, length: 4096, offset: 0, tag: 0)
        let accepted = try [request].withUnsafeBufferPointer { try queue.submit($0, path: "pipe") }
        try #require(accepted == 1)
        // Another thread wakes the worker; if the reap is still blocked 20 s later, it writes the pipe
        // so that the test ends. Without the wake-up the reap below would return only once the read
        // completed, with 1 completion instead of 0.
        let writeFD = fds[1]
        let reaped = DispatchSemaphore(value: 0)
        let helper = try OSThread(name: "waker") {
            SubmitPathTests.wakeWhenWaiting(wakeup)
            if reaped.wait(timeout: .now() + 20) == .timedOut {
                var byte: UInt8 = 1
                _ = write(writeFD, &byte, 1)
            }
        }
        var out: [IOCompletion] = []
        try queue.reap(minimum: 1, into: &out, path: "pipe")
        reaped.signal()
        #expect(out.isEmpty, "the reap returned with \(out.count) completion(s) instead of being woken")
        // Complete the read before the ring goes away.
        var byte: UInt8 = 2
        _ = write(fds[1], &byte, 1)
        while out.isEmpty { try queue.reap(minimum: 1, into: &out, path: "pipe") }
        #expect((out.first?.result ?? 0) >= 1)
        helper.join()
    }

    /// Calls `wake()` once the worker is about to block or blocked (at most 20 s later), so that the
    /// poll, not the check before blocking, is what ends its wait.
    static func wakeWhenWaiting(_ wakeup: QueueWakeup) {
        var waited = 0
        while !wakeup.isWaiting, waited < 20_000 {
            usleep(1000)
            waited += 1
        }
        wakeup.wake()
    }

    @Test("kernel AIO: a worker blocked in io_getevents with nothing in flight is woken by new work",
          .enabled(if: realEngines.contains(.aio), "kernel AIO is refused here"))
    func kernelAIOWakeup() throws {
        let queue = try #require(try makeQueue(kind: .aio, depth: 4, options: EngineOptions()) as? KernelAIOQueue)
        let wakeup = try #require(queue.wakeup)
        // A file for the helper to read should the wake-up fail: that read's completion (buffered, so
        // done inside io_submit) then ends the wait, 20 s late, with 1 completion instead of 0.
        let dir = ScratchFolder("aiowake")
        let path = dir.file("f")
        let data = try randomBuffer(4096, seed: 7)
        try AIOHandle(HandleConfig(blockSize: 4096, engine: .posix)).submitWrite(from: data, to: path).wait()
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let buffer = try AlignedBuffer(count: 4096, lock: false)
        // Touched by the helper only when the wake-up failed (the queue is then idle in the wait).
        nonisolated(unsafe) let fallback = (queue: queue, address: buffer.base)
        let reaped = DispatchSemaphore(value: 0)
        let helper = try OSThread(name: "waker") {
            SubmitPathTests.wakeWhenWaiting(wakeup)
            if reaped.wait(timeout: .now() + 20) == .timedOut {
                let request = IORequest(operation: .read, fd: fd, address: fallback.address, length: 4096, offset: 0,
                                        tag: 0)
                _ = try? [request].withUnsafeBufferPointer { try fallback.queue.submit($0, path: path) }
            }
        }
        var out: [IOCompletion] = []
        try queue.reap(minimum: 1, into: &out, path: path)
        reaped.signal()
        helper.join()
        #expect(out.isEmpty, "the reap returned with \(out.count) completion(s) instead of being woken")
        #expect(queue.pollWakeups == 1, "the wait ended without the poll")
        // The queue still works after a wake-up: a real read, reaped.
        let request = IORequest(operation: .read, fd: fd, address: buffer.base, length: 4096, offset: 0, tag: 1)
        let accepted = try [request].withUnsafeBufferPointer { try queue.submit($0, path: path) }
        try #require(accepted == 1)
        out = []
        while out.isEmpty { try queue.reap(minimum: 1, into: &out, path: path) }
        #expect(out.map(\.result) == [4096])
        #expect(firstDifference(buffer, data) == nil)
    }
}
