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
        let tasks = handles.count
        let results = LoopResults(tasks: tasks)
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let ready = DispatchGroup()
        for t in 0..<tasks {
            group.enter()
            ready.enter()
            let handle = handles[t]
            let buffer = buffers[t]
            let path = paths[t]
            let sink = latency.map { set in LatencySink { w, ns in set.record(task: t, worker: w, ns) } }
            let thread = Thread {
                ready.leave()
                gate.wait()
                let start = monotonicNanos()
                var failure: AsyncIOError?
                do throws(AsyncIOError) {
                    if operation == .read {
                        try handle.pread(buffer, from: path, async: false, latency: sink)
                    } else {
                        // The file is created when the operation starts: do that under the
                        // scratch registry's gate (Ctrl-C removes it before or after, never
                        // between), then wait for the data outside it.
                        try ScratchFiles.shared.creating { () throws(AsyncIOError) in
                            try handle.pwrite(buffer, to: path, truncate: truncate, async: true, latency: sink)
                        }
                        try handle.wait()
                    }
                } catch {
                    failure = error
                }
                results.set(task: t, start: start, end: monotonicNanos(), error: failure)
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

    // @unchecked: every field is read and written under `lock`.
    private final class LoopResults: @unchecked Sendable {
        private let lock = NSLock()
        private var starts: [UInt64]
        private var ends: [UInt64]
        private var error: AsyncIOError?
        init(tasks: Int) {
            starts = Array(repeating: 0, count: tasks)
            ends = Array(repeating: 0, count: tasks)
        }
        func set(task: Int, start: UInt64, end: UInt64, error: AsyncIOError?) {
            lock.withLock {
                starts[task] = start
                ends[task] = end
                if let error, self.error == nil { self.error = error }
            }
        }
        func outcome(release: UInt64) -> LoopOutcome {
            lock.withLock {
                LoopOutcome(
                    taskSeconds: zip(starts, ends).map { Double($1 &- $0) / 1e9 },
                    e2eSeconds: ends.map { Double($0 &- min(release, $0)) / 1e9 },
                    error: error)
            }
        }
    }
}
