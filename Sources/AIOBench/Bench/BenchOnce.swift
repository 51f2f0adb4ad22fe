import AsyncIO

extension BenchTarget {
    /// The targets of one `io` run: one `folder`, or one per `DIR:ID` of `mapping`; exactly one of
    /// the two must be given.
    ///
    /// - Throws: `BenchError.usage` when both or neither are given, or a mapping is malformed.
    public static func targets(folder: String?, mapping: [String]) throws(BenchError) -> [BenchTarget] {
        if folder != nil && !mapping.isEmpty {
            throw .usage("give either --folder or --folder_to_device_mapping, not both")
        }
        if let folder { return [BenchTarget(folder: folder)] }
        if mapping.isEmpty {
            throw .usage("no folder given: use --folder DIR or --folder_to_device_mapping DIR:ID ...")
        }
        var targets: [BenchTarget] = []
        for text in mapping { targets.append(try parseMapping(text)) }
        return targets
    }
}

extension BenchRunner {
    /// Runs `operation` once with `config` (the whole plan: warm-up and measured loops), then removes
    /// the data files unless the plan keeps them. A failed run removes them even then.
    ///
    /// - Throws: the run's error, after removing its files.
    public func runOnce(_ operation: IOOperation, config: HandleConfig) throws(BenchError) -> BenchResult {
        let result: BenchResult
        do {
            result = try run(operation, config: config)
        } catch {
            cleanup()  // a failed run leaves nothing behind, even with keepFiles
            throw error
        }
        if !plan.keepFiles { cleanup() }
        return result
    }
}

extension BenchResult {
    /// Throws when the data was validated and differs; nothing when it matched or was not validated.
    ///
    /// - Throws: `BenchError.runtime` saying the data read back differs.
    public func checkValidated() throws(BenchError) {
        if validated == false {
            throw .runtime("validate: the data read back differs from what was expected")
        }
    }
}
