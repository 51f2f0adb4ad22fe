@_spi(Testing) import AsyncIO
import Foundation
import Glibc
import Testing

/// Short transfers are completed, errors surface with errno, nothing is silently truncated.
@Suite("Faults and errors")
struct FaultTests {
    @Test("short transfers are continued to the end", arguments: realEngines)
    func shortTransfers(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("s")
        let faults = FaultInjection(everyRequestShort: true)
        let handle = try AIOHandle(HandleConfig(blockSize: 1 << 16, queueDepth: 8, intraOpParallelism: 2,
                                                engine: engine).injecting(faults))
        let source = try randomBuffer((1 << 20) + 777, seed: 11)
        try handle.submitWrite(from: source, to: path).wait()
        #expect(plainRead(path) == source.bytes())
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        #expect(sink.bytes() == source.bytes())
    }

    @Test("one short request in the middle", arguments: realEngines)
    func oneShort(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("s1")
        let source = try randomBuffer(1 << 20, seed: 12)
        plainWrite(path, source.bytes())
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, engine: engine)
            .injecting(FaultInjection(shortRequest: 5)))
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        #expect(sink.bytes() == source.bytes())
    }

    @Test("an errno in the middle surfaces from wait()", arguments: realEngines)
    func errnoFromWait(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("e")
        plainWrite(path, [UInt8](repeating: 1, count: 1 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, intraOpParallelism: 2,
                                                engine: engine)
            .injecting(FaultInjection(failRequest: 7, failErrno: EIO)))
        let sink = try AlignedBuffer(count: 1 << 20, lock: false)
        try DeepSpeedHandle(handle).asyncPread(sink, filename: path)
        let error = #expect(throws: AsyncIOError.self) { try DeepSpeedHandle(handle).wait() }
        #expect(error?.errno == .ioError)
        #expect(error?.operation == "read")
        #expect(error?.path == path)
        #expect(error?.offset != nil)
        #expect(error?.description.contains("EIO") == true)
        // The handle keeps working after a failure.
        #expect(try DeepSpeedHandle(handle).wait() == 0)
        let again = try AIOHandle(HandleConfig(blockSize: 65536, engine: engine))
        try again.submitRead(into: sink, from: path).wait()
    }

    @Test("a file shorter than asked is an error, not a truncation", arguments: realEngines)
    func shortFile(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("short")
        plainWrite(path, [UInt8](repeating: 7, count: 10_000))
        let handle = try AIOHandle(HandleConfig(engine: engine))
        let sink = try AlignedBuffer(count: 20_000, lock: false)
        let error = #expect(throws: AsyncIOError.self) { try handle.submitRead(into: sink, from: path).wait() }
        #expect(error?.kind == .unexpectedEndOfFile)
        #expect(error?.description.contains("shorter") == true)
    }

    @Test("missing file names path and errno")
    func missingFile() throws {
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        let sink = try AlignedBuffer(count: 4096, lock: false)
        let error = #expect(throws: AsyncIOError.self) { try handle.submitRead(into: sink, from: "/nonexistent/x").wait() }
        #expect(error?.errno == .noSuchFile)
        #expect(error?.path == "/nonexistent/x")
    }

    @Test("bad knobs are refused with the allowed range")
    func badKnobs() {
        for config in [HandleConfig(blockSize: 0), HandleConfig(queueDepth: 0), HandleConfig(intraOpParallelism: 0),
                       HandleConfig(queueDepth: 40000)] {
            let error = #expect(throws: AsyncIOError.self) { try AIOHandle(config) }
            #expect(error?.kind == .invalidArgument)
        }
    }

    @Test("block size not a multiple of the direct I/O alignment is refused")
    func unalignedBlock() throws {
        let dir = ScratchFolder()
        let handle = try AIOHandle(HandleConfig(blockSize: 1000, engine: .posix))
        let error = #expect(throws: AsyncIOError.self) {
            try handle.submitWrite(from: try randomBuffer(8192, seed: 1), to: dir.file("u")).wait()
        }
        #expect(error?.description.contains("alignment") == true)
    }

    // MARK: - Faults on every engine, in the middle of an operation

    /// Engines with the fault wrapper: every one that works here, including the null engine
    /// (its results pass through the same checks).
    static let faultEngines: [EngineKind] = EngineKind.available

    @Test("EIO on a write in the middle with parallelism 4: names EIO, path and offset; handle still usable",
          arguments: faultEngines)
    func eioOnWriteMiddle(engine: EngineKind) throws {
        let dir = ScratchFolder("eio-w")
        let path = dir.file("w")
        let source = try randomBuffer(4 << 20, seed: 21)
        // 4 workers × 16 requests of 64 KiB: request 30 is in the middle of the operation.
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, intraOpParallelism: 4,
                                                engine: engine)
            .injecting(FaultInjection(failRequest: 30, failErrno: EIO)))
        let error = #expect(throws: AsyncIOError.self) { try handle.submitWrite(from: source, to: path).wait() }
        #expect(error?.errno == .ioError)
        #expect(error?.operation == "write")
        #expect(error?.path == path)
        #expect(error?.kind == .system)
        if let offset = error?.offset {
            #expect(offset >= 0 && offset < Int64(source.count) && offset % 65536 == 0, "offset \(offset)")
        } else {
            Issue.record("the error names no offset: \(String(describing: error))")
        }
        let text = error?.description ?? ""
        #expect(text.contains("EIO") && text.contains(path) && text.contains("at offset"), "\(text)")
        // The same handle goes on working: the next operations succeed and move every byte. (Truncating
        // reserves the range, so the file has its size also under the null engine, which writes nothing.)
        try handle.submitWrite(from: source, to: path, truncate: true).wait()
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        if engine != .null {
            #expect(sink.contentsEqual(source))
            #expect(plainRead(path) == source.bytes())
        }
        try DeepSpeedHandle(handle).asyncPwrite(source, filename: path)
        #expect(try DeepSpeedHandle(handle).wait() == 1)
    }

    @Test("EIO on an asynchronous write surfaces from wait(); the other pending operations complete",
          arguments: faultEngines)
    func eioAmongPending(engine: EngineKind) throws {
        let dir = ScratchFolder("eio-a")
        let sources = try (0..<4).map { try randomBuffer(1 << 20, seed: UInt64(30 + $0)) }
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, intraOpParallelism: 4,
                                                engine: engine)
            .injecting(FaultInjection(failRequest: 37, failErrno: EIO)))
        for (i, s) in sources.enumerated() { try DeepSpeedHandle(handle).asyncPwrite(s, filename: dir.file("f\(i)")) }
        let error = #expect(throws: AsyncIOError.self) { try DeepSpeedHandle(handle).wait() }
        #expect(error?.errno == .ioError)
        #expect(error?.offset != nil)
        #expect(error?.path?.hasPrefix(dir.path) == true)
        // Every operation has finished (none still pending), so the next wait() returns at once.
        #expect(try DeepSpeedHandle(handle).wait() == 0)
        if engine != .null {
            let intact = sources.indices.filter { plainRead(dir.file("f\($0)")) == sources[$0].bytes() }
            #expect(intact.count >= 3, "the operations without the fault wrote all their bytes")
        }
    }

    @Test("EIO in the middle of a read through the Swift concurrency API", arguments: faultEngines)
    func eioAsyncAPI(engine: EngineKind) async throws {
        let dir = ScratchFolder("eio-s")
        let path = dir.file("r")
        plainWrite(path, [UInt8](repeating: 3, count: 2 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 131_072, queueDepth: 2, intraOpParallelism: 4,
                                                engine: engine)
            .injecting(FaultInjection(failRequest: 9, failErrno: EIO)))
        let sink = try AlignedBuffer(count: 2 << 20, lock: false)
        await #expect(throws: AsyncIOError.self) { try await handle.read(into: sink, from: path) }
        do {
            try await handle.read(into: sink, from: path)
        } catch {
            Issue.record("the handle did not recover: \(error)")
        }
    }

    @Test("other errnos injected mid-write (ENOSPC, EROFS) are named as such", arguments: [ENOSPC, EROFS])
    func otherErrnos(code: Int32) throws {
        let dir = ScratchFolder("errno")
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, intraOpParallelism: 2,
                                                engine: .posix)
            .injecting(FaultInjection(failRequest: 5, failErrno: code)))
        let error = #expect(throws: AsyncIOError.self) {
            try handle.submitWrite(from: try randomBuffer(1 << 20, seed: 2), to: dir.file("x")).wait()
        }
        #expect(error?.errno?.rawValue == code)
        #expect(error?.description.contains(AsyncIOError.errnoName(code)) == true)
    }

    @Test("short transfers with parallelism 4, writes and reads, every request short", arguments: faultEngines)
    func shortEverywhere(engine: EngineKind) throws {
        let dir = ScratchFolder("short4")
        let path = dir.file("s4")
        // Not a multiple of the block size or the alignment: the tail takes the buffered path.
        let source = try randomBuffer((3 << 20) + 1234, seed: 44)
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 8, intraOpParallelism: 4,
                                                engine: engine).injecting(FaultInjection(everyRequestShort: true)))
        try handle.submitWrite(from: source, to: path, truncate: true).wait()
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        if engine != .null {
            #expect(plainRead(path) == source.bytes())
            #expect(sink.contentsEqual(source))
        }
        for overlap in [true, false] {
            let single = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 3, singleSubmit: true,
                                                    overlapEvents: overlap, intraOpParallelism: 4, engine: engine)
                .injecting(FaultInjection(shortRequest: 11)))
            let again = try AlignedBuffer(count: source.count, lock: false)
            try single.submitRead(into: again, from: path).wait()
            if engine != .null { #expect(again.contentsEqual(source), "overlap \(overlap)") }
        }
    }

    @Test("a file truncated under a pending read is an error naming the file, never stale data",
          arguments: realEngines)
    func truncatedBeforeRead(engine: EngineKind) throws {
        let dir = ScratchFolder("trunc")
        let path = dir.file("t")
        plainWrite(path, [UInt8](repeating: 9, count: 1 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, engine: engine))
        let sink = try AlignedBuffer(count: 1 << 20, lock: false)
        try handle.submitRead(into: sink, from: path).wait()
        #expect(truncate(path, 300_000) == 0)
        let error = #expect(throws: AsyncIOError.self) { try handle.submitRead(into: sink, from: path).wait() }
        #expect(error?.kind == .unexpectedEndOfFile)
        #expect(error?.path == path)
        #expect(error?.description.contains("300000") == true, "\(String(describing: error))")
    }

    @Test("engine refused by the kernel falls back under auto")
    func refusedFallback() throws {
        EngineProbe.refused.withLock { $0 = ([.uring, .aio], "refused by the test") }
        defer { EngineProbe.refused.withLock { $0 = ([], "") } }
        let handle = try AIOHandle(HandleConfig(engine: .auto))
        #expect(handle.engine == .posix)
        #expect(handle.engineFallbacks.count == 2)
        #expect(handle.engineFallbacks.first?.contains("io_uring") == true)
    }
}
