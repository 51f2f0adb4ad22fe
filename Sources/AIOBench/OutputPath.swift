import AsyncIO
import Foundation

/// Files the tool is asked to write (`--output`, `--report`, `--csv`, `--json`).
public enum OutputPath {
    /// Checks, before any work, that `path` can name a file to write: not empty, not a folder, and
    /// in a folder that exists.
    ///
    /// - Parameters:
    ///   - path: the file to write.
    ///   - flag: the option that named it, for the message (`--output`).
    /// - Throws: `BenchError.usage` naming the flag, the path and what is wrong.
    public static func checkWritable(_ path: String, flag: String) throws(BenchError) {
        guard !path.isEmpty else { throw .usage("\(flag) is empty: give a file name") }
        if (try? FileSystem.status(of: path))?.kind == .directory {
            throw .usage("\(flag) '\(path)' is a folder: give a file name")
        }
        let parent = PathName.parent(of: path)
        guard (try? FileSystem.status(of: parent))?.kind == .directory else {
            throw .usage("\(flag) '\(path)': folder '\(parent)' does not exist")
        }
    }
}
