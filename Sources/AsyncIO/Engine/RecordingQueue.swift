import Glibc

/// A record of what the kernel queues of one or more handles were asked to do, for tests that
/// check what each knob does: every submit call (how many requests it carried), every reap (how
/// many completions it handed back), the requests in flight after each call, and the file range
/// of every request, per queue.
///
/// Set it as `EngineOptions.recorder`; each worker's queue of every handle built with those
/// options is then wrapped and gets a `Log` of its own. Requests still go to the real queue.
// @unchecked: the recorded logs are read and written under its lock.
package final class QueueRecorder: @unchecked Sendable {
    /// One call into a queue.
    package enum Event: Sendable, Equatable {
        /// A submit call that carried `requests` requests, of which the queue took `accepted`.
        case submit(requests: Int, accepted: Int, inFlight: Int)
        /// A reap that asked for at least `minimum` completions and handed back `completed`.
        case reap(minimum: Int, completed: Int, inFlight: Int)

        /// Requests in flight in the queue right after the call.
        package var inFlight: Int {
            switch self {
            case .submit(_, _, let n), .reap(_, _, let n): n
            }
        }

        /// Whether this is a submit call.
        package var isSubmit: Bool {
            if case .submit = self { return true }
            return false
        }
    }

    /// One request as a queue took it.
    package struct Request: Sendable, Equatable {
        /// Read or write.
        package var operation: IOOperation
        /// The file offset.
        package var offset: Int64
        /// The bytes asked for.
        package var length: Int
    }

    /// What one queue saw.
    package struct Log: Sendable {
        /// The worker the queue belongs to, within its handle (0-based).
        package var worker: Int
        /// Every call, in order.
        package var events: [Event] = []
        /// Every request the queue took, in order.
        package var requests: [Request] = []

        /// Requests carried by each submit call, in order.
        package var submitSizes: [Int] {
            events.compactMap { if case .submit(let n, _, _) = $0 { n } else { nil } }
        }

        /// The most requests in flight at any moment.
        package var maxInFlight: Int { events.map(\.inFlight).max() ?? 0 }
    }

    /// At most this many completions are handed back per reap (never fewer than the reap asks
    /// for), so that requests complete a few at a time as on a device; nil hands back every
    /// completion that is ready.
    package let completionsPerReap: Int?

    private let lock = ConditionLock()
    private var recorded: [Log] = []
    /// Whether submit calls wait (see `init(completionsPerReap:gated:)`); guarded by `lock`.
    private var closed: Bool
    /// Requests taken by every queue so far; guarded by `lock`.
    private var total = 0
    /// The total at which the gate closes by itself (see `closeGate(afterRequests:)`); guarded by `lock`.
    private var closeAt: Int?

    /// Creates an empty recorder.
    ///
    /// With `gated`, every queue's submit calls wait until `openGate()`, so a test can queue
    /// operations on a handle before its workers hand any request to the kernel: what the workers
    /// then do no longer depends on how fast the device or the test's own thread is.
    package init(completionsPerReap: Int? = nil, gated: Bool = false) {
        self.completionsPerReap = completionsPerReap.map { max(1, $0) }
        closed = gated
    }

    /// Lets submit calls through (see `gated`).
    package func openGate() {
        lock.withLock {
            closed = false
            closeAt = nil
            lock.broadcast()
        }
    }

    fileprivate func passGate() {
        lock.withLock { while closed { lock.waitLocked() } }
    }

    /// Closes the gate once `count` requests in all have reached the queues, so that no queue submits
    /// more until `openGate()`: a test can act at that point however late its own thread runs.
    package func closeGate(afterRequests count: Int) {
        lock.withLock {
            if total >= count { closed = true } else { closeAt = count }
            lock.broadcast()
        }
    }

    /// Waits until the gate is closed, at most `timeout` seconds; whether it is.
    package func waitUntilClosed(timeout: Double) -> Bool {
        let deadline = monotonicNanos() + UInt64(max(0, timeout) * 1e9)
        while true {
            if lock.withLock({ closed }) { return true }
            if monotonicNanos() >= deadline { return false }
            usleep(200)
        }
    }

    /// Requests taken by every queue so far.
    package var requestCount: Int { lock.withLock { total } }

    /// One log per queue, in the order the queues were made.
    package var logs: [Log] { lock.withLock { recorded } }

    /// Wraps the queues of one handle, queue `i` belonging to worker `i`.
    func wrap(_ queues: [IOQueue]) -> [IOQueue] {
        queues.enumerated().map { worker, queue in
            let index = lock.withLock {
                recorded.append(Log(worker: worker))
                return recorded.count - 1
            }
            return RecordingQueue(inner: queue, recorder: self, log: index)
        }
    }

    fileprivate func record(_ log: Int, _ event: Event, requests: [Request] = []) {
        lock.withLock {
            recorded[log].events.append(event)
            recorded[log].requests += requests
            total += requests.count
            if let at = closeAt, total >= at {
                closed = true
                closeAt = nil
            }
        }
    }
}

extension QueueRecorder: Hashable {
    /// The same recorder (identity).
    package static func == (lhs: QueueRecorder, rhs: QueueRecorder) -> Bool { lhs === rhs }
    /// Hashes the identity.
    package func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// Passes every call to the real queue and records it; hands completions back at most
/// `completionsPerReap` at a time, holding the rest for the next reap.
final class RecordingQueue: IOQueue {
    private let inner: IOQueue
    private let recorder: QueueRecorder
    private let log: Int
    /// Completions the inner queue gave that the scheduler has not been handed yet.
    private var held: [IOCompletion] = []
    private var inFlight = 0

    var kind: EngineKind { inner.kind }
    var capabilities: QueueCapabilities { inner.capabilities }
    var capacity: Int { inner.capacity }
    var pathDescription: String { inner.pathDescription + " + recording" }
    var wakeup: QueueWakeup? { inner.wakeup }

    init(inner: IOQueue, recorder: QueueRecorder, log: Int) {
        self.inner = inner
        self.recorder = recorder
        self.log = log
    }

    func begin(_ slice: Slice) { inner.begin(slice) }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {
        inner.prepare(memory: memory, region: region, fds: fds)
    }

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        recorder.passGate()
        let accepted = try inner.submit(requests, path: path)
        inFlight += accepted
        let taken = requests.prefix(accepted).map {
            QueueRecorder.Request(operation: $0.operation, offset: $0.offset, length: $0.length)
        }
        recorder.record(log, .submit(requests: requests.count, accepted: accepted, inFlight: inFlight),
                        requests: taken)
        return accepted
    }

    func cancel(tags: [Int]) { inner.cancel(tags: tags) }

    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        try inner.reap(minimum: max(0, minimum - held.count), into: &held, path: path)
        let handed = min(held.count, max(minimum, recorder.completionsPerReap ?? held.count))
        out.append(contentsOf: held.prefix(handed))
        held.removeFirst(handed)
        inFlight -= handed
        recorder.record(log, .reap(minimum: minimum, completed: handed, inFlight: inFlight))
    }
}
