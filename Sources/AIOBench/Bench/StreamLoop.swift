import AsyncIO
import Foundation

/// `io --stream`: the loop through `StreamWriter` and `StreamReader` instead of whole-buffer
/// operations. Writes come from an ordinary `[UInt8]` (neither aligned nor page-locked: the slice
/// starts one byte into the array); reads touch every byte of each borrowed chunk (a checksum) and
/// drop it. Timing, barriers and results are those of `runLoop`.
extension BenchRunner {
    /// The ordinary memory each task streams from: `--io_size` bytes one byte into an array.
    struct StreamSource: Sendable {
        let bytes: [UInt8]
        var payload: ArraySlice<UInt8> { bytes[1...] }
    }

    /// One array per task of seeded pseudo-random bytes (made once per runner).
    func makeStreamSources() -> [StreamSource] {
        (0..<plan.taskCount).map { task in
            var rng = SplitMix64(seed: UInt64(task + 1) &* 0x9E37_79B9)
            var bytes = [UInt8](repeating: 0, count: plan.ioSize + 1)
            var i = 1
            while i < bytes.count {
                var word = rng.next()
                for _ in 0..<min(8, bytes.count - i) {
                    bytes[i] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    i += 1
                }
            }
            return StreamSource(bytes: bytes)
        }
    }

    /// One streamed loop: every task waits at a barrier, then streams its file.
    func runStreamLoop(_ operation: IOOperation, handles: [AIOHandle], paths: [String], rings: [BounceBuffers],
                       sources: [StreamSource]) -> (LoopOutcome, checksums: [UInt64]) {
        let streamAsync = plan.streamAsync
        let run = BenchRunner.releasedTogether(tasks: handles.count) { t throws(AsyncIOError) -> UInt64 in
            let (handle, path, ring) = (handles[t], paths[t], rings[t])
            let source = operation == .write ? sources[t] : nil
            if operation == .read && !streamAsync {
                // Each task has a thread of its own: the reader waits in the kernel on it.
                return try BenchRunner.streamBlocking(handle: handle, path: path, ring: ring)
            }
            return try runBlocking { () async throws(AsyncIOError) -> UInt64 in
                try await BenchRunner.stream(operation, handle: handle, path: path, ring: ring, source: source)
            }
        }
        return (run.outcome, run.values.map { $0 ?? 0 })
    }

    /// Streams one file through the task's bounce buffers (allocated once, before the loops, as the
    /// whole-buffer runs allocate theirs): writes `source` through a `StreamWriter`, or reads the
    /// file through a `StreamReader`; returns the checksum of what was read (0 for a write).
    static func stream(_ operation: IOOperation, handle: AIOHandle, path: String, ring: BounceBuffers,
                       source: StreamSource?) async throws(AsyncIOError) -> UInt64 {
        if operation == .write, let source {
            var opened: StreamWriter?
            // Created under the scratch registry's gate, so Ctrl-C never leaves it behind.
            try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                opened = try StreamWriter(path: path, handle: handle, buffers: ring, expectedSize: Int64(source.payload.count))
            }
            guard var writer = opened.take() else { return 0 }
            try await writer.write(source.payload)
            // The flush is timed apart (`BenchRunner.syncStreamed`): a whole-buffer write has none.
            try await writer.finish(durable: false)
            return 0
        }
        var sum: UInt64 = 0
        let chunkSize = streamChunkSize(handle.config, bufferSize: ring.size)
        for try await chunk in try StreamReader(path: path, handle: handle, buffers: ring, chunkSize: chunkSize) {
            sum = chunk.withBytes { BenchRunner.checksum($0, continuing: sum) }
        }
        return sum
    }

    /// Reads `path` with the reader's blocking `forEachChunk` on the calling thread; returns the
    /// checksum of what was read.
    static func streamBlocking(handle: AIOHandle, path: String, ring: BounceBuffers) throws(AsyncIOError) -> UInt64 {
        var sum: UInt64 = 0
        let chunkSize = streamChunkSize(handle.config, bufferSize: ring.size)
        try StreamReader(path: path, handle: handle, buffers: ring, chunkSize: chunkSize).forEachChunk { bytes, _ in
            sum = BenchRunner.checksum(bytes, continuing: sum)
        }
        return sum
    }

    /// The chunk a streamed read hands out: one request per worker (`blockSize` x
    /// `intraOpParallelism`) when that divides the bounce buffer, so each chunk goes back to the
    /// kernel as soon as it is checksummed and the queues stay nearly full; else a whole buffer.
    static func streamChunkSize(_ config: HandleConfig, bufferSize: Int) -> Int {
        let (perRound, overflow) = config.blockSize.multipliedReportingOverflow(by: config.intraOpParallelism)
        guard !overflow, perRound > 0, perRound % 4096 == 0, perRound <= bufferSize, bufferSize % perRound == 0 else {
            return bufferSize
        }
        return perRound
    }

    /// A checksum that reads every byte: 256-byte blocks summed in 16 bits (a loop the compiler
    /// vectorises, about 10 GB/s here), the block sums combined in order. Chunks are multiples of
    /// 256 bytes but for the last, so the checksum of a file does not depend on how it is cut:
    /// pass the checksum so far as `continuing`.
    static func checksum(_ bytes: Span<UInt8>, continuing total: UInt64 = 0) -> UInt64 {
        var total = total
        var i = 0
        let count = bytes.count
        while i < count {
            let end = min(i + 256, count)
            var sum: UInt16 = 0  // 256 x 255 < 65536
            for j in i..<end { sum &+= UInt16(bytes[j]) }
            total = total &* 31 &+ UInt64(sum)
            i = end
        }
        return total
    }

    /// Flushes a streamed write loop's files (`fsync`, the device's write cache included), outside the
    /// loop's time; returns the seconds it took.
    func syncStreamed(_ paths: [String]) throws(BenchError) -> Double {
        let start = monotonicNanos()
        for path in paths {
            do {
                try FileSystem.syncFile(path)
            } catch {
                throw .runtime("fsync of the streamed file \(path): \(error.reasonWithNumber)", cause: error)
            }
        }
        return Double(monotonicNanos() - start) / 1e9
    }

    /// Checks a streamed run: a written file must equal its source (read back through the page
    /// cache); every loop's read checksum must equal that of the file read through the page cache.
    func validateStream(_ operation: IOOperation, sources: [StreamSource], checksums: [[UInt64]])
        throws(BenchError) -> Bool {
        let lastLoop = plan.warmupLoops + plan.loops - 1
        let paths = (0..<plan.taskCount).map { dataFile(task: $0, operation: operation, loop: lastLoop) }
        let size = plan.ioSize
        let bufferSize = plan.streamBufferSize ?? StreamWriter.defaultBufferSize
        do {
            return try runBlocking { () async throws(AsyncIOError) -> Bool in
                let reader = try AIOHandle(HandleConfig(blockSize: 1 << 20, queueDepth: 1, engine: .posix,
                                                        direct: false))
                for (task, path) in paths.enumerated() {
                    let sum = try await BenchRunner.checkStreamed(path, reader: reader, size: size, bufferSize: bufferSize,
                                                                  source: operation == .write ? sources[task] : nil)
                    guard let sum else { return false }
                    if operation == .read, checksums[task].contains(where: { $0 != sum }) { return false }
                }
                return true
            }
        } catch {
            throw .runtime("validate: \(error.description)", cause: error)
        }
    }

    /// Reads `path` through the page cache: nil when it is not `size` bytes or differs from
    /// `source`, else its checksum.
    private static func checkStreamed(_ path: String, reader: AIOHandle, size: Int, bufferSize: Int,
                                      source: StreamSource?) async throws(AsyncIOError) -> UInt64? {
        var sum: UInt64 = 0
        var position = 1
        for try await chunk in try StreamReader(path: path, handle: reader, bufferSize: bufferSize) {
            sum = chunk.withBytes { BenchRunner.checksum($0, continuing: sum) }
            if let bytes = source?.bytes {
                guard position + chunk.count <= bytes.count else { return nil }
                let from = position
                let equal = chunk.withBytes { span in span.indices.allSatisfy { span[$0] == bytes[from + $0] } }
                if !equal { return nil }
            }
            position += chunk.count
        }
        return position - 1 == size ? sum : nil
    }
}
