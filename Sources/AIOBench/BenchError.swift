import AsyncIO

/// The error type of `AIOBench`: a usage mistake (exit 64) or a runtime failure (exit 1),
/// each one line of text for stderr.
public enum BenchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user asked for something that is not allowed; the text names the value and what is.
    case usage(String)
    /// Something failed while running; the text names the operation, the path and errno.
    case runtime(String)

    /// Wraps an engine error as a runtime failure.
    public init(_ error: AsyncIOError) {
        self = error.kind == .invalidArgument ? .usage(error.description) : .runtime(error.description)
    }

    /// The one line to print.
    public var description: String {
        switch self {
        case .usage(let text), .runtime(let text): text
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
