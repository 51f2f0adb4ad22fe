import AsyncIO
import Glibc

extension BenchRunner {
    /// Compares the task buffers with the files' contents read through the page cache.
    func validate(_ operation: IOOperation) throws(BenchError) -> Bool {
        let chunk = 1 << 20
        var scratch = [UInt8](repeating: 0, count: chunk)
        let lastLoop = plan.warmupLoops + plan.loops - 1
        for task in 0..<plan.taskCount {
            let path = dataFile(task: task, operation: operation, loop: lastLoop)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .runtime("validate: open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var offset = 0
            while offset < plan.ioSize {
                let want = min(chunk, plan.ioSize - offset)
                let got = scratch.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
                guard got == want else { return false }
                let same = buffers[task].withUnsafeBytes { mem in
                    scratch.withUnsafeBytes { memcmp(mem.baseAddress! + offset, $0.baseAddress!, want) == 0 }
                }
                if !same { return false }
                offset += want
            }
        }
        return true
    }
}
