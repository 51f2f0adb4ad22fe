/// Joining and splitting paths as strings, with POSIX `dirname`/`basename` rules.
///
/// Foundation's `NSString` path methods are not used for this: on Linux,
/// `deletingLastPathComponent` traps on a one-character relative path such as `l` (swift-corelibs-
/// foundation, Swift 6.x), which made `aio-bench tune --log_dir l` crash. These functions never
/// touch the file system and accept any string.
package enum PathName {
    /// `folder` and `name` joined by one `/`: `join("a/", "b")` is `a/b`, `join("", "b")` is `b`,
    /// `join("/", "b")` is `/b`. Slashes at the start of `name` are dropped (it names an entry in
    /// `folder`).
    package static func join(_ folder: String, _ name: String) -> String {
        let entry = String(name.drop { $0 == "/" })
        if folder.isEmpty { return entry }
        let base = trimmingTrailingSlashes(folder)
        if entry.isEmpty { return base }
        return base == "/" ? "/" + entry : base + "/" + entry
    }

    /// The folder that holds `path`, as `dirname` gives it: `a/b` → `a`, `a/b/` → `a`, `b` → `.`,
    /// `/b` → `/`, `/` → `/`, the empty path → `.`.
    package static func parent(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let folder = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return folder.isEmpty ? "/" : folder
    }

    /// The last component of `path`, as `basename` gives it: `a/b` → `b`, `a/b/` → `b`, `/` → `/`,
    /// the empty path → the empty string.
    package static func lastComponent(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `path` without slashes at its end, except a path made only of slashes, which becomes `/`.
    static func trimmingTrailingSlashes(_ path: String) -> String {
        guard path.hasSuffix("/") else { return path }
        let kept = path.reversed().drop { $0 == "/" }
        return kept.isEmpty ? "/" : String(kept.reversed())
    }
}
