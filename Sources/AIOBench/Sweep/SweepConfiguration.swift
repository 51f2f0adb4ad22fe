import AsyncIO

/// One point of a sweep: a handle configuration (the five DeepNVMe knobs and the engine) plus the
/// task layout and the block size as the sweep config wrote it.
package struct SweepConfiguration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The block size when a sweep does not set one: 1 MiB, written `1M`.
    static let defaultBlockSize = 1 << 20
    /// The queue depth when a sweep does not set one: 32, `ds_io`'s default.
    ///
    /// DeepSpeed names such a log `d1` although `ds_io` runs it with 32; aio-bench names it after the
    /// queue depth it really uses.
    static let defaultQueueDepth = BenchPlan.defaultQueueDepth

    /// The knobs and the engine; `engine` `.auto` means the sweep's `--engine`.
    var knobs: HandleConfig
    /// The block size as written in the sweep config (`1M`, `128K`, `1048576`); it goes into log names.
    var blockSizeText: String
    /// Tasks per folder (`threads` in a sweep config, `--multi_process` in `ds_io`).
    package var tasksPerFolder: Int
    /// Folders mapped to devices, one task group per folder (the `ftd` field of a log name).
    var folderCount: Int

    /// Creates a configuration; every parameter defaults to what a sweep uses when it does not set it.
    ///
    /// `blockSizeText` is kept when it is a plain number with an optional `K`, `M`, `G` or `T` that
    /// equals the block size; otherwise the compact form of the block size is used (`1M`).
    init(
        _ knobs: HandleConfig = HandleConfig(blockSize: defaultBlockSize, queueDepth: defaultQueueDepth),
        blockSizeText: String? = nil, tasksPerFolder: Int = 1, folderCount: Int = 1
    ) {
        self.knobs = knobs
        self.blockSizeText = SweepConfiguration.nameText(blockSizeText, bytes: knobs.blockSize)
        self.tasksPerFolder = tasksPerFolder
        self.folderCount = folderCount
    }

    /// Creates a configuration from the knobs' values (see `init(_:blockSizeText:tasksPerFolder:folderCount:)`).
    init(
        blockSize: Int = defaultBlockSize, blockSizeText: String? = nil, queueDepth: Int = defaultQueueDepth,
        singleSubmit: Bool = false, overlapEvents: Bool = true, intraOpParallelism: Int = 1,
        tasksPerFolder: Int = 1, folderCount: Int = 1, engine: EngineKind = .auto
    ) {
        self.init(
            HandleConfig(blockSize: blockSize, queueDepth: queueDepth, singleSubmit: singleSubmit,
                         overlapEvents: overlapEvents, intraOpParallelism: intraOpParallelism, engine: engine),
            blockSizeText: blockSizeText, tasksPerFolder: tasksPerFolder, folderCount: folderCount)
    }

    /// The engine the configuration names, or nil when it leaves it to the sweep (`auto`).
    package var engine: EngineKind? {
        get { knobs.engine == .auto ? nil : knobs.engine }
        set { knobs.engine = newValue ?? .auto }
    }

    /// `knobs.blockSize`.
    var blockSize: Int {
        get { knobs.blockSize }
        set { knobs.blockSize = newValue }
    }
    /// `knobs.queueDepth`.
    var queueDepth: Int {
        get { knobs.queueDepth }
        set { knobs.queueDepth = newValue }
    }
    /// `knobs.singleSubmit`.
    var singleSubmit: Bool {
        get { knobs.singleSubmit }
        set { knobs.singleSubmit = newValue }
    }
    /// `knobs.overlapEvents`.
    var overlapEvents: Bool {
        get { knobs.overlapEvents }
        set { knobs.overlapEvents = newValue }
    }
    /// `knobs.intraOpParallelism`.
    var intraOpParallelism: Int {
        get { knobs.intraOpParallelism }
        set { knobs.intraOpParallelism = newValue }
    }

    /// The same configuration with the block size written in its compact form, so that `1M` and
    /// `1048576` compare equal; read and write results are matched on this.
    var tuningIdentity: SweepConfiguration {
        var copy = self
        copy.blockSizeText = ByteSize.compact(knobs.blockSize)
        return copy
    }

    /// The log file name of this configuration, DeepSpeed's
    /// `<op>_<single|block>_<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>.txt`, with `_t<N>` and
    /// `_e<engine>` appended when asked (a sweep asks when those values vary).
    func logFileName(operation: IOOperation, tagTasksPerFolder: Bool = false,
                            tagEngine: Bool = false) -> String {
        var name = "\(operation.rawValue)_\(knobs.singleSubmit ? "single" : "block")_"
            + "\(knobs.overlapEvents ? "overlap" : "sequential")_ftd\(folderCount)_d\(knobs.queueDepth)"
            + "_bs\(blockSizeText)_p\(knobs.intraOpParallelism)"
        if tagTasksPerFolder { name += "_t\(tasksPerFolder)" }
        if tagEngine, let engine { name += "_e\(engine.rawValue)" }
        return name + ".txt"
    }

    /// `block_size=1M queue_depth=32 single_submit=false sequential_requests=false io_parallel=1
    /// tasks_per_folder=1 folders=1`, then ` engine=<name>` when one is set: DeepSpeed's spellings,
    /// as in the logs and the manifest.
    package var description: String {
        var text = "block_size=\(blockSizeText) queue_depth=\(knobs.queueDepth) single_submit=\(knobs.singleSubmit)"
            + " sequential_requests=\(!knobs.overlapEvents) io_parallel=\(knobs.intraOpParallelism)"
            + " tasks_per_folder=\(tasksPerFolder) folders=\(folderCount)"
        if let engine { text += " engine=\(engine.rawValue)" }
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
