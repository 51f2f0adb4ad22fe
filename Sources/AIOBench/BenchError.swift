import AsyncIO

/// The error type of `AIOBench`: a usage mistake (exit 64) or a runtime failure (exit 1),
/// each one line of text for stderr. A runtime failure that came from the system layer keeps
/// the `AsyncIOError` (operation, path, error number) it came from, so callers branch on `cause`,
/// never on message text.
public enum BenchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user asked for something that is not allowed; the text names the value and what is.
    case usage(String)
    /// Something failed while running; the text names the operation, the path and the kernel's error, and
    /// `cause` is the system error behind it when there is one.
    case runtime(String, cause: AsyncIOError? = nil)

    /// Wraps an engine error: an invalid argument is a usage mistake, the rest runtime failures.
    init(_ error: AsyncIOError) {
        self = error.kind == .invalidArgument ? .usage(error.description) : .runtime(error.description, cause: error)
    }

    /// The system error behind a runtime failure, if any.
    var cause: AsyncIOError? {
        if case .runtime(_, let cause) = self { return cause }
        return nil
    }

    /// Whether the failure is the device's (out of space or quota, an I/O error, a read-only
    /// file system): a sweep stops on it instead of going on to the next configuration.
    var isDeviceFailure: Bool {
        guard let cause else { return false }
        return cause.isOutOfSpace || cause.code == .ioError || cause.code == .readOnlyFileSystem
    }

    /// The one line to print.
    public var description: String {
        switch self {
        case .usage(let text), .runtime(let text, _): text
        }
    }

    /// The process exit status: 64 for usage, 1 for runtime failures.
    public var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .runtime: 1
        }
    }
}
