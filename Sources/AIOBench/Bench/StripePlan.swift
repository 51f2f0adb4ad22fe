import AsyncIO

// `io --stripe D1 D2 ... [--stripe_size 1M]`: one task striped over the folders. What the plan allows.

extension BenchTarget {
    /// The targets of one `io` run: one `folder`, one per `DIR:ID` of `mapping`, or the folders of
    /// `stripe` in order (one task striped over them); exactly one of the three must be given.
    ///
    /// - Throws: `BenchError.usage` when more than one or none is given, or a mapping is malformed.
    public static func targets(folder: String?, mapping: [String], stripe: [String]) throws(BenchError)
        -> [BenchTarget] {
        guard !stripe.isEmpty else { return try targets(folder: folder, mapping: mapping) }
        if folder != nil || !mapping.isEmpty {
            throw .usage("give --stripe DIR ... instead of --folder or --folder_to_device_mapping, not with them")
        }
        return stripe.map { BenchTarget(folder: $0) }
    }
}

extension BenchPlan {
    /// The stripe size of an `io` run: `given` (or `StripeLayout.defaultStripeSize`) when `--stripe` names
    /// folders, nil when it does not.
    ///
    /// - Throws: `BenchError.usage` for `--stripe_size` without `--stripe`.
    public static func stripeSize(_ given: Int?, folders: [String]) throws(BenchError) -> Int? {
        if folders.isEmpty {
            if let given { throw .usage("--stripe_size \(ByteSize.compact(given)) needs --stripe DIR ...") }
            return nil
        }
        return given ?? StripeLayout.defaultStripeSize
    }

    /// Checks what a striped plan needs apart from the configuration: existing, writable folders, each
    /// given once, and no flag that means one task per folder or per loop file.
    func checkStripe() throws(BenchError) {
        guard let stripeSize, stripeSize > 0 else { throw .usage("--stripe_size must be greater than 0") }
        if tasksPerFolder != 1 {
            throw .usage("--multi_process \(tasksPerFolder) does not combine with --stripe: one task is striped "
                + "over the folders")
        }
        if differentFileEachIteration {
            throw .usage("--different_file_each_iteration does not combine with --stripe")
        }
        for target in targets { try BenchPlan.checkFolder(target.folder, flag: "stripe") }
        do {
            _ = try StripeLayout(folders: targets.map(\.folder), stripeSize: stripeSize)
        } catch {
            throw .usage("--stripe: \(error.message ?? error.description)")
        }
    }

    /// Checks a configuration against a striped plan: every request is one block inside one stripe
    /// chunk, so the stripe size must be a multiple of the block size; the simulated device does not
    /// model striping.
    func checkStripe(_ config: HandleConfig) throws(BenchError) {
        guard let stripeSize else { return }
        if config.engine == .sim {
            throw .usage("--engine sim does not combine with --stripe: the simulated device does not model striping")
        }
        if stripeSize % config.blockSize != 0 {
            throw .usage("--stripe_size \(ByteSize.compact(stripeSize)) is not a multiple of --block_size "
                + "\(ByteSize.compact(config.blockSize)): a request must not cross a stripe")
        }
    }
}
