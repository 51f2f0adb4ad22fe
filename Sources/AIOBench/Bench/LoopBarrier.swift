import AsyncIO
import Foundation

extension BenchRunner {
    struct LoopOutcome {
        var taskSeconds: [Double]
        var e2eSeconds: [Double]
        var error: AsyncIOError?
    }

    /// One loop: every task waits at a barrier, then runs its operation; E2E time counts from
    /// the barrier's release to the task's end.
    func runLoop(_ operation: IOOperation, handles: [AIOHandle], paths: [String], truncate: Bool,
                 latency: HistogramSet?) -> LoopOutcome {
        let buffers = buffers
        return BenchRunner.releasedTogether(tasks: handles.count) { t throws(AsyncIOError) in
            let handle = handles[t]
            let sink = latency.map { set in LatencySink { w, ns in set.record(task: t, worker: w, ns) } }
            if operation == .read {
                try handle.submitRead(into: buffers[t], from: paths[t], latency: sink).wait()
            } else {
                // The file is created when the operation starts: do that under the scratch
                // registry's gate (Ctrl-C removes it before or after, never between), then wait
                // for the data outside it.
                let ticket = try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                    try handle.submitWrite(from: buffers[t], to: paths[t], truncate: truncate, latency: sink)
                }
                try ticket.wait()
            }
        }.outcome
    }

    /// Runs `body(task)` for every task on a thread of its own. The threads wait at a barrier and
    /// are released together: a task's time counts from its own start, its E2E time from the
    /// release. Returns the outcome (the first error among the tasks) and each task's value (nil
    /// where its body threw).
    static func releasedTogether<Value: Sendable>(
        tasks: Int, _ body: @escaping @Sendable (Int) throws(AsyncIOError) -> Value
    ) -> (outcome: LoopOutcome, values: [Value?]) {
        let results = BarrierResults<Value>(tasks: tasks)
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let ready = DispatchGroup()
        for t in 0..<tasks {
            group.enter()
            ready.enter()
            let thread = Thread {
                ready.leave()
                gate.wait()
                let start = monotonicNanos()
                do throws(AsyncIOError) {
                    let value = try body(t)
                    results.set(task: t, start: start, end: monotonicNanos(), value: value, error: nil)
                } catch {
                    results.set(task: t, start: start, end: monotonicNanos(), value: nil, error: error)
                }
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        ready.wait()
        let release = monotonicNanos()
        for _ in 0..<tasks { gate.signal() }
        group.wait()
        return results.outcome(release: release)
    }
}

/// Per-task times, values and the first error of one loop.
// @unchecked: every field is read and written under `lock`.
private final class BarrierResults<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var starts: [UInt64]
    private var ends: [UInt64]
    private var values: [Value?]
    private var error: AsyncIOError?

    init(tasks: Int) {
        starts = Array(repeating: 0, count: tasks)
        ends = Array(repeating: 0, count: tasks)
        values = Array(repeating: nil, count: tasks)
    }

    func set(task: Int, start: UInt64, end: UInt64, value: Value?, error: AsyncIOError?) {
        lock.withLock {
            starts[task] = start
            ends[task] = end
            values[task] = value
            if let error, self.error == nil { self.error = error }
        }
    }

    func outcome(release: UInt64) -> (outcome: BenchRunner.LoopOutcome, values: [Value?]) {
        lock.withLock {
            (BenchRunner.LoopOutcome(
                taskSeconds: zip(starts, ends).map { Double($1 &- $0) / 1e9 },
                e2eSeconds: ends.map { Double($0 &- min(release, $0)) / 1e9 },
                error: error), values)
        }
    }
}
