import AsyncIO
import Foundation

extension SweepSpace {
    /// The keys a sweep config may use.
    enum Key: String, CaseIterable, Hashable, Sendable {
        /// Block sizes: `"1M"`, `"128K"`, `1048576`.
        case blockSize = "block_size"
        /// Queue depths.
        case queueDepth = "queue_depth"
        /// Sequential (batch) submission on or off.
        case sequentialRequests = "sequential_requests"
        /// One submit call per request on or off.
        case singleSubmit = "single_submit"
        /// Worker threads per operation.
        case intraOpParallelism = "io_parallel"
        /// The inverse of `sequential_requests` (DeepSpeed's `single_process_config.json`).
        case overlapEvents = "overlap_events"
        /// Tasks per folder (DeepSpeed's `single_process_config.json`).
        case threads
        /// Tasks per folder, as `ds_io --multi_process` spells it.
        case multiProcess = "multi_process"
        /// The engine (aio-bench only), by any name `EngineName` accepts; `auto` runs the sweep's `--engine`.
        case engine
    }

    /// The keys a sweep config may use, as written in JSON.
    static var validKeys: [String] { Key.allCases.map(\.rawValue) }

    /// Parses a sweep config: a JSON object mapping keys to lists of values. Keys it does not set keep
    /// one default value (block size `1M`, queue depth 32, overlap, batch submit, io parallel 1, one task
    /// per folder, the default engine).
    ///
    /// - Parameters:
    ///   - json: the file's bytes.
    ///   - source: how to name the config in messages, e.g. its path.
    ///   - folderCount: folders mapped to devices (one per `--nvme_dir`).
    /// - Throws: `BenchError.usage`, one line naming the key or value and what is allowed.
    package init(json: Data, source: String = "sweep config", folderCount: Int = 1) throws(BenchError) {
        let root: JSONValue
        do throws(JSONError) {
            var parser = JSONParser(bytes: Array(json))
            root = try parser.parseDocument()
        } catch {
            throw .usage("\(source) is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = root else {
            throw .usage("\(source) must be a JSON object mapping keys to lists, e.g. {\"queue_depth\": [32, 128]};"
                + " found \(root.kind)")
        }
        var space = SweepSpace.deepSpeedDefault
        space.blockSizes = [SweepBlockSize(text: "1M", bytes: SweepConfiguration.defaultBlockSize)]
        space.queueDepths = [SweepConfiguration.defaultQueueDepth]
        space.sequentialRequests = [false]
        space.singleSubmit = [false]
        space.intraOpParallelism = [1]
        space.order = []
        var seen: [Key] = []
        for (name, value) in members {
            guard let key = Key(rawValue: name) else {
                throw .usage("\(source): unknown key \"\(name)\"; valid keys are "
                    + Self.validKeys.joined(separator: ", "))
            }
            guard case .array(let values) = value else {
                throw .usage("\(source): \"\(name)\" must be a list of values, e.g. \"\(name)\": \(key.example);"
                    + " found \(value.shown)")
            }
            guard !values.isEmpty else {
                throw .usage("\(source): \"\(name)\" is an empty list: give at least one value, e.g. \(key.example)")
            }
            let context = "\(source): \"\(name)\""
            let axis: Axis
            switch key {
            case .blockSize:
                axis = .blockSize
                space.blockSizes = try values.map { value throws(BenchError) in try Self.blockSize(value, context) }
                try Self.checkList(space.blockSizes.map { "\($0.bytes)" }, context: context, shown: values.map(\.shown))
            case .queueDepth, .intraOpParallelism, .threads, .multiProcess:
                let numbers = try values.map { value throws(BenchError) in try Self.positive(value, context) }
                try Self.checkList(numbers.map(String.init), context: context, shown: values.map(\.shown))
                switch key {
                case .queueDepth: axis = .queueDepth; space.queueDepths = numbers
                case .intraOpParallelism: axis = .intraOpParallelism; space.intraOpParallelism = numbers
                default: axis = .tasksPerFolder; space.tasksPerFolder = numbers
                }
            case .sequentialRequests, .overlapEvents, .singleSubmit:
                let flags = try values.map { value throws(BenchError) in try Self.flag(value, context) }
                try Self.checkList(flags.map(String.init), context: context, shown: values.map(\.shown))
                switch key {
                case .singleSubmit: axis = .singleSubmit; space.singleSubmit = flags
                case .overlapEvents: axis = .sequentialRequests; space.sequentialRequests = flags.map { !$0 }
                default: axis = .sequentialRequests; space.sequentialRequests = flags
                }
            case .engine:
                axis = .engine
                space.engines = try values.map { value throws(BenchError) in try Self.engine(value, context) }
                try Self.checkList(space.engines.map { $0?.rawValue ?? "auto" }, context: context,
                                   shown: values.map(\.shown))
            }
            if let clash = seen.first(where: { Self.axis(of: $0) == axis }) {
                throw .usage("\(source): \"\(clash.rawValue)\" and \"\(name)\" set the same thing"
                    + Self.clashDetail(clash, key) + "; use one of them")
            }
            seen.append(key)
            space.order.append(axis)
        }
        for axis in [Axis.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .intraOpParallelism,
                     .tasksPerFolder, .engine] where !space.order.contains(axis) {
            space.order.append(axis)
        }
        guard folderCount > 0 else {
            throw .usage("folder count \(folderCount) is not allowed: expected at least one folder")
        }
        space.folderCount = folderCount
        try space.checkSize(source: source)
        self = space
    }

    /// Reads and parses a sweep config file (see `init(json:source:folderCount:)`). `-` is standard
    /// input; pipes and process substitution (`<(...)`) are read like files.
    ///
    /// - Throws: `BenchError.usage` when the file cannot be read, is empty or is not a valid sweep config.
    init(contentsOfFile path: String, folderCount: Int = 1) throws(BenchError) {
        let source = path == "-" ? "sweep config on standard input" : "sweep config \(path)"
        if (try? FileSystem.status(of: path))?.kind == .directory {
            throw .usage("\(source) cannot be read: it is a folder")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.contents(of: path == "-" ? "/dev/stdin" : path, limit: 16 << 20)
        } catch {
            let reason = error.code == .noSuchFile ? "no such file"
                : error.code == .fileTooLarge ? "larger than 16 MiB" : error.reason
            throw .usage("\(source) cannot be read: \(reason)")
        }
        guard !bytes.isEmpty else { throw .usage("\(source) is empty: expected a JSON object of lists") }
        try self.init(json: Data(bytes), source: source, folderCount: folderCount)
    }

    private static func blockSize(_ value: JSONValue, _ context: String) throws(BenchError) -> SweepBlockSize {
        let allowed = "expected a positive size such as \"1M\", \"128K\", \"2G\" or 1048576"
        switch value {
        case .string(let text):
            do {
                return try SweepBlockSize(text)
            } catch {
                throw .usage("\(context) value \(value.shown) is not allowed: \(allowed)")
            }
        case .number(let text, isInteger: true):
            guard let bytes = Int(text), bytes > 0 else {
                throw .usage("\(context) value \(text) is not allowed: \(allowed)")
            }
            return SweepBlockSize(bytes: bytes)
        default:
            throw .usage("\(context) value \(value.shown) is not allowed: \(allowed)")
        }
    }

    private static func positive(_ value: JSONValue, _ context: String) throws(BenchError) -> Int {
        let allowed = "expected a whole number greater than 0, e.g. 32"
        let text: String
        switch value {
        case .number(let digits, isInteger: true): text = digits
        case .string(let string): text = string.trimmingWhitespace()
        default: throw .usage("\(context) value \(value.shown) is not allowed: \(allowed)")
        }
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text), number > 0
        else { throw .usage("\(context) value \(value.shown) is not allowed: \(allowed)") }
        return number
    }

    private static func flag(_ value: JSONValue, _ context: String) throws(BenchError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .string(let text) where text.lowercased() == "true": return true
        case .string(let text) where text.lowercased() == "false": return false
        default: throw .usage("\(context) value \(value.shown) is not allowed: expected true or false")
        }
    }

    /// An engine by any of its names (`EngineName`); `auto` is nil: the sweep's `--engine`.
    private static func engine(_ value: JSONValue, _ context: String) throws(BenchError) -> EngineKind? {
        guard case .string(let name) = value, let kind = try? EngineName.parse(name) else {
            throw .usage("\(context) value \(value.shown) is not allowed: expected one of \(EngineName.accepted)")
        }
        return kind == .auto ? nil : kind
    }
}

extension SweepSpace.Key {
    fileprivate var example: String {
        switch self {
        case .blockSize: "[\"1M\", \"8M\"]"
        case .queueDepth: "[32, 128]"
        case .sequentialRequests, .overlapEvents, .singleSubmit: "[true, false]"
        case .intraOpParallelism: "[1, 2, 4, 8]"
        case .threads, .multiProcess: "[1, 2]"
        case .engine: "[\"io_uring\", \"aio\"]"
        }
    }
}
