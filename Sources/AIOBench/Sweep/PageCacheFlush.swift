import AsyncIO

/// How a sweep empties the page cache before each configuration: the whole cache as root, else
/// the cached pages of its own test files.
enum PageCacheFlush: Sendable, Equatable, CustomStringConvertible {
    /// `sync`, then `3` into /proc/sys/vm/drop_caches (root only).
    case wholeCache
    /// The kernel's "don't need" advice on each test file (any user; `PageCache.drop(file:)`).
    case ownFiles

    /// The best method this process may use.
    static var available: PageCacheFlush { PageCache.canDropAll ? .wholeCache : .ownFiles }

    /// How the cache is dropped, in words.
    var description: String {
        switch self {
        case .wholeCache: PageCache.dropAllMethod
        case .ownFiles: PageCache.dropFileMethod
        }
    }

    /// Drops the cache; `files` are the test files (used by `.ownFiles`). Best effort: a cache
    /// that could not be dropped makes the next run slower to start, never wrong.
    func drop(files: [String]) {
        switch self {
        case .wholeCache: try? PageCache.dropAll()
        case .ownFiles: for path in files { try? PageCache.drop(file: path) }
        }
    }
}
