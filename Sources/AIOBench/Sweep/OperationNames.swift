import AsyncIO

/// The names DeepSpeed gives each operation's folders and result lines.
extension IOOperation {
    /// The folder of this operation's logs inside the log root: `_aio_bench_read_logs`.
    var logFolderName: String { "_aio_bench_\(rawValue)_logs" }

    /// The folder of this operation's test files inside a benchmark folder: `_aio_bench_read_io`.
    var ioFolderName: String { "_aio_bench_\(rawValue)_io" }

    /// The word DeepSpeed's result lines use: `Read` or `Write`.
    var title: String { self == .read ? "Read" : "Write" }
}
