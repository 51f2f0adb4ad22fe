import AsyncIO
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
    public func logFileName(operation: IOOperation, tagTasksPerFolder: Bool = false,
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
