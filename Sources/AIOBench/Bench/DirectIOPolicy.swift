import AsyncIO

/// Whether folders can take direct I/O (`O_DIRECT`), and with which block sizes: the one check
/// `io` and `sweep` run before anything is created.
enum DirectIOPolicy {
    /// Checks that every folder supports direct I/O and, when `blockSize` is given, that it is a
    /// multiple of each folder's direct I/O alignment (from `IOFile.directIOAlignment(folder:)`).
    ///
    /// - Throws: `BenchError.usage` naming the folder, or the block size and the alignment.
    static func check(folders: [String], blockSize: Int? = nil) throws(BenchError) {
        for folder in folders {
            guard let align = IOFile.directIOAlignment(folder: folder) else {
                throw .usage("folder '\(folder)' does not support direct I/O (O_DIRECT): "
                    + "use --buffered, or a folder on a disk file system")
            }
            if let blockSize, blockSize % align != 0 {
                throw .usage("--block_size \(blockSize) is not a multiple of \(align), "
                    + "the direct I/O alignment of '\(folder)'")
            }
        }
    }
}

extension BenchPlan {
    /// Checks the plan, then `config` against it, then direct I/O on every target folder (unless the
    /// plan is buffered or the engine is `null`, which does no I/O).
    ///
    /// - Throws: `BenchError.usage`, one line naming the value and what is allowed.
    public func checkBeforeRun(config: HandleConfig) throws(BenchError) {
        try validated()
        try validate(config)
        guard !buffered, config.engine != .null else { return }
        try DirectIOPolicy.check(folders: targets.map(\.folder), blockSize: config.blockSize)
    }
}

extension SweepOptions {
    /// Checks direct I/O on every folder unless the sweep is buffered (block sizes come from the
    /// sweep space and are checked per configuration).
    ///
    /// - Throws: `BenchError.usage` naming the first folder that cannot take direct I/O.
    public func checkDirectIO() throws(BenchError) {
        guard !buffered else { return }
        try DirectIOPolicy.check(folders: nvmeDirs)
    }
}
