import AIOBench
import ArgumentParser
import AsyncIO

/// A byte count on the command line (`400M`, `1G`, `4096`), parsed by `ByteSize.parse`.
///
/// Options declare it with `transform: ByteCount.parser("--flag")` rather than through
/// `init?(argument:)`: a failable initializer cannot say why a value is wrong, and the message must
/// name the flag, the value and what is allowed.
struct ByteCount: ExpressibleByArgument, Sendable, Equatable {
    /// The number of bytes (> 0).
    let bytes: Int

    /// A byte count known to be valid.
    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        guard let bytes = try? ByteSize.parse(argument) else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { ByteSize.compact(bytes) }

    /// The parser of option `flag`, for `@Option(transform:)`: a bad value throws `ByteSize.parse`'s
    /// usage error, which names the flag, the value and what is allowed.
    static func parser(_ flag: String) -> @Sendable (String) throws -> ByteCount {
        { text in ByteCount(bytes: try ByteSize.parse(text, name: flag)) }
    }
}

/// Engine names as `EngineName.parse` accepts them (`io_uring`, `aio`, `libaio`, ...).
extension EngineKind: ExpressibleByArgument {
    public init?(argument: String) {
        guard let kind = try? EngineName.parse(argument) else { return nil }
        self = kind
    }

    public var defaultValueDescription: String { rawValue }

    /// The parser of `--engine`, for `@Option(transform:)`: a bad or unsupported name throws
    /// `EngineName.parse`'s usage error, which names the value and the accepted names.
    static let parser: @Sendable (String) throws -> EngineKind = { text in try EngineName.parse(text) }
}

/// `deepspeed` or `native`.
extension MeasurementTarget: ExpressibleByArgument {}

/// `auto`, `allowed` or `avoided`.
extension RequestMerging: ExpressibleByArgument {}

extension ArgumentHelp {
    /// `abstract` followed by `(default: ...)`, as ArgumentParser writes it for an option without a
    /// `transform:`; options with one (`ByteCount`, `EngineKind`, whose errors must name the flag and
    /// what is allowed) get no default of their own in `--help`.
    static func abstract(_ abstract: String, default value: some ExpressibleByArgument) -> ArgumentHelp {
        ArgumentHelp("\(abstract) (default: \(value.defaultValueDescription))")
    }
}

/// The `BenchError` a value parser threw while ArgumentParser parsed the command line, found in the
/// error ArgumentParser wraps it in; nil for every other error.
///
/// ArgumentParser reports such an error as "The value 'X' is invalid for '--flag <flag>': <error>"; the
/// tool prints the `BenchError`'s own line instead, the same line a command would print. The wrapper
/// types are internal to ArgumentParser, so they are searched with `Mirror`; should that fail after an
/// update, ArgumentParser's longer line is printed, which still holds the whole message.
func benchError(wrappedIn error: any Error) -> BenchError? {
    func search(_ value: Any, depth: Int) -> BenchError? {
        if let found = value as? BenchError { return found }
        guard depth < 6 else { return nil }
        for child in Mirror(reflecting: value).children {
            if let found = search(child.value, depth: depth + 1) { return found }
        }
        return nil
    }
    return search(error, depth: 0)
}
