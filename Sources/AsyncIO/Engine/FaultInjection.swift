import Glibc
import Synchronization

/// Faults to inject into a handle's requests, for tests of the error and continuation paths.
///
/// Requests are numbered from 1 in the order they are submitted, across all workers of the
/// handle. The real transfer still happens; only the result the scheduler sees is changed.
package struct FaultInjection: Sendable, Hashable {
    /// Make request number `failRequest` fail with `failErrno`.
    package var failRequest: Int?
    /// The errno for `failRequest` (default `EIO`).
    package var failErrno: Int32
    /// Make request number `shortRequest` report that it moved only half its bytes.
    package var shortRequest: Int?
    /// Make every request report a short transfer (at least one byte less than asked).
    package var everyRequestShort: Bool

    /// Creates a fault plan.
    package init(failRequest: Int? = nil, failErrno: Int32 = EIO, shortRequest: Int? = nil,
                everyRequestShort: Bool = false) {
        self.failRequest = failRequest
        self.failErrno = failErrno
        self.shortRequest = shortRequest
        self.everyRequestShort = everyRequestShort
    }
}

/// Wraps a queue and alters the results of chosen requests.
final class FaultInjectingQueue: IOQueue {
    private let inner: IOQueue
    private let plan: FaultInjection
    private var altered: [Int: (Int) -> Int] = [:]

    var kind: EngineKind { inner.kind }
    var capabilities: QueueCapabilities { inner.capabilities }
    var capacity: Int { inner.capacity }
    var pathDescription: String { inner.pathDescription + " + fault injection" }

    init(inner: IOQueue, plan: FaultInjection, counter: FaultCounter) {
        self.inner = inner
        self.plan = plan
        self.sharedCounter = counter
    }

    private let sharedCounter: FaultCounter

    func begin(_ slice: Slice) { inner.begin(slice) }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {
        inner.prepare(memory: memory, region: region, fds: fds)
    }

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        let accepted = try inner.submit(requests, path: path)
        for r in requests.prefix(accepted) {
            let number = sharedCounter.next()
            if number == plan.failRequest {
                let code = plan.failErrno
                altered[r.tag] = { _ in -Int(code) }
            } else if number == plan.shortRequest || plan.everyRequestShort {
                altered[r.tag] = { result in result > 1 ? result / 2 : result }
            }
        }
        return accepted
    }

    func cancel(tags: [Int]) { inner.cancel(tags: tags) }

    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        let start = out.count
        try inner.reap(minimum: minimum, into: &out, path: path)
        for i in start..<out.count {
            if let change = altered.removeValue(forKey: out[i].tag), out[i].result >= 0 {
                out[i].result = change(out[i].result)
            }
        }
    }
}

/// Numbers requests across the workers of one handle.
final class FaultCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
