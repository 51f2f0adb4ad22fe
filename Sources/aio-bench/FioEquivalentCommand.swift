import AIOBench
import ArgumentParser
import AsyncIO

/// `aio-bench fio-equivalent`: the fio command that does the same I/O as one `io` configuration.
struct FioEquivalentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fio-equivalent",
        abstract: "Print the fio command with the same engine, block size, queue depth, jobs and sizes.",
        discussion: """
            Engines map as io_uring -> io_uring, aio -> libaio, posix -> psync, null -> null; auto becomes the \
            engine auto picks on this machine. --io_parallel N becomes N jobs, each on its own contiguous \
            slice of --io_size / N bytes of one file. The command is printed, not run.
            """)

    @Option(name: .customLong("folder"), help: "Folder of the data file.")
    var folder = "."

    @Option(name: [.customLong("io_size"), .customLong("io-size")], help: "Bytes in all (K/M/G suffixes).")
    var ioSize = "1G"

    @Flag(name: .customLong("read"), help: "Read (default: write).")
    var read = false

    @OptionGroup var knobs: KnobOptions

    func run() throws {
        let bench = try knobs.make()
        let size = try ByteSize.parse(ioSize, name: "--io_size")
        try bench.validated(for: BenchPlan(targets: [BenchTarget(folder: folder)], ioSize: size))
        let engine: FioEquivalent.Engine
        let resolved = EngineProbe.resolve(bench.engine).kind
        switch resolved {
        case .uring: engine = .ioUring
        case .aio: engine = .libaio
        case .posix, .auto: engine = .psync
        case .null: engine = .null
        }
        let fio = FioEquivalent(
            directory: folder, operation: read ? .read : .write, ioSize: size, blockSize: bench.blockSize,
            queueDepth: bench.queueDepth, ioParallel: bench.ioParallel, singleSubmit: bench.singleSubmit,
            engine: engine)
        if size % bench.ioParallel != 0 {
            warn("--io_size \(size) is not a multiple of --io_parallel \(bench.ioParallel): each fio job moves"
                + " \(fio.sizePerJob) bytes, \(size - fio.sizePerJob * bench.ioParallel) fewer in all")
        }
        if fio.sizePerJob % bench.blockSize != 0 {
            warn("each fio job's slice (\(fio.sizePerJob) bytes) is not a multiple of --block_size"
                + " \(bench.blockSize): fio's offsets would not be block-aligned and O_DIRECT may refuse them;"
                + " make --io_size a multiple of --io_parallel × --block_size")
        }
        if !bench.overlapEvents {
            warn("fio has no --sequential_requests: its jobs keep the queue topped up (overlap)")
        }
        if bench.engineOptions.sqpoll { warn("--sqpoll: add --sqthread_poll=1 to the fio command by hand") }
        say(fio.displayCommand)
    }
}
