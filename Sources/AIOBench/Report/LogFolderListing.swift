import AsyncIO
extension LogFolder {
    /// DeepSpeed's sorted `key = value` listing of `operation` (what `parse` prints).
    ///
    /// - Throws: `BenchError.usage` when the folder holds no log of `operation`.
    public func parseListing(for operation: IOOperation) throws(BenchError) -> [String] {
        let lines = deepSpeedLines(for: operation)
        if lines.isEmpty {
            throw .usage("no \(operation.rawValue) logs in '\(path)' (looked in \(operation.logFolderName)/)")
        }
        return lines
    }

    /// One warning per log of `operation` without a result line (missing or truncated).
    public func noResultWarnings(for operation: IOOperation) -> [String] {
        records(for: operation).filter { $0.metric == nil }.map { record in
            "\(record.path): no result line (\(record.log.error ?? "missing or truncated"))"
        }
    }

    /// One warning per file in the folder that was skipped, with the reason.
    public var skipWarnings: [String] {
        skipped.map { "skipped \($0.path): \($0.reason)" }
    }
}
