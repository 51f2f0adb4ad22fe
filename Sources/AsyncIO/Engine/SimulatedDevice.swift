import Glibc
import Synchronization

/// A model of a storage device: the speed it reaches for each configuration and operation, with
/// seeded noise and an optional slow drift. The `sim` engine moves no data to storage and completes
/// each operation when the model says (`bytes / speed` of real time), so a tuner can be tested
/// against a known truth and a tune rehearsed for a drive one does not have.
package struct SimulatedDevice: Sendable, Hashable {
    /// One speed for the configurations whose knobs match; a knob left nil matches any value.
    package struct Entry: Sendable, Hashable {
        /// Bytes per request, or nil for any.
        package var blockSize: Int?
        /// Queue depth, or nil for any.
        package var queueDepth: Int?
        /// Single submit, or nil for any.
        package var singleSubmit: Bool?
        /// Overlap events (the inverse of DeepSpeed's `sequential_requests`), or nil for any.
        package var overlapEvents: Bool?
        /// Intra-op parallelism, or nil for any.
        package var intraOpParallelism: Int?
        /// The speed, GiB/s.
        package var gibps: Double

        /// Creates an entry.
        package init(blockSize: Int? = nil, queueDepth: Int? = nil, singleSubmit: Bool? = nil,
                    overlapEvents: Bool? = nil, intraOpParallelism: Int? = nil, gibps: Double) {
            self.blockSize = blockSize
            self.queueDepth = queueDepth
            self.singleSubmit = singleSubmit
            self.overlapEvents = overlapEvents
            self.intraOpParallelism = intraOpParallelism
            self.gibps = gibps
        }

        /// How many knobs the entry names (the most specific matching entry wins).
        var keyCount: Int {
            [blockSize != nil, queueDepth != nil, singleSubmit != nil, overlapEvents != nil,
             intraOpParallelism != nil].filter { $0 }.count
        }

        func matches(_ config: HandleConfig) -> Bool {
            (blockSize ?? config.blockSize) == config.blockSize && (queueDepth ?? config.queueDepth) == config.queueDepth
                && (singleSubmit ?? config.singleSubmit) == config.singleSubmit
                && (overlapEvents ?? config.overlapEvents) == config.overlapEvents
                && (intraOpParallelism ?? config.intraOpParallelism) == config.intraOpParallelism
        }
    }

    /// The speeds of one operation.
    package struct Table: Sendable, Hashable {
        /// The speed of configurations no entry matches, GiB/s.
        package var defaultGiBps: Double
        /// The entries, in the order given.
        package var speeds: [Entry]

        /// Creates a table.
        package init(defaultGiBps: Double, speeds: [Entry] = []) {
            self.defaultGiBps = defaultGiBps
            self.speeds = speeds
        }

        /// The speed of `config`: the matching entry that names the most knobs (the first of equals),
        /// else the default.
        package func gibps(for config: HandleConfig) -> Double {
            var best: Entry?
            for entry in speeds where entry.matches(config) && entry.keyCount > (best?.keyCount ?? -1) {
                best = entry
            }
            return best?.gibps ?? defaultGiBps
        }
    }

    /// Seeds the noise.
    package var seed: UInt64
    /// The relative standard deviation of an operation's speed (0.05: 5 %).
    package var noise: Double
    /// A slow multiplicative trend: the fraction the speed changes per minute (0.01: +1 %/min).
    package var drift: Double
    /// Read speeds.
    package var read: Table
    /// Write speeds.
    package var write: Table

    /// Creates a model.
    package init(seed: UInt64, noise: Double = 0, drift: Double = 0, read: Table, write: Table) {
        self.seed = seed
        self.noise = noise
        self.drift = drift
        self.read = read
        self.write = write
    }

    /// The model's speed of `operation` with `config`, GiB/s, before noise and drift.
    package func gibps(_ operation: IOOperation, _ config: HandleConfig) -> Double {
        (operation == .read ? read : write).gibps(for: config)
    }

    /// Checks the values; one error naming the first bad one.
    package func validate() throws(AsyncIOError) {
        guard noise >= 0, noise < 1, noise.isFinite else {
            throw .invalid("simulated device", "noise \(noise) must be at least 0 and below 1")
        }
        guard drift.isFinite, drift > -1 else { throw .invalid("simulated device", "drift \(drift) must be above -1") }
        for (name, table) in [("read", read), ("write", write)] {
            for value in [table.defaultGiBps] + table.speeds.map(\.gibps) where !(value > 0 && value.isFinite) {
                throw .invalid("simulated device", "\(name) speed \(value) GiB/s must be a positive number")
            }
        }
    }

    /// The 8 bytes a simulated read puts at the 8-byte word holding file offset `offset`: distinct for
    /// every word, cheap enough to fill memory at its bandwidth.
    @inline(__always)
    package static func patternWord(at offset: Int64) -> UInt64 {
        let x = (UInt64(bitPattern: offset >> 3) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        return x ^ (x >> 29)
    }
}

/// The noise and drift of each model seed, shared by every handle of the process so that a
/// sequence of operations draws one deterministic sequence of factors.
// @unchecked: `states` is read and written only under `lock` (a pthread mutex, which ThreadSanitizer
// sees; it does not see the futex path of Synchronization's `Mutex`).
final class SimulationNoise: @unchecked Sendable {
    static let shared = SimulationNoise()

    private struct State {
        var generator: SplitMix64
        var factors: [Int: Double] = [:]
    }

    // Guarded by `lock`.
    private let lock = ConditionLock()
    private var states: [UInt64: State] = [:]
    /// When each model (by seed) was first used: drift runs on from there, across streams.
    private var starts: [UInt64: UInt64] = [:]
    /// The current noise stream (0: the process's one stream).
    private var stream: UInt64 = 0
    private let operations = Atomic<Int>(0)

    /// A new operation number (operations of all handles share one counter).
    func nextOperation() -> Int { operations.add(1, ordering: .relaxed).newValue }

    /// Starts noise stream `key`: the operations from now on draw their noise from a generator seeded
    /// by the model's seed and `key`, in the order they start.
    func begin(stream key: UInt64) {
        lock.withLock {
            stream = key
            states.removeAll()
        }
    }

    /// The factor of operation `id` under `model`: `(1 + noise × z) × (1 + drift)^minutes`, z standard
    /// normal from the seed's generator; the same for every slice of that operation.
    func factor(_ model: SimulatedDevice, operation id: Int) -> Double {
        lock.withLock {
            let seed = stream == 0 ? model.seed : model.seed ^ SplitMix64.mix(stream)
            var state = states[model.seed] ?? State(generator: SplitMix64(seed: seed))
            if let known = state.factors[id] { return known }
            let u = state.generator.nextUnitInterval(), v = state.generator.nextUnitInterval()
            let z = (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
            let start = starts[model.seed] ?? monotonicNanos()
            starts[model.seed] = start
            let minutes = Double(monotonicNanos() &- start) / 60e9
            let value = max(0.05, 1 + model.noise * z) * pow(1 + model.drift, minutes)
            if state.factors.count > 4096 { state.factors.removeAll() }
            state.factors[id] = value
            states[model.seed] = state
            return value
        }
    }
}

extension SimulatedDevice {
    /// Starts a new noise stream for every simulated device in the process: the operations that
    /// start from now on draw their noise in order from a generator seeded by the model's seed and
    /// `key` (drift keeps running). A sweep begins one per trial, keyed by the trial's name, so a
    /// trial run again after an interruption meets the same noise and a resumed race decides as an
    /// uninterrupted one. Without it, all operations share the seed's one stream.
    package static func beginNoiseStream(_ key: UInt64) {
        SimulationNoise.shared.begin(stream: key == 0 ? 1 : key)
    }
}
