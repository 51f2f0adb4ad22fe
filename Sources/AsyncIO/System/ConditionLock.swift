import CAsyncIO
import Glibc

/// A mutex with one condition variable, for the handle's worker threads.
///
/// `Synchronization.Mutex` has no condition variable, and the workers must sleep until work
/// arrives, so this wraps `pthread_mutex_t` and `pthread_cond_t` in heap memory that never moves.
// @unchecked: the pthread mutex serialises everything; its storage is heap memory that never moves.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the mutex held.
    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits on the condition; call only with the mutex held (inside `withLock`).
    func waitLocked() { pthread_cond_wait(cond, mutex) }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(cond) }
}

/// Starts a detached-joinable OS thread running `body`; `join()` waits for it.
// @unchecked: `thread` is written once by pthread_create before any other thread can see the object,
// and read only by `join()`.
final class OSThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(name: String, _ body: @escaping @Sendable () -> Void) throws(AsyncIOError) {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<OSThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, unmanaged.toOpaque())
        if rc != 0 {
            unmanaged.release()
            throw .system("pthread_create", errno: rc)
        }
        _ = CAsyncIO_set_thread_name(thread, String(name.prefix(15)))
    }

    /// Waits for the thread to end; called on the thread itself it detaches instead (a thread
    /// cannot join itself, and an unjoined thread would keep its stack).
    func join() {
        if pthread_equal(pthread_self(), thread) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }
}
