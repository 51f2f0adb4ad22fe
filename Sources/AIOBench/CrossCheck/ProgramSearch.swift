import Foundation

/// Finds programs the way a shell does, in the folders of `PATH`.
public enum ProgramSearch {
    /// The folders searched when `PATH` is not set.
    public static let defaultSearchPath = "/usr/bin:/bin"

    /// The first executable file called `name` in the folders of `searchPath` (the environment's
    /// `PATH` when nil, else `defaultSearchPath`), or nil when there is none.
    ///
    /// - Parameters:
    ///   - name: the program's file name, such as `fio` or `ds_io`.
    ///   - searchPath: colon-separated folders, searched in order.
    public static func find(_ name: String, searchPath: String? = nil) -> String? {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? defaultSearchPath
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
