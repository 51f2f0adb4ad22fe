import AsyncIO

/// The space a sweep explores: one list of values per setting, expanded as a cartesian product.
///
/// The order follows DeepSpeed's `itertools.product`: keys in the order the sweep config writes them
/// (the default grid: block size, queue depth, sequential requests, single submit, io parallel), the last
/// key varying fastest, values in the order listed.
public struct SweepSpace: Hashable, Sendable {
    /// The axes of the product, in the order they vary (last fastest).
    enum Axis: Hashable, Sendable {
        case blockSize, queueDepth, sequentialRequests, singleSubmit, intraOpParallelism, tasksPerFolder, engine
    }

    /// The largest number of configurations a space may have.
    package static let maximumConfigurations = 100_000

    /// Block sizes, in order.
    var blockSizes: [SweepBlockSize]
    /// Queue depths, in order.
    var queueDepths: [Int]
    /// Sequential-requests settings, in order.
    var sequentialRequests: [Bool]
    /// Single-submit settings, in order.
    var singleSubmit: [Bool]
    /// Intra-op parallelism values, in order.
    var intraOpParallelism: [Int]
    /// Tasks-per-folder values, in order.
    var tasksPerFolder: [Int]
    /// Engines, in order; `[nil]` when the config does not set one (nil runs the sweep's `--engine`).
    var engines: [EngineKind?]
    /// Folders mapped to devices (`--nvme_dir D1 D2 ...`); the same for every configuration.
    var folderCount: Int
    var order: [Axis]

    /// DeepSpeed 0.19's default grid (`perf_run_sweep.py`), 64 configurations: block size 1M and 8M,
    /// queue depth 32 and 128, sequential requests on and off, single submit off and on, io parallel 1, 2, 4, 8.
    static let deepSpeedDefault = SweepSpace(
        blockSizes: [SweepBlockSize(text: "1M", bytes: 1 << 20), SweepBlockSize(text: "8M", bytes: 8 << 20)],
        queueDepths: [32, 128], sequentialRequests: [true, false], singleSubmit: [false, true],
        intraOpParallelism: [1, 2, 4, 8], tasksPerFolder: [1], engines: [nil], folderCount: 1,
        order: [.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .intraOpParallelism, .tasksPerFolder, .engine])

    /// Builds a space from lists of values; varies them in the order of the parameters.
    ///
    /// - Throws: `BenchError.usage` for an empty list, a repeated value, a value that is not positive,
    ///   an unknown engine or a space larger than `maximumConfigurations`.
    init(
        blockSizes: [String] = ["1M"],
        queueDepths: [Int] = [SweepConfiguration.defaultQueueDepth],
        sequentialRequests: [Bool] = [false],
        singleSubmit: [Bool] = [false],
        intraOpParallelism: [Int] = [1],
        tasksPerFolder: [Int] = [1],
        engines: [EngineKind?] = [nil],
        folderCount: Int = 1
    ) throws(BenchError) {
        var sizes: [SweepBlockSize] = []
        for text in blockSizes { sizes.append(try SweepBlockSize(text)) }
        try Self.checkList(sizes.map { "\($0.bytes)" }, key: .blockSize, shown: blockSizes.map { "\"\($0)\"" })
        for (key, values) in [(Key.queueDepth, queueDepths), (.intraOpParallelism, intraOpParallelism), (.threads, tasksPerFolder)] {
            try Self.checkList(values.map(String.init), key: key, shown: values.map(String.init))
            if let bad = values.first(where: { $0 <= 0 }) {
                throw .usage("\(key.rawValue) value \(bad) is not allowed: expected a whole number greater than 0")
            }
        }
        try Self.checkList(sequentialRequests.map(String.init), key: .sequentialRequests,
                           shown: sequentialRequests.map(String.init))
        try Self.checkList(singleSubmit.map(String.init), key: .singleSubmit, shown: singleSubmit.map(String.init))
        let engineNames = engines.map { $0?.rawValue ?? "default" }
        try Self.checkList(engineNames, key: .engine, shown: engineNames)
        guard folderCount > 0 else {
            throw .usage("folder count \(folderCount) is not allowed: expected at least one folder")
        }
        self.init(blockSizes: sizes, queueDepths: queueDepths, sequentialRequests: sequentialRequests,
                  singleSubmit: singleSubmit, intraOpParallelism: intraOpParallelism, tasksPerFolder: tasksPerFolder,
                  engines: engines, folderCount: folderCount,
                  order: [.blockSize, .queueDepth, .sequentialRequests, .singleSubmit, .intraOpParallelism,
                          .tasksPerFolder, .engine])
        try checkSize()
    }

    /// The same space with another folder count.
    ///
    /// - Throws: `BenchError.usage` when `count` is less than 1.
    func withFolderCount(_ count: Int) throws(BenchError) -> SweepSpace {
        guard count > 0 else { throw .usage("folder count \(count) is not allowed: expected at least one folder") }
        var copy = self
        copy.folderCount = count
        return copy
    }

    /// The number of configurations.
    public var count: Int {
        blockSizes.count * queueDepths.count * sequentialRequests.count * singleSubmit.count * intraOpParallelism.count
            * tasksPerFolder.count * engines.count
    }

    /// Whether log names carry `_t<N>`: true when tasks per folder varies.
    package var tagsTasksPerFolder: Bool { tasksPerFolder.count > 1 }

    /// Whether log names carry `_e<engine>`: true when the engine varies.
    package var tagsEngine: Bool { engines.count > 1 }

    /// Every configuration, in DeepSpeed's `itertools.product` order (last key fastest). Built on each
    /// access: keep the array rather than indexing this property in a loop.
    package var configurations: [SweepConfiguration] {
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
    package func logName(for configuration: SweepConfiguration, operation: IOOperation) -> SweepLogName {
        SweepLogName(operation: operation, configuration: configuration, tagTasksPerFolder: tagsTasksPerFolder,
                     tagEngine: tagsEngine)
    }

    /// The log file name of a configuration of this space (see `logName(for:operation:)`).
    func logFileName(for configuration: SweepConfiguration, operation: IOOperation) -> String {
        logName(for: configuration, operation: operation).fileName
    }

    // MARK: - Building

    private init(blockSizes: [SweepBlockSize], queueDepths: [Int], sequentialRequests: [Bool], singleSubmit: [Bool],
                 intraOpParallelism: [Int], tasksPerFolder: [Int], engines: [EngineKind?], folderCount: Int, order: [Axis]) {
        self.blockSizes = blockSizes
        self.queueDepths = queueDepths
        self.sequentialRequests = sequentialRequests
        self.singleSubmit = singleSubmit
        self.intraOpParallelism = intraOpParallelism
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
        case .intraOpParallelism: intraOpParallelism.count
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
        case .sequentialRequests: config.overlapEvents = !sequentialRequests[index]
        case .singleSubmit: config.singleSubmit = singleSubmit[index]
        case .intraOpParallelism: config.intraOpParallelism = intraOpParallelism[index]
        case .tasksPerFolder: config.tasksPerFolder = tasksPerFolder[index]
        case .engine: config.engine = engines[index]
        }
    }

    func checkSize(source: String? = nil) throws(BenchError) {
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

    static func axis(of key: Key) -> Axis {
        switch key {
        case .blockSize: .blockSize
        case .queueDepth: .queueDepth
        case .sequentialRequests, .overlapEvents: .sequentialRequests
        case .singleSubmit: .singleSubmit
        case .intraOpParallelism: .intraOpParallelism
        case .threads, .multiProcess: .tasksPerFolder
        case .engine: .engine
        }
    }

    static func clashDetail(_ first: Key, _ second: Key) -> String {
        switch axis(of: first) {
        case .sequentialRequests: " (overlap_events = not sequential_requests)"
        case .tasksPerFolder: " (tasks per folder)"
        default: ""
        }
    }

    private static func checkList(_ identities: [String], key: Key, shown: [String]) throws(BenchError) {
        try checkList(identities, context: key.rawValue, shown: shown)
    }

    static func checkList(_ identities: [String], context: String, shown: [String]) throws(BenchError) {
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
}
