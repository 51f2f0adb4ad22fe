import AsyncIO
import Foundation
import Testing

/// A buffer lent to an operation in flight: held by it, and refused to the CPU (a precondition
/// failure with a clear message, checked in a child process by exit tests).
@Suite("Buffers lent to operations in flight")
struct BufferLoanTests {
    /// A file of `size` bytes and a handle of small, one-at-a-time requests, so an operation on
    /// it stays in flight for thousands of requests.
    static func slowSetup(_ name: String, size: Int) throws -> (AIOHandle, String, ScratchFolder) {
        let dir = ScratchFolder(name)
        let path = dir.file("f")
        plainWrite(path, [UInt8](repeating: 7, count: size))
        let handle = try AIOHandle(HandleConfig(blockSize: 4096, queueDepth: 1))
        return (handle, path, dir)
    }

    @Test("lent from submission to completion, then free: the operation holds the buffer alone")
    func lentWhileInFlight() async throws {
        let (handle, path, dir) = try Self.slowSetup("loan", size: 8 << 20)
        weak var weakBuffer: AlignedBuffer?
        var ticket: IOTicket?
        do {
            let buffer = try AlignedBuffer(count: 8 << 20, lock: false)
            weakBuffer = buffer
            ticket = try handle.submitRead(into: buffer, from: path)
            #expect(buffer.isLent)
        }
        // The caller dropped its reference; the operation still holds the buffer.
        #expect(weakBuffer != nil || ticket!.isComplete)
        #expect(try await ticket!.value == 8 << 20)
        ticket = nil
        // The worker that reported the operation may hold it a moment longer (it resumed this task
        // from inside its report): look again for up to 2 s. A buffer kept for good stays.
        for _ in 0..<40 where weakBuffer != nil { try await Task.sleep(for: .milliseconds(50)) }
        #expect(weakBuffer == nil, "freed once the operation is done and nobody holds it")
        _ = dir
    }

    @Test("changing a buffer lent to a read stops the process with a message naming the loan")
    func mutateDuringRead() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let (handle, path, dir) = try BufferLoanTests.slowSetup("loan-x1", size: 16 << 20)
            let buffer = try AlignedBuffer(count: 16 << 20, lock: false)
            _ = try handle.submitRead(into: buffer, from: path)
            buffer.withUnsafeMutableBytes { $0[0] = 1 }
            _ = dir
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("withUnsafeMutableBytes: the buffer is lent to 1 operation(s) in flight"), "\(text)")
        #expect(text.contains("(the latest: read of ") && text.contains(" at offset 0)"), "names the holder: \(text)")
        ScratchFolder.removeOrphans("loan-x1")
        #expect(ScratchFolder.orphans("loan-x1").isEmpty)
    }

    @Test("filling a buffer lent to a write stops the process")
    func fillDuringWrite() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let (handle, _, dir) = try BufferLoanTests.slowSetup("loan-x2", size: 0)
            let buffer = try AlignedBuffer(count: 16 << 20, lock: false)
            _ = try handle.submitWrite(from: buffer, to: dir.file("w"))
            buffer.fillRandom(seed: 1)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("fillRandom: the buffer is lent"), "\(text)")
        ScratchFolder.removeOrphans("loan-x2")
        #expect(ScratchFolder.orphans("loan-x2").isEmpty)
    }

    @Test("reading the bytes of a buffer a read is filling stops the process")
    func readDuringRead() async {
        await #expect(processExitsWith: .failure) {
            let (handle, path, dir) = try BufferLoanTests.slowSetup("loan-x3", size: 16 << 20)
            let buffer = try AlignedBuffer(count: 16 << 20, lock: false)
            _ = try handle.submitRead(into: buffer, from: path)
            let byte: UInt8 = buffer.withUnsafeBytes { $0[0] }
            print(byte)
            _ = dir
        }
        ScratchFolder.removeOrphans("loan-x3")
        #expect(ScratchFolder.orphans("loan-x3").isEmpty)
    }

    @Test("reading a buffer a write is sending is allowed, and so is everything once it is done")
    func allowed() async throws {
        let (handle, _, dir) = try Self.slowSetup("loan-ok", size: 0)
        let buffer = try randomBuffer(8 << 20, seed: 3)
        let ticket = try handle.submitWrite(from: buffer, to: dir.file("w"))
        let first: UInt8 = buffer.withUnsafeBytes { $0[0] }
        #expect(try await ticket.value == buffer.count)
        buffer.withUnsafeMutableBytes { $0[0] = first &+ 1 }
        #expect(!buffer.isLent)
    }
}
