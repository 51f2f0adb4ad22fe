import AsyncIO
/// A log file name taken apart: the operation and configuration it stands for.
package struct SweepLogName: Hashable, Sendable {
    /// The measured operation (first field).
    package var operation: IOOperation
    /// The configuration the name describes; fields the name lacks take the sweep defaults.
    package var configuration: SweepConfiguration
    /// Whether the name carries the `_t<N>` tasks-per-folder tag.
    package var hasTasksPerFolderTag: Bool
    /// Whether the name carries the `_e<engine>` tag.
    package var hasEngineTag: Bool
    /// The file name itself, `read_block_overlap_ftd1_d32_bs1M_p1.txt`.
    package var fileName: String

    /// The name of a configuration's log, tagged as asked.
    package init(operation: IOOperation, configuration: SweepConfiguration, tagTasksPerFolder: Bool = false,
                tagEngine: Bool = false) {
        self.operation = operation
        self.configuration = configuration
        self.hasTasksPerFolderTag = tagTasksPerFolder
        self.hasEngineTag = tagEngine && configuration.engine != nil
        self.fileName = configuration.logFileName(operation: operation, tagTasksPerFolder: tagTasksPerFolder,
                                                  tagEngine: tagEngine)
    }

    /// Parses a log file name (not a path) back into its operation and configuration; nil when the name
    /// is not `<op>_<single|block>_<sequential|overlap>_ftd<F>_d<Q>_bs<B>_p<P>[_t<N>][_e<engine>].txt`.
    package init?(fileName: String) {
        guard fileName.hasSuffix(".txt") else { return nil }
        let stem = fileName.dropLast(4)
        let fields = stem.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 7, let operation = IOOperation(rawValue: fields[0]) else { return nil }
        var config = SweepConfiguration()
        switch fields[1] {
        case "single": config.singleSubmit = true
        case "block": config.singleSubmit = false
        default: return nil
        }
        switch fields[2] {
        case "sequential": config.overlapEvents = false
        case "overlap": config.overlapEvents = true
        default: return nil
        }
        guard let folders = Self.positive(fields[3], prefix: "ftd"),
              let depth = Self.positive(fields[4], prefix: "d"),
              fields[5].hasPrefix("bs"),
              let parallel = Self.positive(fields[6], prefix: "p")
        else { return nil }
        let blockText = String(fields[5].dropFirst(2))
        guard SweepConfiguration.isNameText(blockText), let bytes = try? ByteSize.parse(blockText) else { return nil }
        config.folderCount = folders
        config.queueDepth = depth
        config.intraOpParallelism = parallel
        config.blockSize = bytes
        config.blockSizeText = blockText
        var rest = fields[7...]
        var tasksTag = false
        if let first = rest.first, first.hasPrefix("t") {
            guard let tasks = Self.positive(first, prefix: "t") else { return nil }
            config.tasksPerFolder = tasks
            tasksTag = true
            rest = rest.dropFirst()
        }
        var engineTag = false
        if let first = rest.first {
            guard first.hasPrefix("e") else { return nil }
            let engine = String(first.dropFirst()) + rest.dropFirst().map { "_" + $0 }.joined()
            guard let kind = EngineKind(rawValue: engine), kind != .auto else { return nil }
            config.engine = kind
            engineTag = true
        }
        self.operation = operation
        self.configuration = config
        self.hasTasksPerFolderTag = tasksTag
        self.hasEngineTag = engineTag
        self.fileName = fileName
    }

    /// The name without `.txt`.
    var stem: String { String(fileName.dropLast(4)) }

    private static func positive(_ field: String, prefix: String) -> Int? {
        guard field.hasPrefix(prefix) else { return nil }
        let digits = field.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value > 0
        else { return nil }
        return value
    }
}
