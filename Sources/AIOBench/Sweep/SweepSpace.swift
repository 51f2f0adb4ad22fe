import AsyncIO
import Foundation

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

/// One point of a sweep: the five DeepNVMe handle knobs plus the task layout and engine.
public struct SweepConfiguration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The block size when a sweep does not set one: 1 MiB, written `1M`.
    public static let defaultBlockSize = 1 << 20
    /// The queue depth when a sweep does not set one: 32, `ds_io`'s default.
    ///
    /// DeepSpeed names such a log `d1` although `ds_io` runs it with 32; aio-bench names it after the
    /// queue depth it really uses.
    public static let defaultQueueDepth = 32

    /// Bytes per request.
    public var blockSize: Int
    /// The block size as written in the sweep config (`1M`, `128K`, `1048576`); it goes into log names.
    public var blockSizeText: String
    /// Requests in flight per worker.
    public var queueDepth: Int
    /// One submit call per request instead of one per batch.
    public var singleSubmit: Bool
    /// Wait for a whole batch before submitting the next (`overlap_events` is the inverse).
    public var sequentialRequests: Bool
    /// Worker threads one operation is split over (`intra_op_parallelism`).
    public var ioParallel: Int
    /// Tasks per folder (`threads` in a sweep config, `--multi_process` in `ds_io`).
    public var tasksPerFolder: Int
    /// Folders mapped to devices, one task group per folder (the `ftd` field of a log name).
    public var folderCount: Int
    /// The engine asked for (`io_uring`, `aio`, `posix`, ...), or nil for the tool's default.
    public var engine: String?

    /// Keeps requests in flight while others complete; the inverse of `sequentialRequests`.
    public var overlapEvents: Bool {
        get { !sequentialRequests }
        set { sequentialRequests = !newValue }
    }

    /// Creates a configuration; every parameter defaults to what a sweep uses when it does not set it.
    ///
    /// `blockSizeText` is kept when it is a plain number with an optional `K`, `M`, `G` or `T` that
    /// equals `blockSize`; otherwise the compact form of `blockSize` is used (`1M`).
    public init(
        blockSize: Int = SweepConfiguration.defaultBlockSize,
        blockSizeText: String? = nil,
        queueDepth: Int = SweepConfiguration.defaultQueueDepth,
        singleSubmit: Bool = false,
        sequentialRequests: Bool = false,
        ioParallel: Int = 1,
        tasksPerFolder: Int = 1,
        folderCount: Int = 1,
        engine: String? = nil
    ) {
        self.blockSize = blockSize
        self.blockSizeText = SweepConfiguration.nameText(blockSizeText, bytes: blockSize)
        self.queueDepth = queueDepth
        self.singleSubmit = singleSubmit
        self.sequentialRequests = sequentialRequests
        self.ioParallel = ioParallel
        self.tasksPerFolder = tasksPerFolder
        self.folderCount = folderCount
        self.engine = engine
    }

    /// The same configuration with the block size written in its compact form, so that `1M` and
    /// `1048576` compare equal; read and write results are matched on this.
    public var tuningIdentity: SweepConfiguration {
        var copy = self
        copy.blockSizeText = ByteSize.compact(blockSize)
        return copy
    }

    /// The log file name of this configuration, DeepSpeed's
    /// `<op>_<single|block>_<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>.txt`, with `_t<N>` and
    /// `_e<engine>` appended when asked (a sweep asks when those values vary).
    public func logFileName(operation: SweepOperation, tagTasksPerFolder: Bool = false,
                            tagEngine: Bool = false) -> String {
        var name = "\(operation.rawValue)_\(singleSubmit ? "single" : "block")_"
            + "\(sequentialRequests ? "sequential" : "overlap")_ftd\(folderCount)_d\(queueDepth)"
            + "_bs\(blockSizeText)_p\(ioParallel)"
        if tagTasksPerFolder { name += "_t\(tasksPerFolder)" }
        if tagEngine, let engine { name += "_e\(engine)" }
        return name + ".txt"
    }

    /// `block_size=1M queue_depth=32 single_submit=false sequential_requests=false io_parallel=1
    /// tasks_per_folder=1 folders=1`, then ` engine=<name>` when one is set.
    public var description: String {
        var text = "block_size=\(blockSizeText) queue_depth=\(queueDepth) single_submit=\(singleSubmit)"
            + " sequential_requests=\(sequentialRequests) io_parallel=\(ioParallel)"
            + " tasks_per_folder=\(tasksPerFolder) folders=\(folderCount)"
        if let engine { text += " engine=\(engine)" }
        return text
    }

    /// Whether `text` is a block size the way log names write it: digits and an optional K/M/G/T.
    static func isNameText(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGT".contains(last) { digits.removeLast() }
        guard let first = digits.first, first != "0" else { return false }
        return digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func nameText(_ text: String?, bytes: Int) -> String {
        if let text, isNameText(text), (try? ByteSize.parse(text)) == bytes { return text }
        return ByteSize.compact(bytes)
    }
}

/// A log file name taken apart: the operation and configuration it stands for.
public struct SweepLogName: Hashable, Sendable {
    /// The measured operation (first field).
    public var operation: SweepOperation
    /// The configuration the name describes; fields the name lacks take the sweep defaults.
    public var configuration: SweepConfiguration
    /// Whether the name carries the `_t<N>` tasks-per-folder tag.
    public var hasTasksPerFolderTag: Bool
    /// Whether the name carries the `_e<engine>` tag.
    public var hasEngineTag: Bool
    /// The file name itself, `read_block_overlap_ftd1_d32_bs1M_p1.txt`.
    public var fileName: String

    /// The name of a configuration's log, tagged as asked.
    public init(operation: SweepOperation, configuration: SweepConfiguration, tagTasksPerFolder: Bool = false,
                tagEngine: Bool = false) {
        self.operation = operation
        self.configuration = configuration
        self.hasTasksPerFolderTag = tagTasksPerFolder
        self.hasEngineTag = tagEngine && configuration.engine != nil
        self.fileName = configuration.logFileName(operation: operation, tagTasksPerFolder: tagTasksPerFolder,
                                                  tagEngine: tagEngine)
    }

    /// Parses a log file name (not a path) back into its operation and configuration; nil when the name
    /// is not `<op>_<single|block>_<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>[_t<N>][_e<engine>].txt`.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".txt") else { return nil }
        let stem = fileName.dropLast(4)
        let fields = stem.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 7, let operation = SweepOperation(rawValue: fields[0]) else { return nil }
        var config = SweepConfiguration()
        switch fields[1] {
        case "single": config.singleSubmit = true
        case "block": config.singleSubmit = false
        default: return nil
        }
        switch fields[2] {
        case "sequential": config.sequentialRequests = true
        case "overlap": config.sequentialRequests = false
        default: return nil
        }
        guard let folders = Self.positive(fields[3], prefix: "ftd"),
              let depth = Self.positive(fields[4], prefix: "d"),
              fields[5].hasPrefix("bs"),
              let parallel = Self.positive(fields[6], prefix: "p")
        else { return nil }
        let blockText = String(fields[5].dropFirst(2))
        guard SweepConfiguration.isNameText(blockText), let bytes = try? ByteSize.parse(blockText) else { return nil }
        config.folderCount = folders
        config.queueDepth = depth
        config.ioParallel = parallel
        config.blockSize = bytes
        config.blockSizeText = blockText
        var rest = fields[7...]
        var tasksTag = false
        if let first = rest.first, first.hasPrefix("t") {
            guard let tasks = Self.positive(first, prefix: "t") else { return nil }
            config.tasksPerFolder = tasks
            tasksTag = true
            rest = rest.dropFirst()
        }
        var engineTag = false
        if let first = rest.first {
            guard first.hasPrefix("e") else { return nil }
            let engine = String(first.dropFirst()) + rest.dropFirst().map { "_" + $0 }.joined()
            guard SweepSpace.isValidEngineName(engine) else { return nil }
            config.engine = engine
            engineTag = true
        }
        self.operation = operation
        self.configuration = config
        self.hasTasksPerFolderTag = tasksTag
        self.hasEngineTag = engineTag
        self.fileName = fileName
    }

    /// The name without `.txt`.
    public var stem: String { String(fileName.dropLast(4)) }

    private static func positive(_ field: String, prefix: String) -> Int? {
        guard field.hasPrefix(prefix) else { return nil }
        let digits = field.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value > 0
        else { return nil }
        return value
    }
}

/// A block size of a sweep: its bytes and the text it was written as.
public struct SweepBlockSize: Hashable, Sendable, Codable {
    /// Bytes per request.
    public var bytes: Int
    /// The text for log names (`1M`, `128K`, `1048576`).
    public var text: String

    /// Parses a block size the way `ByteSize.parse` does and keeps the text for log names.
    ///
    /// - Throws: `BenchError.usage` naming the value.
    public init(_ text: String, name: String = "block_size") throws(BenchError) {
        let trimmed = text.trimmingWhitespace()
        bytes = try ByteSize.parse(trimmed, name: name)
        self.text = SweepConfiguration(blockSize: bytes, blockSizeText: trimmed).blockSizeText
    }

    /// A block size given in bytes; its text is the number of bytes (`1048576`), as DeepSpeed names it.
    public init(bytes: Int) {
        self.bytes = bytes
        self.text = SweepConfiguration(blockSize: bytes, blockSizeText: String(bytes)).blockSizeText
    }
}

/// The space a sweep explores: one list of values per setting, expanded as a cartesian product.
///
/// The order follows DeepSpeed's `itertools.product`: keys in the order the sweep config writes them
/// (the default grid: block size, queue depth, sequential requests, single submit, io parallel), the last
/// key varying fastest, values in the order listed.
public struct SweepSpace: Hashable, Sendable {
    /// The keys a sweep config may use.
    public enum Key: String, CaseIterable, Hashable, Sendable {
        /// Block sizes: `"1M"`, `"128K"`, `1048576`.
        case blockSize = "block_size"
        /// Queue depths.
        case queueDepth = "queue_depth"
        /// Sequential (batch) submission on or off.
        case sequentialRequests = "sequential_requests"
        /// One submit call per request on or off.
        case singleSubmit = "single_submit"
        /// Worker threads per operation.
        case ioParallel = "io_parallel"
        /// The inverse of `sequential_requests` (DeepSpeed's `single_process_config.json`).
        case overlapEvents = "overlap_events"
        /// Tasks per folder (DeepSpeed's `single_process_config.json`).
        case threads
        /// Tasks per folder, as `ds_io --multi_process` spells it.
        case multiProcess = "multi_process"
        /// The engine (aio-bench only): `auto`, `io_uring`, `aio`, `posix`, `null`.
        case engine
    }

    /// The axes of the product, in the order they vary (last fastest).
    enum Axis: Hashable, Sendable {
        case blockSize, queueDepth, sequentialRequests, singleSubmit, ioParallel, tasksPerFolder, engine
    }

    /// The largest number of configurations a space may have.
    public static let maximumConfigurations = 100_000

    /// The keys a sweep config may use, as written in JSON.
    public static var validKeys: [String] { Key.allCases.map(\.rawValue) }

    /// The engine names a sweep config and a log name may use.
    public static var validEngineNames: [String] { EngineKind.allCases.map(\.rawValue) }

    /// Whether `name` is an engine aio-bench knows.
    public static func isValidEngineName(_ name: String) -> Bool { EngineKind(rawValue: name) != nil }

    /// Block sizes, in order.
    public private(set) var blockSizes: [SweepBlockSize]
    /// Queue depths, in order.
    public private(set) var queueDepths: [Int]
    /// Sequential-requests settings, in order.
    public private(set) var sequentialRequests: [Bool]
    /// Single-submit settings, in order.
    public private(set) var singleSubmit: [Bool]
    /// Intra-op parallelism values, in order.
    public private(set) var ioParallel: [Int]
    /// Tasks-per-folder values, in order.
    public private(set) var tasksPerFolder: [Int]
    /// Engines, in order; `[nil]` when the config does not set one.
    public private(set) var engines: [String?]
    /// Folders mapped to devices (`--nvme_dir D1 D2 ...`); the same for every configuration.
    public private(set) var folderCount: Int
    var order: [Axis]

    /// DeepSpeed 0.19's default grid (`perf_run_sweep.py`), 64 configurations: block size 1M and 8M,
    /// queue depth 32 and 128, sequential requests on and off, single submit off and on, io parallel 1, 2, 4, 8.
    public static let deepSpeedDefault = SweepSpace(
        blockSizes: [SweepBlockSize(text: "1M", bytes: 1 << 20), SweepBlockSize(text: "8M", bytes: 8 << 20)],
        queueDepths: [32, 128], sequentialRequests: [true, false], singleSubmit: [false, true],
        ioParallel: [1, 2, 4, 8], tasksPerFolder: [1], engines: [nil], folderCount: 1,
        order: [.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .ioParallel, .tasksPerFolder, .engine])

    /// Builds a space from lists of values; varies them in the order of the parameters.
    ///
    /// - Throws: `BenchError.usage` for an empty list, a repeated value, a value that is not positive,
    ///   an unknown engine or a space larger than `maximumConfigurations`.
    public init(
        blockSizes: [String] = ["1M"],
        queueDepths: [Int] = [SweepConfiguration.defaultQueueDepth],
        sequentialRequests: [Bool] = [false],
        singleSubmit: [Bool] = [false],
        ioParallel: [Int] = [1],
        tasksPerFolder: [Int] = [1],
        engines: [String?] = [nil],
        folderCount: Int = 1
    ) throws(BenchError) {
        var sizes: [SweepBlockSize] = []
        for text in blockSizes { sizes.append(try SweepBlockSize(text)) }
        try Self.checkList(sizes.map { "\($0.bytes)" }, key: .blockSize, shown: blockSizes.map { "\"\($0)\"" })
        for (key, values) in [(Key.queueDepth, queueDepths), (.ioParallel, ioParallel), (.threads, tasksPerFolder)] {
            try Self.checkList(values.map(String.init), key: key, shown: values.map(String.init))
            if let bad = values.first(where: { $0 <= 0 }) {
                throw .usage("\(key.rawValue) value \(bad) is not allowed: expected a whole number greater than 0")
            }
        }
        try Self.checkList(sequentialRequests.map(String.init), key: .sequentialRequests,
                           shown: sequentialRequests.map(String.init))
        try Self.checkList(singleSubmit.map(String.init), key: .singleSubmit, shown: singleSubmit.map(String.init))
        try Self.checkList(engines.map { $0 ?? "default" }, key: .engine, shown: engines.map { $0 ?? "default" })
        for case let engine? in engines where !Self.isValidEngineName(engine) {
            throw .usage("engine value \"\(engine)\" is not allowed: expected one of "
                + Self.validEngineNames.joined(separator: ", "))
        }
        guard folderCount > 0 else {
            throw .usage("folder count \(folderCount) is not allowed: expected at least one folder")
        }
        self.init(blockSizes: sizes, queueDepths: queueDepths, sequentialRequests: sequentialRequests,
                  singleSubmit: singleSubmit, ioParallel: ioParallel, tasksPerFolder: tasksPerFolder,
                  engines: engines, folderCount: folderCount,
                  order: [.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .ioParallel,
                          .tasksPerFolder, .engine])
        try checkSize()
    }

    /// Parses a sweep config: a JSON object mapping keys to lists of values. Keys it does not set keep
    /// one default value (block size `1M`, queue depth 32, overlap, batch submit, io parallel 1, one task
    /// per folder, the default engine).
    ///
    /// - Parameters:
    ///   - json: the file's bytes.
    ///   - source: how to name the config in messages, e.g. its path.
    ///   - folderCount: folders mapped to devices (one per `--nvme_dir`).
    /// - Throws: `BenchError.usage`, one line naming the key or value and what is allowed.
    public init(json: Data, source: String = "sweep config", folderCount: Int = 1) throws(BenchError) {
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
        space.ioParallel = [1]
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
            case .queueDepth, .ioParallel, .threads, .multiProcess:
                let numbers = try values.map { value throws(BenchError) in try Self.positive(value, context) }
                try Self.checkList(numbers.map(String.init), context: context, shown: values.map(\.shown))
                switch key {
                case .queueDepth: axis = .queueDepth; space.queueDepths = numbers
                case .ioParallel: axis = .ioParallel; space.ioParallel = numbers
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
                try Self.checkList(space.engines.map { $0 ?? "" }, context: context, shown: values.map(\.shown))
            }
            if let clash = seen.first(where: { Self.axis(of: $0) == axis }) {
                throw .usage("\(source): \"\(clash.rawValue)\" and \"\(name)\" set the same thing"
                    + Self.clashDetail(clash, key) + "; use one of them")
            }
            seen.append(key)
            space.order.append(axis)
        }
        for axis in [Axis.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .ioParallel,
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

    /// Reads and parses a sweep config file (see `init(json:source:folderCount:)`).
    ///
    /// - Throws: `BenchError.usage` when the file cannot be read or is not a valid sweep config.
    public init(contentsOfFile path: String, folderCount: Int = 1) throws(BenchError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a folder" : "it is not readable"
            throw .usage("sweep config \(path) cannot be read: \(reason)")
        }
        try self.init(json: data, source: "sweep config \(path)", folderCount: folderCount)
    }

    /// The same space with another folder count.
    ///
    /// - Throws: `BenchError.usage` when `count` is less than 1.
    public func withFolderCount(_ count: Int) throws(BenchError) -> SweepSpace {
        guard count > 0 else { throw .usage("folder count \(count) is not allowed: expected at least one folder") }
        var copy = self
        copy.folderCount = count
        return copy
    }

    /// The number of configurations.
    public var count: Int {
        blockSizes.count * queueDepths.count * sequentialRequests.count * singleSubmit.count * ioParallel.count
            * tasksPerFolder.count * engines.count
    }

    /// Whether log names carry `_t<N>`: true when tasks per folder varies.
    public var tagsTasksPerFolder: Bool { tasksPerFolder.count > 1 }

    /// Whether log names carry `_e<engine>`: true when the engine varies.
    public var tagsEngine: Bool { engines.count > 1 }

    /// Every configuration, in DeepSpeed's `itertools.product` order (last key fastest). Built on each
    /// access: keep the array rather than indexing this property in a loop.
    public var configurations: [SweepConfiguration] {
        var result = [SweepConfiguration(folderCount: folderCount)]
        for axis in order {
            var next: [SweepConfiguration] = []
            next.reserveCapacity(result.count * width(of: axis))
            for base in result {
                for index in 0..<width(of: axis) {
                    var config = base
                    set(axis, index, in: &config)
                    next.append(config)
                }
            }
            result = next
        }
        return result
    }

    /// The log name of a configuration of this space, tagged so that no two configurations share one.
    public func logName(for configuration: SweepConfiguration, operation: SweepOperation) -> SweepLogName {
        SweepLogName(operation: operation, configuration: configuration, tagTasksPerFolder: tagsTasksPerFolder,
                     tagEngine: tagsEngine)
    }

    /// The log file name of a configuration of this space (see `logName(for:operation:)`).
    public func logFileName(for configuration: SweepConfiguration, operation: SweepOperation) -> String {
        logName(for: configuration, operation: operation).fileName
    }

    // MARK: - Building

    private init(blockSizes: [SweepBlockSize], queueDepths: [Int], sequentialRequests: [Bool], singleSubmit: [Bool],
                 ioParallel: [Int], tasksPerFolder: [Int], engines: [String?], folderCount: Int, order: [Axis]) {
        self.blockSizes = blockSizes
        self.queueDepths = queueDepths
        self.sequentialRequests = sequentialRequests
        self.singleSubmit = singleSubmit
        self.ioParallel = ioParallel
        self.tasksPerFolder = tasksPerFolder
        self.engines = engines
        self.folderCount = folderCount
        self.order = order
    }

    private func width(of axis: Axis) -> Int {
        switch axis {
        case .blockSize: blockSizes.count
        case .queueDepth: queueDepths.count
        case .sequentialRequests: sequentialRequests.count
        case .singleSubmit: singleSubmit.count
        case .ioParallel: ioParallel.count
        case .tasksPerFolder: tasksPerFolder.count
        case .engine: engines.count
        }
    }

    private func set(_ axis: Axis, _ index: Int, in config: inout SweepConfiguration) {
        switch axis {
        case .blockSize:
            config.blockSize = blockSizes[index].bytes
            config.blockSizeText = blockSizes[index].text
        case .queueDepth: config.queueDepth = queueDepths[index]
        case .sequentialRequests: config.sequentialRequests = sequentialRequests[index]
        case .singleSubmit: config.singleSubmit = singleSubmit[index]
        case .ioParallel: config.ioParallel = ioParallel[index]
        case .tasksPerFolder: config.tasksPerFolder = tasksPerFolder[index]
        case .engine: config.engine = engines[index]
        }
    }

    private func checkSize(source: String? = nil) throws(BenchError) {
        var total = 1
        for axis in order {
            let (product, overflow) = total.multipliedReportingOverflow(by: width(of: axis))
            total = overflow ? Int.max : product
        }
        guard total <= Self.maximumConfigurations else {
            let prefix = source.map { "\($0): " } ?? ""
            throw .usage("\(prefix)the sweep has \(total == Int.max ? "too many" : String(total)) configurations;"
                + " at most \(Self.maximumConfigurations) are allowed")
        }
    }

    private static func axis(of key: Key) -> Axis {
        switch key {
        case .blockSize: .blockSize
        case .queueDepth: .queueDepth
        case .sequentialRequests, .overlapEvents: .sequentialRequests
        case .singleSubmit: .singleSubmit
        case .ioParallel: .ioParallel
        case .threads, .multiProcess: .tasksPerFolder
        case .engine: .engine
        }
    }

    private static func clashDetail(_ first: Key, _ second: Key) -> String {
        switch axis(of: first) {
        case .sequentialRequests: " (overlap_events = not sequential_requests)"
        case .tasksPerFolder: " (tasks per folder)"
        default: ""
        }
    }

    private static func checkList(_ identities: [String], key: Key, shown: [String]) throws(BenchError) {
        try checkList(identities, context: key.rawValue, shown: shown)
    }

    private static func checkList(_ identities: [String], context: String, shown: [String]) throws(BenchError) {
        guard !identities.isEmpty else {
            throw .usage("\(context) is an empty list: give at least one value")
        }
        var firstIndex: [String: Int] = [:]
        for (index, identity) in identities.enumerated() {
            if let earlier = firstIndex[identity] {
                let same = shown[earlier] == shown[index] ? "" : " (the same as \(shown[earlier]))"
                throw .usage("\(context) lists \(shown[index]) twice\(same): each value may appear once")
            }
            firstIndex[identity] = index
        }
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

    private static func engine(_ value: JSONValue, _ context: String) throws(BenchError) -> String {
        guard case .string(let name) = value, isValidEngineName(name) else {
            throw .usage("\(context) value \(value.shown) is not allowed: expected one of "
                + validEngineNames.joined(separator: ", "))
        }
        return name
    }
}

extension SweepBlockSize {
    fileprivate init(text: String, bytes: Int) {
        self.bytes = bytes
        self.text = text
    }
}

extension SweepSpace.Key {
    fileprivate var example: String {
        switch self {
        case .blockSize: "[\"1M\", \"8M\"]"
        case .queueDepth: "[32, 128]"
        case .sequentialRequests, .overlapEvents, .singleSubmit: "[true, false]"
        case .ioParallel: "[1, 2, 4, 8]"
        case .threads, .multiProcess: "[1, 2]"
        case .engine: "[\"io_uring\", \"aio\"]"
        }
    }
}
