/// The operation a sweep measures, with the folder names DeepSpeed uses for it.
public enum SweepOperation: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    /// Reading a file into memory.
    case read
    /// Writing memory to a file.
    case write

    /// The folder of this operation's logs inside the log root: `_aio_bench_read_logs`.
    public var logFolderName: String { "_aio_bench_\(rawValue)_logs" }

    /// The folder of this operation's test files inside a benchmark folder: `_aio_bench_read_io`.
    public var ioFolderName: String { "_aio_bench_\(rawValue)_io" }

    /// The word DeepSpeed's result lines use: `Read` or `Write`.
    public var title: String { self == .read ? "Read" : "Write" }

    /// Read sorts before write, as in DeepSpeed's tuple keys.
    public static func < (lhs: SweepOperation, rhs: SweepOperation) -> Bool {
        lhs == .read && rhs == .write
    }
}
