@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// `StreamReader.forEachChunk`: the blocking read on the caller's thread, with its own kernel queue.
@Suite("Streaming: blocking reads (forEachChunk)")
struct StreamBlockingReadTests {
    static func descriptors(in folder: String) -> Int { StreamRoundTripTests.descriptors(in: folder) }

    /// Reads `reader` with `forEachChunk`; returns the bytes and the chunk sizes, checking offsets.
    static func readAll(_ reader: StreamReader, _ what: String) throws -> (bytes: [UInt8], counts: [Int]) {
        var bytes: [UInt8] = []
        var counts: [Int] = []
        try reader.forEachChunk { chunk, offset in
            #expect(offset == Int64(bytes.count), "\(what)")
            counts.append(chunk.count)
            for i in chunk.indices { bytes.append(chunk[i]) }
        }
        return (bytes, counts)
    }

    @Test("chunks come in file order, of the chunk size, and equal the file (sizes, chunks, rings, depths)",
          arguments: realEngines, TestSeed.seeds(4))
    func roundTrip(engine: EngineKind, seed: UInt64) throws {
        let dir = ScratchFolder("stream-blk")
        let path = dir.file("b")
        var rng = SplitMix64(seed: seed)
        let bufferSize = [64 << 10, 256 << 10].randomElement(using: &rng)!
        let divisors = stride(from: 4096, through: bufferSize, by: 4096).filter { bufferSize % $0 == 0 }
        let chunk = divisors.randomElement(using: &rng)!
        // Empty, under a page, unaligned, and many rings' worth.
        let size = [0, 1, 4095, Int.random(in: 1...(6 * bufferSize), using: &rng)].randomElement(using: &rng)!
        let count = Int.random(in: 2...3, using: &rng)
        let parallel = Int.random(in: 1...3, using: &rng)
        let depth = [1, 2, 8, 32].randomElement(using: &rng)!
        let data = StreamRoundTripTests.randomBytes(size, &rng)
        plainWrite(path, data)
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: depth, intraOpParallelism: parallel,
                                                engine: engine))
        let what = "seed \(seed): \(count) x \(bufferSize), chunk \(chunk), size \(size), p\(parallel), qd \(depth)"
        let ring = try BounceBuffers(size: bufferSize, count: count)
        for useRing in [false, true, true] {
            let reader = useRing
                ? try StreamReader(path: path, handle: handle, buffers: ring, chunkSize: chunk)
                : try StreamReader(path: path, handle: handle, bufferSize: bufferSize, bufferCount: count,
                                   chunkSize: chunk)
            let (back, counts) = try Self.readAll(reader, what)
            #expect(back == data, "\(what), ring \(useRing)")
            #expect(counts.dropLast().allSatisfy { $0 == chunk } && (counts.last ?? 1) > 0, "\(what): \(counts)")
            #expect(counts.count == (size + chunk - 1) / chunk, "\(what)")
        }
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("short transfers are continued: the bytes still equal the file", arguments: realEngines)
    func shortTransfers(engine: EngineKind) throws {
        let dir = ScratchFolder("stream-blk-short")
        let path = dir.file("s")
        var rng = SplitMix64(seed: 11)
        let data = StreamRoundTripTests.randomBytes(300_001, &rng)
        plainWrite(path, data)
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, engine: engine)
            .injecting(FaultInjection(everyRequestShort: true)))
        let reader = try StreamReader(path: path, handle: handle, bufferSize: 64 << 10, chunkSize: 16384)
        #expect(try Self.readAll(reader, "short").bytes == data)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("a failed read ends the call with its error, naming the read and the file; nothing is left open",
          arguments: realEngines)
    func readFails(engine: EngineKind) throws {
        let dir = ScratchFolder("stream-blk-fail")
        let path = dir.file("f")
        plainWrite(path, [UInt8](repeating: 3, count: 1 << 20))
        // One request per chunk, numbered in file order: request 6 reads the sixth chunk.
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 8, engine: engine)
            .injecting(FaultInjection(failRequest: 6, failErrno: EIO)))
        let ring = try BounceBuffers(size: 64 << 10, count: 2)
        var seen = 0
        let error = #expect(throws: AsyncIOError.self) {
            try StreamReader(path: path, handle: handle, buffers: ring, chunkSize: 16384).forEachChunk { _, _ in
                seen += 1
            }
        }
        #expect(error?.errno == .ioError, "\(String(describing: error))")
        #expect(error?.operation == "read" && error?.path == path, "\(String(describing: error))")
        #expect(seen == 5, "the five chunks before the failed one, and none after it (\(seen))")
        #expect(Self.descriptors(in: dir.path) == 0)
        // The ring was given back: another read can take it.
        let again = try AIOHandle(HandleConfig(blockSize: 16384, engine: engine))
        #expect(try Self.readAll(try StreamReader(path: path, handle: again, buffers: ring), "again").bytes.count == 1 << 20)
    }

    @Test("an error thrown by the body stops the read: the same error comes out, nothing is left open",
          arguments: realEngines)
    func bodyThrows(engine: EngineKind) throws {
        let dir = ScratchFolder("stream-blk-body")
        let path = dir.file("t")
        plainWrite(path, [UInt8](repeating: 5, count: 4 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 16, engine: engine))
        var seen = 0
        let error = #expect(throws: AsyncIOError.self) {
            try StreamReader(path: path, handle: handle, bufferSize: 256 << 10, chunkSize: 16384).forEachChunk {
                (_: Span<UInt8>, offset: Int64) throws(AsyncIOError) in
                seen += 1
                if seen == 3 { throw AsyncIOError.invalid("consume", "stop here", path: "chunk at \(offset)") }
            }
        }
        #expect(error?.kind == .invalidArgument && error?.description.contains("stop here") == true,
                "\(String(describing: error))")
        #expect(seen == 3)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("a task cancelled mid-read: .cancelled at the next chunk, nothing left open", arguments: realEngines)
    func cancelled(engine: EngineKind) async throws {
        let dir = ScratchFolder("stream-blk-cancel")
        let path = dir.file("c")
        plainWrite(path, [UInt8](repeating: 7, count: 2 << 20))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 8, engine: engine))
        let task = Task { () -> (AsyncIOError?, Int) in
            var seen = 0
            do throws(AsyncIOError) {
                try StreamReader(path: path, handle: handle, bufferSize: 64 << 10, chunkSize: 16384).forEachChunk { _, _ in
                    seen += 1
                    if seen == 2 { withUnsafeCurrentTask { $0?.cancel() } }
                }
                return (nil, seen)
            } catch {
                return (error, seen)
            }
        }
        let (error, seen) = await task.value
        #expect(error?.kind == .cancelled, "\(String(describing: error))")
        #expect(seen == 2)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("its requests count in the handle's requestsSubmitted; enginePath names its queue until a worker runs",
          arguments: realEngines)
    func counted(engine: EngineKind) async throws {
        let dir = ScratchFolder("stream-blk-count")
        let path = dir.file("n")
        plainWrite(path, [UInt8](repeating: 2, count: (1 << 20) + 100))
        let handle = try AIOHandle(HandleConfig(blockSize: 16384, queueDepth: 4, engine: engine))
        let before = handle.enginePath
        try StreamReader(path: path, handle: handle, bufferSize: 64 << 10).forEachChunk { _, _ in }
        // 64 whole blocks and the unaligned tail (one more request where it goes through the page cache).
        #expect(handle.requestsSubmitted == 65, "\(handle.requestsSubmitted)")
        // Where the memlock limit refuses the registration, the path says so instead.
        if engine == .uring, !handle.enginePath.contains("failed") {
            #expect(before.contains("plain READ"), "\(before)")
            #expect(handle.enginePath.contains("READ_FIXED") || handle.enginePath.contains("registered"),
                    "\(handle.enginePath)")
        }
        _ = try await handle.read(into: try AlignedBuffer(count: 4096), from: path)
        #expect(handle.requestsSubmitted == 66)
    }

    @Test("a block size that is not a multiple of the direct I/O alignment is refused, as by every read",
          arguments: realEngines)
    func unalignedBlock(engine: EngineKind) throws {
        let dir = ScratchFolder("stream-blk-align")
        let path = dir.file("a")
        plainWrite(path, [UInt8](repeating: 1, count: 64 << 10))
        let handle = try AIOHandle(HandleConfig(blockSize: 1000, engine: engine))
        var calls = 0
        let error = #expect(throws: AsyncIOError.self) {
            try StreamReader(path: path, handle: handle, bufferSize: 64 << 10).forEachChunk { _, _ in calls += 1 }
        }
        #expect(error?.kind == .invalidArgument && error?.description.contains("alignment") == true,
                "\(String(describing: error))")
        #expect(calls == 0)
        #expect(Self.descriptors(in: dir.path) == 0)
    }

    @Test("the stand-in engines (null, sim) hand out every chunk in order, through the handle's workers",
          arguments: [EngineKind.null, .sim])
    func standIns(engine: EngineKind) throws {
        let dir = ScratchFolder("stream-blk-standin")
        let path = dir.file("z")
        plainWrite(path, [UInt8](repeating: 4, count: 300_000))
        var config = HandleConfig(blockSize: 16384, queueDepth: 4, intraOpParallelism: 2, engine: engine)
        if engine == .sim { config.engineOptions.simulation = SimulatedDevice(seed: 1, read: .init(defaultGiBps: 50),
                                                                               write: .init(defaultGiBps: 50)) }
        let handle = try AIOHandle(config)
        let reader = try StreamReader(path: path, handle: handle, bufferSize: 64 << 10, chunkSize: 32768)
        let (bytes, counts) = try Self.readAll(reader, "\(engine)")
        #expect(bytes.count == 300_000)
        #expect(counts.count == (300_000 + 32767) / 32768)
        #expect(handle.requestsSubmitted > 0, "the handle's workers did the reads")
    }

    @Test("a missing file is ENOENT before any chunk; an empty file calls the body never")
    func missingAndEmpty() throws {
        let dir = ScratchFolder("stream-blk-missing")
        let handle = try AIOHandle(HandleConfig(engine: .posix))
        var calls = 0
        let error = #expect(throws: AsyncIOError.self) {
            try StreamReader(path: dir.file("none"), handle: handle).forEachChunk { _, _ in calls += 1 }
        }
        #expect(error?.code == .noSuchFile)
        plainWrite(dir.file("empty"), [])
        try StreamReader(path: dir.file("empty"), handle: handle).forEachChunk { _, _ in calls += 1 }
        #expect(calls == 0)
    }
}
