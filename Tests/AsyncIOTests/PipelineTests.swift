@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Consecutive operations on one worker overlap (io_uring and kernel AIO, overlap mode): the next
/// starts while the last requests of the one before are in flight, and each is still reported,
/// with its own data and errors, when its own requests are back.
@Suite("Operations overlapping on a worker")
struct PipelineTests {
    static let engines = realEngines.filter { $0 == .uring || $0 == .aio }

    @Test("small operations queued on one worker keep more requests in flight than one of them has",
          arguments: engines)
    func overlap(engine: EngineKind) async throws {
        // More operations than a worker keeps lanes for before it drops reported ones (64); one
        // worker, depth 8, operations of 4 requests each.
        let log = try await Self.queuedReads(engine: engine, piece: 4 * 65536, count: 96, seed: 77)
        #expect(log.requests.count == 4 * 96)
        #expect(log.maxInFlight > 4, "at most \(log.maxInFlight) in flight: the operations did not overlap")
        #expect(log.maxInFlight <= 8)
    }

    @Test("operations of one request each fill the queue: one reap that frees several slots starts as many",
          arguments: engines)
    func singleRequestOperationsFillTheQueue(engine: EngineKind) async throws {
        let log = try await Self.queuedReads(engine: engine, piece: 65536, count: 64, seed: 79)
        #expect(log.requests.count == 64)
        // Starting one queued operation per reap kept 2 in flight here.
        #expect(log.maxInFlight == 8, "at most \(log.maxInFlight) of 8 in flight")
    }

    /// Reads a file of `count` pieces as one queued operation per piece on a handle of one worker
    /// (block 64 KiB, queue depth 8), checks each piece's data and returns the worker's queue log.
    static func queuedReads(engine: EngineKind, piece: Int, count: Int, seed: UInt64) async throws
        -> QueueRecorder.Log {
        let dir = ScratchFolder("pipe")
        let path = dir.file("p")
        let source = try randomBuffer(piece * count, seed: seed)
        try AIOHandle(HandleConfig(engine: engine)).submitWrite(from: source, to: path, truncate: true).wait()
        // Every operation is queued before the worker's first request reaches the kernel: how many
        // overlap then depends on the scheduler alone, not on the device's speed against this thread's.
        let recorder = QueueRecorder(gated: true)
        var options = EngineOptions()
        options.recorder = recorder
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, engine: engine, engineOptions: options))
        let sinks = try (0..<count).map { _ in try AlignedBuffer(count: piece, lock: false) }
        let tickets: [IOTicket]
        do {
            tickets = try sinks.enumerated().map { i, sink throws(AsyncIOError) in
                try handle.submitRead(into: sink, from: path, offset: Int64(i * piece))
            }
        } catch {
            recorder.openGate()
            throw error
        }
        recorder.openGate()
        for (i, ticket) in tickets.enumerated() {
            #expect(try await ticket.value == piece)
            #expect(sinks[i].contentsEqual(from: 0, to: slice(source, i * piece, piece), length: piece), "operation \(i)")
        }
        return recorder.logs[0]
    }

    @Test("the sequential discipline never overlaps operations", arguments: engines)
    func sequentialDoesNot(engine: EngineKind) async throws {
        let dir = ScratchFolder("pipe-seq")
        let recorder = QueueRecorder()
        var options = EngineOptions()
        options.recorder = recorder
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, overlapEvents: false, engine: engine,
                                                engineOptions: options))
        let source = try randomBuffer(4 * 65536, seed: 78)
        let tickets = try (0..<8).map { i throws(AsyncIOError) in
            try handle.submitWrite(from: source, to: dir.file("s\(i)"))
        }
        for ticket in tickets { #expect(try await ticket.value == source.count) }
        #expect(recorder.logs[0].maxInFlight == 4)
    }
}

/// A copy of `length` bytes of `buffer` from `offset`, as a buffer of its own.
private func slice(_ buffer: AlignedBuffer, _ offset: Int, _ length: Int) -> AlignedBuffer {
    let piece = try! AlignedBuffer(count: length, lock: false)
    piece.withUnsafeMutableBytes { to in
        buffer.withUnsafeBytes { from in
            to.copyMemory(from: UnsafeRawBufferPointer(rebasing: from[offset..<offset + length]))
        }
    }
    return piece
}
