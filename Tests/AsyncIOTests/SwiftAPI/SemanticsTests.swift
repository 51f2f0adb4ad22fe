@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Every way to write or read, DeepSpeed-shaped and Swift-first: the same offsets, counts and
/// truncation (the rule written in `AIOHandle`'s documentation), on every engine that does I/O.
/// (The `sim` engine moves no bytes, so there is nothing for it to keep or truncate.)
@Suite("Offset and truncation semantics of every call")
struct SemanticsTests {
    /// One write call: DeepSpeed's (`DeepSpeedHandle`, which moves whole buffers and never
    /// truncates: it gets a buffer of exactly `count` bytes) or the handle's own.
    enum WriteCall: String, CaseIterable, CustomTestStringConvertible {
        case dsWrite, dsPwrite, dsPwriteAsync, dsSyncPwrite, dsAsyncPwrite, writeFrom, submitWrite

        var testDescription: String { rawValue }
        var truncates: Bool { !rawValue.hasPrefix("ds") }

        func run(_ h: AIOHandle, _ b: AlignedBuffer, _ path: String, offset: Int64, count: Int, truncate: Bool)
            async throws(AsyncIOError) {
            let ds = DeepSpeedHandle(h)
            switch self {
            case .dsWrite: try ds.write(try SemanticsTests.prefix(b, count), filename: path, fileOffset: offset)
            case .dsPwrite: #expect(try ds.pwrite(try SemanticsTests.prefix(b, count), filename: path, async: false, fileOffset: offset) == 1)
            case .dsPwriteAsync:
                #expect(try ds.pwrite(try SemanticsTests.prefix(b, count), filename: path, async: true, fileOffset: offset) == 0)
                #expect(try ds.wait() == 1)
            case .dsSyncPwrite: #expect(try ds.syncPwrite(try SemanticsTests.prefix(b, count), filename: path, fileOffset: offset) == 1)
            case .dsAsyncPwrite:
                try ds.asyncPwrite(try SemanticsTests.prefix(b, count), filename: path, fileOffset: offset)
                #expect(try ds.wait() == 1)
            case .writeFrom:
                #expect(try await h.write(from: b, to: path, offset: offset, count: count, truncate: truncate) == count)
            case .submitWrite:
                let ticket = try h.submitWrite(from: b, to: path, offset: offset, count: count, truncate: truncate)
                #expect(try ticket.wait() == count)
                #expect(ticket.isComplete)
            }
        }
    }

    /// One read call, as `WriteCall`: DeepSpeed's fill a buffer of exactly `count` bytes, copied
    /// to the start of `b`.
    enum ReadCall: String, CaseIterable, CustomTestStringConvertible {
        case dsRead, dsPread, dsPreadAsync, dsSyncPread, dsAsyncPread, readInto, submitRead

        var testDescription: String { rawValue }
        var takesCount: Bool { !rawValue.hasPrefix("ds") }

        func run(_ h: AIOHandle, _ b: AlignedBuffer, _ path: String, offset: Int64, count: Int)
            async throws(AsyncIOError) {
            let ds = DeepSpeedHandle(h)
            let part = takesCount ? b : try AlignedBuffer(count: count, lock: false)
            switch self {
            case .dsRead: try ds.read(part, filename: path, fileOffset: offset)
            case .dsPread: #expect(try ds.pread(part, filename: path, async: false, fileOffset: offset) == 1)
            case .dsPreadAsync:
                try ds.pread(part, filename: path, async: true, fileOffset: offset)
                #expect(try ds.wait() == 1)
            case .dsSyncPread: try ds.syncPread(part, filename: path, fileOffset: offset)
            case .dsAsyncPread:
                try ds.asyncPread(part, filename: path, fileOffset: offset)
                try ds.wait()
            case .readInto: #expect(try await h.read(into: b, from: path, offset: offset, count: count) == count)
            case .submitRead:
                #expect(try await h.submitRead(into: b, from: path, offset: offset, count: count).value == count)
            }
            if !takesCount {
                part.withUnsafeBytes { from in b.withUnsafeMutableBytes { $0.copyMemory(from: from) } }
            }
        }
    }

    /// A buffer holding the first `count` bytes of `b`.
    static func prefix(_ b: AlignedBuffer, _ count: Int) throws(AsyncIOError) -> AlignedBuffer {
        let part = try AlignedBuffer(count: count, lock: false)
        b.withUnsafeBytes { from in part.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: from.prefix(count))) } }
        return part
    }

    static let old = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }

    @Test("a write changes only its range; the file is truncated only when asked",
          arguments: realEngines, WriteCall.allCases)
    func writes(engine: EngineKind, call: WriteCall) async throws {
        let dir = ScratchFolder("sem-w")
        let path = dir.file("f")
        let handle = try AIOHandle(HandleConfig(blockSize: 8192, queueDepth: 4, intraOpParallelism: 3, engine: engine))
        let new = try randomBuffer(20_000, seed: 9)
        let newBytes = new.bytes()
        var expected = Self.old
        plainWrite(path, expected)

        // Inside the file, unaligned offset and count: only that range changes, the size stays.
        try await call.run(handle, new, path, offset: 8193, count: 5001, truncate: false)
        expected.replaceSubrange(8193..<13_194, with: newBytes.prefix(5001))
        #expect(plainRead(path) == expected, "range inside the file")

        // At offset 0, smaller than the file: no truncation either.
        try await call.run(handle, new, path, offset: 0, count: 3000, truncate: false)
        expected.replaceSubrange(0..<3000, with: newBytes.prefix(3000))
        #expect(plainRead(path) == expected, "offset 0 does not truncate")

        // Past the end: the file grows, the gap reads as zeros.
        try await call.run(handle, new, path, offset: 150_000, count: 4096, truncate: false)
        expected += [UInt8](repeating: 0, count: 50_000) + newBytes.prefix(4096)
        #expect(plainRead(path) == expected, "write past the end")

        // Truncation asked for: the file ends exactly at offset + count, zeros before the offset.
        if call.truncates {
            try await call.run(handle, new, path, offset: 4096, count: 5000, truncate: true)
            expected = [UInt8](repeating: 0, count: 4096) + newBytes.prefix(5000)
            #expect(plainRead(path) == expected, "truncate: true")
        }

        // A missing file is created, mode 0666 less the umask (0600 when asked).
        let fresh = dir.file("fresh")
        try await call.run(handle, new, fresh, offset: 10, count: 100, truncate: false)
        #expect(plainRead(fresh) == [UInt8](repeating: 0, count: 10) + newBytes.prefix(100))
        #expect(try FileSystem.status(of: fresh).permissions == 0o666 & ~currentUmask())
        var owner = handle.config
        owner.privateFiles = true
        let privateFile = dir.file("private")
        try await call.run(try AIOHandle(owner), new, privateFile, offset: 0, count: 100, truncate: false)
        #expect(try FileSystem.status(of: privateFile).permissions == 0o600)
        #expect(!new.isLent)
    }

    @Test("a read fills the start of the buffer from its range; a range past the end is an error",
          arguments: realEngines, ReadCall.allCases)
    func reads(engine: EngineKind, call: ReadCall) async throws {
        let dir = ScratchFolder("sem-r")
        let path = dir.file("f")
        plainWrite(path, Self.old)
        let handle = try AIOHandle(HandleConfig(blockSize: 8192, queueDepth: 4, intraOpParallelism: 3, engine: engine))
        let sink = try AlignedBuffer(count: 30_000, lock: false)
        try await call.run(handle, sink, path, offset: 777, count: 25_001)
        #expect(sink.bytes(25_001) == Array(Self.old[777..<25_778]))
        #expect(sink.bytes().suffix(4999) == ArraySlice(repeating: 0, count: 4999), "bytes past count untouched")
        // Up to the last byte of the file exactly.
        try await call.run(handle, sink, path, offset: 70_000, count: 30_000)
        #expect(sink.bytes() == Array(Self.old[70_000...]))

        let error = await #expect(throws: AsyncIOError.self) {
            try await call.run(handle, sink, path, offset: 90_000, count: 10_001)
        }
        #expect(error?.kind == .unexpectedEndOfFile)
        let negative = await #expect(throws: AsyncIOError.self) {
            try await call.run(handle, sink, path, offset: -1, count: 10)
        }
        #expect(negative?.kind == .invalidArgument)
        if call.takesCount {
            let tooMany = await #expect(throws: AsyncIOError.self) {
                try await call.run(handle, sink, path, offset: 0, count: sink.count + 1)
            }
            #expect(tooMany?.kind == .invalidArgument)
        }
        #expect(!sink.isLent)
    }
}
