import AsyncIO

extension FioEquivalent.Engine {
    /// The fio engine with the same kernel interface as `kind` once resolved on this machine:
    /// io_uring → io_uring, aio → libaio, posix → psync, null → null; `auto` becomes what auto picks.
    init(resolving kind: EngineKind) {
        switch EngineProbe.resolve(kind).kind {
        case .uring: self = .ioUring
        case .aio: self = .libaio
        case .null, .sim: self = .null
        case .posix, .auto: self = .psync
        }
    }
}

extension FioEquivalent {
    /// The fio run that does the same I/O as `aio-bench io` with `config` on `ioSize` bytes in
    /// `directory`: the engine resolved on this machine, `intraOpParallelism` jobs of `ioSize / intraOpParallelism` bytes.
    ///
    /// - Throws: `BenchError.usage` when the knobs do not fit `ioSize` (as `io` would refuse them).
    public init(directory: String, operation: IOOperation, ioSize: Int, config: HandleConfig)
        throws(BenchError)
    {
        try BenchPlan(targets: [BenchTarget(folder: directory)], ioSize: ioSize).validate(config)
        self.init(
            directory: directory, operation: operation, ioSize: ioSize, blockSize: config.blockSize,
            queueDepth: config.queueDepth, intraOpParallelism: config.intraOpParallelism,
            singleSubmit: config.singleSubmit, engine: Engine(resolving: config.engine))
    }

    /// Where this fio run differs from `aio-bench io` with `config` on `ioSize` bytes, one warning each:
    /// bytes lost to whole division, slices that are not block-aligned, no sequential mode, SQPOLL.
    public func differences(ioSize: Int, config knobs: HandleConfig) -> [String] {
        var warnings: [String] = []
        if ioSize % knobs.intraOpParallelism != 0 {
            warnings.append("--io_size \(ioSize) is not a multiple of --io_parallel \(knobs.intraOpParallelism): each fio job"
                + " moves \(sizePerJob) bytes, \(ioSize - sizePerJob * knobs.intraOpParallelism) fewer in all")
        }
        if sizePerJob % knobs.blockSize != 0 {
            warnings.append("each fio job's slice (\(sizePerJob) bytes) is not a multiple of --block_size"
                + " \(knobs.blockSize): fio's offsets would not be block-aligned and O_DIRECT may refuse them;"
                + " make --io_size a multiple of --io_parallel × --block_size")
        }
        if !knobs.overlapEvents {
            warnings.append("fio has no --sequential_requests: its jobs keep the queue topped up (overlap)")
        }
        if knobs.engineOptions.uring.sqpoll { warnings.append("--sqpoll: add --sqthread_poll=1 to the fio command by hand") }
        return warnings
    }
}
