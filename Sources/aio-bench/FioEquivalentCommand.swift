import AIOBench
import ArgumentParser

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

    @Option(name: [.customLong("io_size"), .customLong("io-size")],
            help: .abstract("Bytes in all (K/M/G suffixes).", default: FioEquivalentCommand.defaultIOSize),
            transform: ByteCount.parser("--io_size"))
    var ioSize = FioEquivalentCommand.defaultIOSize

    @Flag(name: .customLong("read"), help: "Read (default: write).")
    var read = false

    @OptionGroup var knobs: KnobOptions

    /// 1 GiB in all.
    static let defaultIOSize = ByteCount(bytes: 1 << 30)

    func run() throws {
        let config = try knobs.make()
        let fio = try FioEquivalent(directory: folder, operation: read ? .read : .write, ioSize: ioSize.bytes,
                                    config: config)
        for warning in fio.differences(ioSize: ioSize.bytes, config: config) { warn(warning) }
        say(fio.displayCommand)
    }
}
