/// The settings of an `AIOHandle`: DeepNVMe's five knobs plus the engine.
///
/// The five knobs mean exactly what they mean in DeepSpeed's `aio_handle`, so a configuration
/// tuned here can be pasted into a DeepSpeed `"aio"` section. This is the one configuration type
/// of the package: the benchmark, sweep points, report rows, exports, the fio equivalent and the
/// probe all carry a `HandleConfig`; DeepSpeed's other spellings (`io_parallel`,
/// `sequential_requests`) exist only where text comes in or goes out.
///
/// Encoded (`Codable`) with the keys of DeepSpeed's runtime `"aio"` section (`block_size`,
/// `queue_depth`, `single_submit`, `overlap_events`, `intra_op_parallelism`) plus `engine` and
/// `direct`; engine options and test hooks are not encoded.
public struct HandleConfig: Sendable, Hashable {
    /// Bytes per request (DeepSpeed `block_size`). Default 1 MiB, DeepSpeed's runtime default.
    public var blockSize: Int
    /// Requests in flight per worker (DeepSpeed `queue_depth`). Default 32, as `aio-bench` and DeepSpeed's
    /// `ds_io` (DeepSpeed's runtime config says 8, its Python handle constructor 128; a ported config
    /// passes its own value).
    public var queueDepth: Int
    /// One submit call per request instead of one per batch (DeepSpeed `single_submit`).
    public var singleSubmit: Bool
    /// Keep the queue topped up as requests complete instead of waiting for each batch
    /// (DeepSpeed `overlap_events`; `--sequential_requests` is its negation).
    public var overlapEvents: Bool
    /// Worker threads one operation is split over (DeepSpeed `intra_op_parallelism`).
    public var intraOpParallelism: Int
    /// The kernel interface; `.auto` picks io_uring, then kernel AIO, then POSIX.
    public var engine: EngineKind
    /// Open files with `O_DIRECT` (bypass the page cache). Default on.
    public var direct: Bool
    /// Options of the io_uring engine.
    public var engineOptions: EngineOptions
    /// Create files with mode 0600 (owner only) instead of 0666 less the umask (the default, as
    /// `open(2)` callers do: a checkpoint is then as readable as the user's other files).
    public var privateFiles = false
    /// Faults to inject, for tests; nil in normal use.
    package var faults: FaultInjection?

    /// Creates a configuration; every default is DeepSpeed's runtime default but the queue depth (see
    /// `queueDepth`), the same as `aio-bench`'s.
    public init(
        blockSize: Int = 1 << 20, queueDepth: Int = 32, singleSubmit: Bool = false,
        overlapEvents: Bool = true, intraOpParallelism: Int = 1, engine: EngineKind = .auto,
        direct: Bool = true, engineOptions: EngineOptions = EngineOptions()
    ) {
        self.blockSize = blockSize
        self.queueDepth = queueDepth
        self.singleSubmit = singleSubmit
        self.overlapEvents = overlapEvents
        self.intraOpParallelism = intraOpParallelism
        self.engine = engine
        self.direct = direct
        self.engineOptions = engineOptions
    }

    /// The same configuration with `direct` set as given.
    package func with(direct: Bool) -> HandleConfig {
        var copy = self
        copy.direct = direct
        return copy
    }

    /// Largest queue depth accepted: io_uring rings stop at 32768 entries.
    package static let maxQueueDepth = 32768
    /// Largest parallelism accepted: one thread each.
    package static let maxParallelism = 1024

    /// A numeric knob, for `firstBadKnob()`.
    package enum Knob: String, Sendable {
        case blockSize = "block size", queueDepth = "queue depth", intraOpParallelism = "intra-op parallelism"
    }

    /// The first knob outside what is allowed: which, its value, and what is allowed ("positive",
    /// "between 1 and 32768"); nil when all are fine. The one place the limits are checked:
    /// `validate()` words it for the library, the benchmark for its flags.
    package func firstBadKnob() -> (knob: Knob, value: Int, allowed: String)? {
        if blockSize <= 0 { return (.blockSize, blockSize, "positive") }
        if queueDepth < 1 || queueDepth > HandleConfig.maxQueueDepth {
            return (.queueDepth, queueDepth, "between 1 and \(HandleConfig.maxQueueDepth)")
        }
        if intraOpParallelism < 1 || intraOpParallelism > HandleConfig.maxParallelism {
            return (.intraOpParallelism, intraOpParallelism, "between 1 and \(HandleConfig.maxParallelism)")
        }
        return nil
    }

    /// Checks every knob and throws one error naming the bad value and what is allowed.
    public func validate() throws(AsyncIOError) {
        if let bad = firstBadKnob() {
            throw .invalid("configure handle", "\(bad.knob.rawValue) \(bad.value) must be \(bad.allowed)")
        }
    }
}

extension HandleConfig: Codable {
    private enum CodingKeys: String, CodingKey {
        case blockSize = "block_size", queueDepth = "queue_depth", singleSubmit = "single_submit"
        case overlapEvents = "overlap_events", intraOpParallelism = "intra_op_parallelism", engine, direct
    }

    /// Decodes a configuration; a missing key takes DeepSpeed's runtime default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HandleConfig()
        self.init(
            blockSize: try c.decodeIfPresent(Int.self, forKey: .blockSize) ?? d.blockSize,
            // A DeepSpeed "aio" section without the key means DeepSpeed's runtime default.
            queueDepth: try c.decodeIfPresent(Int.self, forKey: .queueDepth) ?? 8,
            singleSubmit: try c.decodeIfPresent(Bool.self, forKey: .singleSubmit) ?? d.singleSubmit,
            overlapEvents: try c.decodeIfPresent(Bool.self, forKey: .overlapEvents) ?? d.overlapEvents,
            intraOpParallelism: try c.decodeIfPresent(Int.self, forKey: .intraOpParallelism) ?? d.intraOpParallelism,
            engine: try c.decodeIfPresent(EngineKind.self, forKey: .engine) ?? d.engine,
            direct: try c.decodeIfPresent(Bool.self, forKey: .direct) ?? d.direct)
    }

    /// Encodes the five knobs, the engine and `direct`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(blockSize, forKey: .blockSize)
        try c.encode(queueDepth, forKey: .queueDepth)
        try c.encode(singleSubmit, forKey: .singleSubmit)
        try c.encode(overlapEvents, forKey: .overlapEvents)
        try c.encode(intraOpParallelism, forKey: .intraOpParallelism)
        try c.encode(engine, forKey: .engine)
        try c.encode(direct, forKey: .direct)
    }
}
