import Histogram

/// Per task and worker latency histograms, each written by one thread only.
// @unchecked: each slot is written by one worker thread only, and merged after the loop's threads joined.
final class HistogramSet: @unchecked Sendable {
    /// One histogram per (task, worker), each in its own box: the workers of every task record at
    /// the same time, each into its own box, and none of them mutates the array that holds the boxes
    /// (a mutating access to a shared array from several threads is a data race, even to different
    /// elements). `merged()` runs after the loop's threads are done.
    private final class Slot {
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000_000,
                                          numberOfSignificantValueDigits: .three)
    }

    private let slots: [Slot]
    private let workers: Int

    init(tasks: Int, workers: Int) {
        self.workers = workers
        slots = (0..<tasks * workers).map { _ in Slot() }
    }

    func record(task: Int, worker: Int, _ nanoseconds: UInt64) {
        _ = slots[task * workers + worker].histogram.record(min(nanoseconds, 600_000_000_000))
    }

    func merged() -> Histogram<UInt64> {
        var all = slots[0].histogram
        for slot in slots.dropFirst() { all.add(slot.histogram) }
        return all
    }

    /// Request latency percentiles of every slot together, in microseconds: p50, p90, p99, p99.9 and max
    /// (empty when nothing was recorded).
    func percentilesMicros() -> [String: Double] {
        let all = merged()
        guard all.totalCount > 0 else { return [:] }
        var percentiles: [String: Double] = [:]
        for (key, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)] {
            percentiles[key] = Double(all.valueAtPercentile(p)) / 1000
        }
        percentiles["max"] = Double(all.max) / 1000
        return percentiles
    }
}
