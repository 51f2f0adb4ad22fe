import AsyncIO
import Foundation

extension SweepRunner {
    /// The manifest file inside the log folder.
    static let manifestName = "manifest.json"

    /// The manifest of this sweep: what must match for old logs to count.
    var manifest: [String: String] {
        var manifest = [
            "tool": "aio-bench",
            "version": AIOBenchVersion.current,
            "io_size": String(options.ioSize),
            "loops": String(options.loops),
            "warmup_loops": String(options.warmupLoops),
            "trials": options.race.map { race in
                // The budget is not part of it: a stopped race may resume with more.
                "race: confidence \(race.confidence), tolerance \(race.tolerance), objective \(options.objective.rawValue)"
            } ?? String(options.trials),
            "engine": options.engine.rawValue,
            "buffered": String(options.buffered),
            "target": options.target.rawValue,
            "write_mode": options.writeMode.rawValue,
            // DeepSpeed's target always submits a batch in one call (see BenchPlan.resolve).
            "request_merging": options.target == .deepspeed ? RequestMerging.allowed.rawValue
                : options.engineOptions.requestMerging.rawValue,
            "folders": options.nvmeDirs.joined(separator: "\n"),
            "sweep_space": space.configurations.map(\.description).joined(separator: "\n"),
        ]
        // Across ranks: how many (a resume must have as many) and on which hosts (recorded, not compared:
        // a resumed job may get other nodes).
        if let cluster {
            manifest["ranks"] = String(cluster.hosts.count)
            manifest["hosts"] = cluster.hosts.joined(separator: "\n")
        }
        return manifest
    }

    /// The manifest as JSON text; with `race`, what the race concluded (the report draws it, and a
    /// resume writes the same again).
    private func manifestJSON(race: RaceRecord? = nil) -> String {
        var object: [String: Any] = [:]
        if let race { object["race"] = race.json }
        for (k, v) in manifest { object[k] = v }
        object["folders"] = options.nvmeDirs
        object["sweep_space"] = space.configurations.map(\.description)
        object["configurations"] = space.count
        if let cluster {
            object["ranks"] = cluster.hosts.count
            object["hosts"] = cluster.hosts
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A manifest as it reads: missing, damaged (with the parser's reason), or its values as text.
    enum ManifestState {
        case missing
        case damaged(String)
        case found([String: String])
    }

    private static func readManifest(_ path: String) -> ManifestState {
        guard let bytes = try? FileSystem.contents(of: path, limit: 16 << 20) else { return .missing }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return .damaged(reason ?? "not JSON")
        }
        guard let object = object as? [String: Any] else { return .damaged("not a JSON object") }
        return .found(manifestValues(object))
    }

    private static func manifestValues(_ object: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for (k, v) in object {
            if let s = v as? String {
                result[k] = s
            } else if let a = v as? [String] {
                result[k] = a.joined(separator: "\n")
            } else if let n = v as? Int {
                result[k] = String(n)
            }
        }
        return result
    }

    /// Compares with an existing manifest; returns the first difference, or nil when they match.
    private func difference(from old: [String: String]) -> String? {
        let mine = manifest
        for key in ["io_size", "loops", "warmup_loops", "trials", "engine", "buffered", "target", "write_mode",
                    "request_merging", "folders", "sweep_space", "ranks"] {
            let a = old[key] ?? "(none)"
            let b = mine[key] ?? "(none)"
            if a != b {
                let show = { (s: String) in s.count > 60 ? String(s.prefix(57)) + "..." : s }
                return "\(key) was \(show(a.replacingOccurrences(of: "\n", with: ", "))), "
                    + "now \(show(b.replacingOccurrences(of: "\n", with: ", ")))"
            }
        }
        return nil
    }

    func logFolder(_ op: IOOperation) -> String {
        PathName.join(options.logDir, op.logFolderName)
    }

    func prepareLogDir() throws(BenchError) {
        let manifestPath = PathName.join(options.logDir, SweepRunner.manifestName)
        let state = SweepRunner.readManifest(manifestPath)
        if case .damaged(let reason) = state, !options.force {
            throw .usage("--log_dir '\(options.logDir)': its \(SweepRunner.manifestName) is damaged (\(ConsoleText.oneLine(reason))), "
                + "so its logs cannot be matched to this sweep: use another --log_dir, or --force to start afresh")
        }
        if case .found(let old) = state, let diff = difference(from: old) {
            guard options.force else {
                throw .usage("--log_dir '\(options.logDir)' holds a different sweep (\(diff)): "
                    + "use another --log_dir, or --force to start afresh")
            }
            for op in IOOperation.allCases { try? FileSystem.removeTree(logFolder(op)) }
            onEvent(.note("--force: removed the old logs in \(options.logDir)"))
        } else if options.force {
            for op in IOOperation.allCases { try? FileSystem.removeTree(logFolder(op)) }
        } else if case .missing = state {
            // Logs without a manifest (a DeepSpeed run, or ours from before): do not mix.
            let existing = IOOperation.allCases.contains { op in
                ((try? FileSystem.contentsOfDirectory(logFolder(op))) ?? []).contains { $0.hasSuffix(".txt") }
            }
            if existing {
                throw .usage("--log_dir '\(options.logDir)' already holds logs from another run (no manifest): "
                    + "use another --log_dir, or --force to start afresh")
            }
        }
        for dir in [options.logDir] + [IOOperation.read, .write].map(logFolder) {
            do {
                try FileSystem.createDirectory(dir, permissions: 0o755)
            } catch where error.code != .fileExists {
                throw .runtime("mkdir \(dir): \(error.reason)", cause: error)
            } catch {}
        }
        try LogWriter.write(manifestJSON(), toFile: manifestPath)
    }

    /// Writes the manifest again with what the race concluded.
    func recordRace(_ summary: RaceSummary) throws(BenchError) {
        try LogWriter.write(manifestJSON(race: RaceRecord(summary)),
                            toFile: PathName.join(options.logDir, SweepRunner.manifestName), durable: false)
    }
}
