@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Task cancellation of a striped transfer: every member stops submitting, the kernel is done with
/// the buffer before `.cancelled` comes back, no member file stays open, and the handle goes on.
@Suite("Striping: cancellation mid-operation", .serialized)
struct StripeCancellationTests {
    static let size = 128 << 20

    static func handle(_ engine: EngineKind, _ folders: [ScratchFolder]) throws -> (StripedHandle, QueueRecorder) {
        let recorder = QueueRecorder()
        var options = EngineOptions()
        options.recorder = recorder
        let layout = try StripeLayout(folders: folders.map(\.path), stripeSize: 1 << 20)
        let handle = try StripedHandle(layout, config: HandleConfig(blockSize: 4096, queueDepth: 2,
                                                                    engine: engine, engineOptions: options))
        return (handle, recorder)
    }

    @Test("a striped write and read cancelled mid-way throw .cancelled, stop early, leave nothing open",
          arguments: realEngines)
    func midOperation(engine: EngineKind) async throws {
        let folders = [ScratchFolder("stripe-cancel-a"), ScratchFolder("stripe-cancel-b")]
        let (striped, recorder) = try Self.handle(engine, folders)
        let buffer = try randomBuffer(Self.size, seed: 41)
        for operation in [IOOperation.write, .read] {
            if operation == .read {
                // A complete set to read.
                let bulk = try StripedHandle(striped.layout, config: HandleConfig(queueDepth: 8, engine: engine))
                try await bulk.write(from: buffer, to: "set")
            }
            let start = CancellationTests.requests(recorder)
            let task = Task {
                if operation == .write { try await striped.write(from: buffer, to: "set") } else {
                    try await striped.read(into: buffer, from: "set")
                }
            }
            let point = CancellationTests.cancel(after: 64, beyond: start, recorder) { task.cancel() }
            let result = await task.result
            let atCancel = point.wait()
            let submitted = CancellationTests.requests(recorder) - start
            guard case .failure(let error) = result else {
                Issue.record("the \(operation) finished before the cancellation reached it (\(submitted) requests)")
                continue
            }
            #expect((error as? AsyncIOError)?.kind == .cancelled, "\(error)")
            #expect(submitted <= atCancel + 2 * CancellationTests.afterCancelSlack,
                    "\(operation) stopped submitting: \(submitted) after \(atCancel)")
            #expect(submitted < Self.size / 4096)
            #expect(folders.allSatisfy { CancellationTests.descriptors(in: $0.path) == 0 })
        }
        // The handle goes on working.
        let small = try randomBuffer(3 << 20, seed: 42)
        try await striped.write(from: small, to: "after")
        let back = try AlignedBuffer(count: 3 << 20, lock: false)
        try await striped.read(into: back, from: "after")
        #expect(back.contentsEqual(small))
    }

    @Test("a task cancelled before it writes or reads a set submits nothing and leaves the set as it was",
          arguments: realEngines)
    func cancelledBeforeStart(engine: EngineKind) async throws {
        let folders = [ScratchFolder("stripe-precancel-a"), ScratchFolder("stripe-precancel-b")]
        let (striped, recorder) = try Self.handle(engine, folders)
        let old = try randomBuffer(3 << 20, seed: 43)
        try await striped.write(from: old, to: "set")
        let new = try randomBuffer(3 << 20, seed: 44)
        let start = CancellationTests.requests(recorder)
        for operation in [IOOperation.write, .read] {
            let result = await Task {
                withUnsafeCurrentTask { $0?.cancel() }
                if operation == .write { try await striped.write(from: new, to: "set") } else {
                    try await striped.read(into: new, from: "set")
                }
            }.result
            guard case .failure(let error) = result else {
                Issue.record("the \(operation) of a cancelled task ran")
                continue
            }
            #expect((error as? AsyncIOError)?.kind == .cancelled, "\(error)")
        }
        #expect(CancellationTests.requests(recorder) == start)
        // The set still holds the old bytes (a write that started would have truncated its members).
        let back = try AlignedBuffer(count: 3 << 20, lock: false)
        try await striped.read(into: back, from: "set")
        #expect(back.contentsEqual(old))
    }
}
