@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Task cancellation in the middle of a read or a write: the operation stops submitting, the
/// kernel is done with the buffer before the error comes back, nothing leaks, and the file holds
/// only whole requests of old or new data.
@Suite("Cancellation mid-operation", .serialized)
struct CancellationTests {
    /// Large enough that thousands of requests are still to go when the cancellation arrives.
    static let size = 128 << 20
    static let block = 4096

    /// A handle of small requests (thousands per operation) that records every request.
    static func handle(_ engine: EngineKind) throws -> (AIOHandle, QueueRecorder) {
        let recorder = QueueRecorder()
        var options = EngineOptions()
        options.recorder = recorder
        let handle = try AIOHandle(HandleConfig(blockSize: block, queueDepth: 2, intraOpParallelism: 2,
                                                engine: engine, engineOptions: options))
        return (handle, recorder)
    }

    static func requests(_ recorder: QueueRecorder) -> Int { recorder.requestCount }

    /// Calls `cancel` once `count` more requests than `start` reached the queues, and returns how many
    /// had then. The recorder's gate closes at that count, so no queue submits more until `cancel` has
    /// run: however late the test's own thread gets the CPU with every suite running, the operation
    /// cannot finish first.
    static func cancel(after count: Int, beyond start: Int, _ recorder: QueueRecorder,
                       _ cancel: @escaping @Sendable () -> Void) -> CancelPoint {
        let point = CancelPoint()
        recorder.closeGate(afterRequests: start + count)
        let thread = Thread {
            // An operation of fewer requests never closes the gate: cancel anyway after the timeout.
            _ = recorder.waitUntilClosed(timeout: 60)
            cancel()
            point.requests = requests(recorder) - start
            recorder.openGate()
            point.done.signal()
        }
        thread.start()
        return point
    }

    /// How many requests had reached the queues when `cancel(after:...)` cancelled.
    final class CancelPoint: @unchecked Sendable {
        // @unchecked: `requests` is written before `done` is signalled and read after waiting for it.
        var requests = 0
        let done = DispatchSemaphore(value: 0)
        func wait() -> Int {
            done.wait()
            return requests
        }
    }

    /// Requests a worker may still submit after the cancellation: what it was flushing.
    static let afterCancelSlack = 16

    /// Descriptors of this process open on files under `folder`.
    static func descriptors(in folder: String) -> Int {
        SystemInfo.openDescriptorTargets().filter { $0.hasPrefix(folder) }.count
    }

    @Test("a write cancelled mid-way throws .cancelled, stops early, leaks nothing; old data outside intact",
          arguments: realEngines)
    func midWrite(engine: EngineKind) async throws {
        let dir = ScratchFolder("cancel-w")
        let path = dir.file("w")
        let (handle, recorder) = try Self.handle(engine)
        let old = try randomBuffer(Self.size, seed: 31)
        let bulk = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 8, engine: engine))
        try bulk.submitWrite(from: old, to: path, truncate: true).wait()
        let new = try randomBuffer(Self.size, seed: 32)
        let start = Self.requests(recorder)
        let task = Task { try await handle.write(from: new, to: path) }
        let point = Self.cancel(after: 64, beyond: start, recorder) { task.cancel() }
        let result = await task.result
        let atCancel = point.wait()
        let submitted = Self.requests(recorder) - start
        guard case .failure(let error) = result else {
            Issue.record("the write finished before the cancellation reached it (\(submitted) requests)")
            return
        }
        #expect((error as? AsyncIOError)?.kind == .cancelled, "\(error)")
        #expect(submitted <= atCancel + Self.afterCancelSlack, "stopped submitting: \(submitted) after \(atCancel)")
        #expect(submitted < Self.size / Self.block)
        #expect(!new.isLent, "the buffer's loan ended before the error came back")
        #expect(Self.descriptors(in: dir.path) == 0)

        // Every block holds the old or the new bytes, never a mix or garbage; no more new blocks
        // than requests were submitted.
        let back = try AlignedBuffer(count: Self.size, lock: false)
        try bulk.submitRead(into: back, from: path).wait()
        var newBlocks = 0
        for offset in stride(from: 0, to: Self.size, by: Self.block) {
            if sameBlock(back, new, offset, Self.block) {
                newBlocks += 1
            } else if !sameBlock(back, old, offset, Self.block) {
                Issue.record("block at \(offset) holds neither the old nor the new bytes")
                break
            }
        }
        #expect(newBlocks <= submitted)
        #expect(newBlocks < Self.size / Self.block)
        // The handle goes on working.
        try await handle.write(from: new, to: path, count: 1 << 20)
        try bulk.submitRead(into: back, from: path).wait()
        #expect(sameBlock(back, new, 0, 1 << 20))
    }

    @Test("a read cancelled mid-way throws .cancelled, stops early, leaks nothing; the buffer is free again",
          arguments: realEngines)
    func midRead(engine: EngineKind) async throws {
        let dir = ScratchFolder("cancel-r")
        let path = dir.file("r")
        let (handle, recorder) = try Self.handle(engine)
        let data = try randomBuffer(Self.size, seed: 33)
        try AIOHandle(HandleConfig(blockSize: 1 << 20, engine: engine)).submitWrite(from: data, to: path, truncate: true).wait()
        let sink = try AlignedBuffer(count: Self.size, lock: false)
        let start = Self.requests(recorder)
        let task = Task { try await handle.read(into: sink, from: path) }
        let point = Self.cancel(after: 64, beyond: start, recorder) { task.cancel() }
        let result = await task.result
        let atCancel = point.wait()
        let submitted = Self.requests(recorder) - start
        guard case .failure(let error) = result else {
            Issue.record("the read finished before the cancellation reached it (\(submitted) requests)")
            return
        }
        #expect((error as? AsyncIOError)?.kind == .cancelled, "\(error)")
        #expect(submitted <= atCancel + Self.afterCancelSlack, "stopped submitting: \(submitted) after \(atCancel)")
        #expect(submitted < Self.size / Self.block)
        #expect(!sink.isLent)
        #expect(Self.descriptors(in: dir.path) == 0)
        // Blocks hold the file's bytes or the zeros the buffer started with.
        let zeros = try AlignedBuffer(count: Self.block, lock: false)
        for offset in stride(from: 0, to: Self.size, by: Self.block) {
            let ok = sameBlock(sink, data, offset, Self.block)
                || sink.contentsEqual(from: offset, to: zeros, length: Self.block)
            if !ok {
                Issue.record("block at \(offset) holds neither file data nor zeros")
                break
            }
        }
        sink.fillRandom(seed: 1)  // no longer lent: changing it is allowed
    }

    @Test("IOTicket.cancel() from another thread mid-write: the blocking wait() ends with .cancelled",
          arguments: realEngines)
    func ticketCancelBlocking(engine: EngineKind) async throws {
        let dir = ScratchFolder("cancel-t")
        let (handle, recorder) = try Self.handle(engine)
        let source = try randomBuffer(Self.size, seed: 34)
        let start = Self.requests(recorder)
        let ticket = try handle.submitWrite(from: source, to: dir.file("t"))
        _ = Self.cancel(after: 64, beyond: start, recorder) { ticket.cancel() }.wait()
        let error = #expect(throws: AsyncIOError.self) { try ticket.wait() }
        if error == nil { return }
        #expect(error?.kind == .cancelled)
        #expect(error?.description.contains("cancelled") == true)
        #expect(!source.isLent)
        #expect(Self.descriptors(in: dir.path) == 0)
    }
}

/// Whether `a` and `b` hold the same `length` bytes at `offset`.
func sameBlock(_ a: AlignedBuffer, _ b: AlignedBuffer, _ offset: Int, _ length: Int) -> Bool {
    a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in memcmp(x.baseAddress! + offset, y.baseAddress! + offset, length) == 0 }
    }
}
