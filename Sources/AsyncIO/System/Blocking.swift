/// Runs `body` in a new task and blocks the calling thread until it is done: how a caller without
/// Swift concurrency (a C function, the Python package) drives an `async` API such as
/// `StreamWriter`. Never call it from a task: it would hold a thread of the cooperative pool.
package func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws(AsyncIOError) -> T)
    throws(AsyncIOError) -> T {
    let box = BlockingBox<T>()
    Task.detached {
        let result: Result<T, AsyncIOError>
        do throws(AsyncIOError) { result = .success(try await body()) } catch { result = .failure(error) }
        box.lock.withLock {
            box.result = result
            box.lock.broadcast()
        }
    }
    return try box.lock.withLock {
        while box.result == nil { box.lock.waitLocked() }
        return box.result!
    }.get()
}

/// The result of `runBlocking`, handed from the task to the waiting thread.
// @unchecked: `result` is read and written under `lock`.
private final class BlockingBox<T: Sendable>: @unchecked Sendable {
    let lock = ConditionLock()
    var result: Result<T, AsyncIOError>?
}
