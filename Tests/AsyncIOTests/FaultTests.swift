import AsyncIO
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
                                                engine: engine, faults: faults))
        let source = try randomBuffer((1 << 20) + 777, seed: 11)
        try handle.syncPWrite(source, to: path)
        #expect(plainRead(path) == source.bytes())
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.syncPRead(sink, from: path)
        #expect(sink.bytes() == source.bytes())
    }

    @Test("one short request in the middle", arguments: realEngines)
    func oneShort(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("s1")
        let source = try randomBuffer(1 << 20, seed: 12)
        plainWrite(path, source.bytes())
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, engine: engine,
                                                faults: FaultInjection(shortRequest: 5)))
        let sink = try AlignedBuffer(count: source.count, lock: false)
        try handle.syncPRead(sink, from: path)
        #expect(sink.bytes() == source.bytes())
    }

    @Test("an errno in the middle surfaces from wait()", arguments: realEngines)
    func errnoFromWait(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("e")
        plainWrite(path, [UInt8](repeating: 1, count: 1 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 65536, queueDepth: 4, intraOpParallelism: 2,
                                                engine: engine, faults: FaultInjection(failRequest: 7, failErrno: EIO)))
        let sink = try AlignedBuffer(count: 1 << 20, lock: false)
        try handle.asyncPRead(sink, from: path)
        let error = #expect(throws: AsyncIOError.self) { try handle.wait() }
        #expect(error?.errno == EIO)
        #expect(error?.operation == "read")
        #expect(error?.path == path)
        #expect(error?.offset != nil)
        #expect(error?.description.contains("EIO") == true)
        // The handle keeps working after a failure.
        #expect(try handle.wait() == 0)
        let again = try AIOHandle(HandleConfig(blockSize: 65536, engine: engine))
        try again.syncPRead(sink, from: path)
    }

    @Test("a file shorter than asked is an error, not a truncation", arguments: realEngines)
    func shortFile(engine: EngineKind) throws {
        let dir = ScratchFolder()
        let path = dir.file("short")
        plainWrite(path, [UInt8](repeating: 7, count: 10_000))
        let handle = try AIOHandle(HandleConfig(engine: engine))
        let sink = try AlignedBuffer(count: 20_000, lock: false)
        let error = #expect(throws: AsyncIOError.self) { try handle.syncPRead(sink, from: path) }
        #expect(error?.kind == .unexpectedEndOfFile)
        #expect(error?.description.contains("shorter") == true)
    }

    @Test("missing file names path and errno")
    func missingFile() throws {
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        let sink = try AlignedBuffer(count: 4096, lock: false)
        let error = #expect(throws: AsyncIOError.self) { try handle.syncPRead(sink, from: "/nonexistent/x") }
        #expect(error?.errno == ENOENT)
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
            try handle.syncPWrite(try randomBuffer(8192, seed: 1), to: dir.file("u"))
        }
        #expect(error?.description.contains("alignment") == true)
    }

    @Test("engine refused by the kernel falls back under auto")
    func refusedFallback() throws {
        setenv(EngineProbe.refuseVariable, "io_uring,aio", 1)
        defer { unsetenv(EngineProbe.refuseVariable) }
        let handle = try AIOHandle(HandleConfig(engine: .auto))
        #expect(handle.engine == .posix)
        #expect(handle.engineFallbacks.count == 2)
        #expect(handle.engineFallbacks.first?.contains("io_uring") == true)
    }
}
