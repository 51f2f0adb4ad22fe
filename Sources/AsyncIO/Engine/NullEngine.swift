/// No I/O: every request completes at once with its full length. For measuring the tool's
/// own per-request cost and for testing the scheduler without a disk.
final class NullQueue: ImmediateQueue, IOQueue {
    let kind = EngineKind.null
    let capabilities: QueueCapabilities = []
    var pathDescription: String { "null (no I/O)" }

    func submit(_ requests: UnsafeBufferPointer<IORequest>, path: String) throws(AsyncIOError) -> Int {
        for r in requests { ready.append(IOCompletion(tag: r.tag, result: r.length)) }
        return requests.count
    }
}
