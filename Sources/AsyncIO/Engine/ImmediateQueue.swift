/// A queue whose requests complete inside `submit`: completions wait in a list for `reap`.
class ImmediateQueue {
    let capacity: Int
    var ready: [IOCompletion] = []

    init(depth: Int) {
        capacity = depth
        ready.reserveCapacity(depth)
    }

    func prepare(memory: UnsafeMutableRawBufferPointer, region: UnsafeMutableRawBufferPointer?, fds: [Int32]) {}

    func reap(minimum: Int, into out: inout [IOCompletion], path: String) throws(AsyncIOError) {
        out.append(contentsOf: ready)
        ready.removeAll(keepingCapacity: true)
    }
}
