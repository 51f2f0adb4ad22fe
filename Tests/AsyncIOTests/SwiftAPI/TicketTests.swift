@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// `IOTicket`: one operation awaited, waited for, checked or cancelled on its own.
@Suite("Tickets")
struct TicketTests {
    @Test("each ticket is awaited or waited on its own; wait() counts none of them", arguments: realEngines)
    func tickets(engine: EngineKind) async throws {
        let dir = ScratchFolder("ticket")
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, intraOpParallelism: 2, engine: engine))
        var random = SplitMix64(seed: TestSeed.base &+ 12)
        let sizes = (0..<4).map { _ in Int.random(in: 1...300_000, using: &random) }
        let sources = try sizes.enumerated().map { try randomBuffer($1, seed: UInt64($0) + 100) }
        let writes = try sources.enumerated().map { i, b throws(AsyncIOError) in
            try handle.submitWrite(from: b, to: dir.file("t\(i)"))
        }
        #expect(writes.map(\.operation) == Array(repeating: .write, count: 4))
        #expect(writes.map(\.count) == sizes)
        #expect(try writes[0].wait() == sizes[0])
        for (i, ticket) in writes.enumerated().dropFirst() { #expect(try await ticket.value == sizes[i]) }
        #expect(writes.allSatisfy { $0.isComplete })
        #expect(try DeepSpeedHandle(handle).wait() == 0, "tickets are not DeepSpeed's asynchronous operations")
        let sinks = try sizes.map { try AlignedBuffer(count: $0, lock: false) }
        let reads = try sinks.enumerated().map { i, b throws(AsyncIOError) in
            try handle.submitRead(into: b, from: dir.file("t\(i)"))
        }
        // Awaited in reverse order, and twice: a ticket gives the same answer to every caller.
        for (i, ticket) in reads.enumerated().reversed() {
            #expect(try await ticket.value == sizes[i])
            #expect(try ticket.wait() == sizes[i])
            #expect(firstDifference(sinks[i], sources[i]) == nil)
        }
        reads[0].cancel()  // done already: nothing happens
        #expect(try await reads[0].value == sizes[0])
    }

    @Test("plain and striped operations end in the same ticket: value, wait, isComplete, transfer, a lent buffer",
          arguments: realEngines)
    func oneTicketType(engine: EngineKind) async throws {
        let dir = ScratchFolder("ticket-one")
        let folders = (0..<2).map { ScratchFolder("ticket-one-m\($0)") }
        let config = HandleConfig(blockSize: 8192, queueDepth: 4, intraOpParallelism: 2, engine: engine)
        let plain = try AIOHandle(config)
        let striped = try StripedHandle(StripeLayout(folders: folders.map(\.path), stripeSize: 16384), config: config)
        let source = try randomBuffer(200_000, seed: 21)
        let tickets: [IOTicket] = [try plain.submitWrite(from: source, to: dir.file("p")),
                                   try striped.submitWrite(from: source, to: "s")]
        for ticket in tickets {
            #expect(ticket.count == source.count)
            #expect(try await ticket.value == source.count)
            #expect(try ticket.wait() == source.count)
            #expect(ticket.isComplete)
        }
        let plainMoved = try #require(tickets[0].transfer)
        #expect(plainMoved.members.map(\.path) == [dir.file("p")] && plainMoved.bytes == source.count)
        let stripedMoved = try #require(tickets[1].transfer)
        #expect(stripedMoved.members.count == 2 && stripedMoved.members.map(\.bytes).reduce(0, +) == source.count)
        #expect(!source.isLent)
        // A striped read lends its buffer as a plain one does, until it has ended.
        let sink = try AlignedBuffer(count: source.count, lock: false)
        let read = try striped.submitRead(into: sink, from: "s")
        #expect(sink.isLent || read.isComplete)
        #expect(try await read.value == source.count)
        #expect(!sink.isLent && firstDifference(sink, source) == nil)
    }

    @Test("an error belongs to its ticket: the one before succeeds, the failing one names errno and path",
          arguments: realEngines)
    func errorPerTicket(engine: EngineKind) async throws {
        let dir = ScratchFolder("ticket-err")
        // One worker: the requests are numbered in order, 4 for the first write, so request 6
        // belongs to the second.
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 2, engine: engine)
            .injecting(FaultInjection(failRequest: 6, failErrno: EIO)))
        let source = try randomBuffer(4 * 65536, seed: 3)
        let first = try handle.submitWrite(from: source, to: dir.file("a"))
        let second = try handle.submitWrite(from: source, to: dir.file("b"))
        #expect(try await first.value == source.count)
        let error = await #expect(throws: AsyncIOError.self) { try await second.value }
        #expect(error?.errno == .ioError)
        #expect(error?.path == dir.file("b"))
        #expect(plainRead(dir.file("a")) == source.bytes())
        #expect(!source.isLent)
    }

    @Test("a ticket cancelled while queued behind another submits none of its requests", arguments: realEngines)
    func cancelQueued(engine: EngineKind) async throws {
        let dir = ScratchFolder("ticket-q")
        let recorder = QueueRecorder()
        var options = EngineOptions()
        options.recorder = recorder
        // One worker, 4 KiB requests one at a time: the first write keeps the worker busy for
        // thousands of requests while the second waits in its queue.
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 1, engine: engine, engineOptions: options))
        let long = try randomBuffer(8 << 20, seed: 4)
        let small = try randomBuffer(1 << 20, seed: 5)
        let first = try handle.submitWrite(from: long, to: dir.file("long"))
        let second = try handle.submitWrite(from: small, to: dir.file("small"))
        second.cancel()
        #expect(try await first.value == long.count)
        let error = await #expect(throws: AsyncIOError.self) { try await second.value }
        #expect(error?.kind == .cancelled)
        #expect(second.isComplete)
        #expect(plainRead(dir.file("small")).isEmpty, "opened at submission, nothing written")
        let offsets = recorder.logs.flatMap(\.requests).map(\.length).reduce(0, +)
        #expect(offsets == long.count, "only the first write's requests reached the queue")
        #expect(!small.isLent && !long.isLent)
    }

    @Test("a task cancelled before it starts an operation submits nothing and throws .cancelled")
    func cancelledBeforeStart() async throws {
        let dir = ScratchFolder("ticket-pre")
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        let buffer = try randomBuffer(4096, seed: 1)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await handle.write(from: buffer, to: dir.file("never"))
        }
        let result = await task.result
        #expect((try? result.get()) == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.file("never")))
    }
}
