@_spi(Testing) import AsyncIO
import Foundation
import Testing

/// Every way to write or read, DeepSpeed-shaped and Swift-first: the same offsets, counts and
/// truncation (the rule written in `AIOHandle`'s documentation), on every engine that does I/O.
/// (The `sim` engine moves no bytes, so there is nothing for it to keep or truncate.)
@Suite("Offset and truncation semantics of every call")
struct SemanticsTests {
    /// One write call of the handle's API.
    enum WriteCall: String, CaseIterable, CustomTestStringConvertible {
        case write, pwrite, pwriteAsync, syncPWrite, asyncPWrite, writeFrom, submitWrite

        var testDescription: String { rawValue }

        func run(_ h: AIOHandle, _ b: AlignedBuffer, _ path: String, offset: Int64, count: Int, truncate: Bool)
            async throws(AsyncIOError) {
            switch self {
            case .write:
                #expect(try h.write(b, to: path, offset: offset, count: count, truncate: truncate) == count)
            case .pwrite:
                try h.pwrite(b, to: path, offset: offset, count: count, truncate: truncate, async: false)
            case .pwriteAsync:
                try h.pwrite(b, to: path, offset: offset, count: count, truncate: truncate, async: true)
                #expect(try h.wait() == 1)
            case .syncPWrite:
                try h.syncPWrite(b, to: path, offset: offset, count: count, truncate: truncate)
            case .asyncPWrite:
                try h.asyncPWrite(b, to: path, offset: offset, count: count, truncate: truncate)
                #expect(try h.wait() == 1)
            case .writeFrom:
                #expect(try await h.write(from: b, to: path, offset: offset, count: count, truncate: truncate) == count)
            case .submitWrite:
                let ticket = try h.submitWrite(from: b, to: path, offset: offset, count: count, truncate: truncate)
                #expect(try ticket.wait() == count)
                #expect(ticket.isComplete)
            }
        }
    }

    /// One read call of the handle's API.
    enum ReadCall: String, CaseIterable, CustomTestStringConvertible {
        case read, pread, preadAsync, syncPRead, asyncPRead, readInto, submitRead

        var testDescription: String { rawValue }

        func run(_ h: AIOHandle, _ b: AlignedBuffer, _ path: String, offset: Int64, count: Int)
            async throws(AsyncIOError) {
            switch self {
            case .read: #expect(try h.read(b, from: path, offset: offset, count: count) == count)
            case .pread: try h.pread(b, from: path, offset: offset, count: count, async: false)
            case .preadAsync:
                try h.pread(b, from: path, offset: offset, count: count, async: true)
                try h.wait()
            case .syncPRead: try h.syncPRead(b, from: path, offset: offset, count: count)
            case .asyncPRead:
                try h.asyncPRead(b, from: path, offset: offset, count: count)
                try h.wait()
            case .readInto: #expect(try await h.read(into: b, from: path, offset: offset, count: count) == count)
            case .submitRead:
                #expect(try await h.submitRead(into: b, from: path, offset: offset, count: count).value == count)
            }
        }
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
        try await call.run(handle, new, path, offset: 4096, count: 5000, truncate: true)
        expected = [UInt8](repeating: 0, count: 4096) + newBytes.prefix(5000)
        #expect(plainRead(path) == expected, "truncate: true")

        // A missing file is created, mode 0600.
        let fresh = dir.file("fresh")
        try await call.run(handle, new, fresh, offset: 10, count: 100, truncate: false)
        #expect(plainRead(fresh) == [UInt8](repeating: 0, count: 10) + newBytes.prefix(100))
        #expect(try FileSystem.status(of: fresh).permissions == 0o600)
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
        let tooMany = await #expect(throws: AsyncIOError.self) {
            try await call.run(handle, sink, path, offset: 0, count: sink.count + 1)
        }
        #expect(tooMany?.kind == .invalidArgument)
        #expect(!sink.isLent)
    }
}
