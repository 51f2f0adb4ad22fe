import AsyncIO

extension BenchRunner {
    /// The simulated device stores nothing: its reads return `SimulatedDevice`'s pattern, and writes
    /// send the pattern. The buffers must hold it after a simulated write or read.
    func validateSimulated() -> Bool {
        guard let expected = try? AlignedBuffer(count: plan.ioSize, lock: false, hugePages: false) else { return false }
        expected.fillPattern()
        return buffers.allSatisfy { $0.contentsEqual(expected, length: plan.ioSize) }
    }

    /// Compares the task buffers with the files' contents read back through the page cache, a
    /// chunk at a time; a file shorter than `--io_size` is not equal.
    func validate(_ operation: IOOperation) throws(BenchError) -> Bool {
        let chunk = min(1 << 20, max(plan.ioSize, 1))
        let lastLoop = plan.warmupLoops + plan.loops - 1
        do {
            let scratch = try AlignedBuffer(count: chunk, lock: false, hugePages: false)
            let reader = try AIOHandle(HandleConfig(blockSize: chunk, queueDepth: 1, engine: .posix, direct: false))
            for task in 0..<plan.taskCount {
                let path = dataFile(task: task, operation: operation, loop: lastLoop)
                var offset = 0
                while offset < plan.ioSize {
                    let want = min(chunk, plan.ioSize - offset)
                    do {
                        try reader.submitRead(into: scratch, from: path, offset: Int64(offset), count: want).wait()
                    } catch where error.kind == .unexpectedEndOfFile {
                        return false
                    }
                    if !buffers[task].contentsEqual(from: offset, to: scratch, length: want) { return false }
                    offset += want
                }
            }
        } catch {
            throw .runtime("validate: \(error.description)", cause: error)
        }
        return true
    }
}
