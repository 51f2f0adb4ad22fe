import AsyncIO

extension FioEquivalent.Engine {
    /// The fio engine with the same kernel interface as `kind` once resolved on this machine:
    /// io_uring → io_uring, aio → libaio, posix → psync, null → null; `auto` becomes what auto picks.
    public init(resolving kind: EngineKind) {
        switch EngineProbe.resolve(kind).kind {
        case .uring: self = .ioUring
        case .aio: self = .libaio
        case .null: self = .null
        case .posix, .auto: self = .psync
        }
    }
}

extension FioEquivalent {
    /// The fio run that does the same I/O as `aio-bench io` with `knobs` on `ioSize` bytes in
    /// `directory`: the engine resolved on this machine, `ioParallel` jobs of `ioSize / ioParallel` bytes.
    ///
    /// - Throws: `BenchError.usage` when the knobs do not fit `ioSize` (as `io` would refuse them).
    public init(directory: String, operation: IOOperation, ioSize: Int, knobs: BenchKnobs)
        throws(BenchError)
    {
        try knobs.validated(for: BenchPlan(targets: [BenchTarget(folder: directory)], ioSize: ioSize))
        self.init(
            directory: directory, operation: operation, ioSize: ioSize, blockSize: knobs.blockSize,
            queueDepth: knobs.queueDepth, ioParallel: knobs.ioParallel, singleSubmit: knobs.singleSubmit,
            engine: Engine(resolving: knobs.engine))
    }

    /// Where this fio run differs from `aio-bench io` with `knobs` on `ioSize` bytes, one warning each:
    /// bytes lost to whole division, slices that are not block-aligned, no sequential mode, SQPOLL.
    public func differences(ioSize: Int, knobs: BenchKnobs) -> [String] {
        var warnings: [String] = []
        if ioSize % knobs.ioParallel != 0 {
            warnings.append("--io_size \(ioSize) is not a multiple of --io_parallel \(knobs.ioParallel): each fio job"
                + " moves \(sizePerJob) bytes, \(ioSize - sizePerJob * knobs.ioParallel) fewer in all")
        }
        if sizePerJob % knobs.blockSize != 0 {
            warnings.append("each fio job's slice (\(sizePerJob) bytes) is not a multiple of --block_size"
                + " \(knobs.blockSize): fio's offsets would not be block-aligned and O_DIRECT may refuse them;"
                + " make --io_size a multiple of --io_parallel × --block_size")
        }
        if !knobs.overlapEvents {
            warnings.append("fio has no --sequential_requests: its jobs keep the queue topped up (overlap)")
        }
        if knobs.engineOptions.sqpoll { warnings.append("--sqpoll: add --sqthread_poll=1 to the fio command by hand") }
        return warnings
    }
}
