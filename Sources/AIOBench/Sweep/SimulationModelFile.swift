import AsyncIO
import Foundation

/// The `--sim_model FILE.json` of the `sim` engine: a `SimulatedDevice` written with DeepSpeed's
/// sweep-config key names and value forms:
///
/// ```json
/// {"seed": 7, "noise": 0.05, "drift": 0.0,
///  "read":  {"default": 1.0, "speeds": [{"block_size": "1M", "queue_depth": 32, "single_submit": false,
///                                        "sequential_requests": false, "io_parallel": 1, "gibps": 3.2}]},
///  "write": {"default": 0.8, "speeds": []}}
/// ```
///
/// An entry's omitted key matches any value; the matching entry that names the most keys wins (the
/// first of equals); no match gives `default`. Every mistake is one usage line naming the key.
package enum SimulationModelFile {
    /// The model the flags ask for: loaded from `model` when `engine` is `sim`; nil for other engines.
    ///
    /// - Throws: `BenchError.usage` when `--engine sim` lacks `--sim_model`, when `--sim_model` is given
    ///   for another engine, or what `load(_:)` throws.
    package static func forEngine(_ engine: EngineKind, model: String?) throws(BenchError) -> SimulatedDevice? {
        switch (engine == .sim, model) {
        case (true, nil): throw .usage("--engine sim needs --sim_model FILE.json, the device model to simulate")
        case (false, .some): throw .usage("--sim_model is used by --engine sim only: add --engine sim, or drop it")
        case (true, .some(let path)): return try load(path)
        case (false, nil): return nil
        }
    }

    /// Reads and checks the model in `path` (`-` is standard input).
    static func load(_ path: String) throws(BenchError) -> SimulatedDevice {
        let source = "--sim_model \(path)"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.contents(of: path == "-" ? "/dev/stdin" : path, limit: 16 << 20)
        } catch {
            throw .usage("\(source) cannot be read: \(error.code == .noSuchFile ? "no such file" : error.reason)")
        }
        return try parse(bytes, source: source)
    }

    /// Parses a model; `source` names it in messages.
    static func parse(_ bytes: [UInt8], source: String) throws(BenchError) -> SimulatedDevice {
        let root: JSONValue
        do throws(JSONError) {
            var parser = JSONParser(bytes: bytes)
            root = try parser.parseDocument()
        } catch {
            throw .usage("\(source) is not valid JSON: \(error.message)")
        }
        let top = try object(root, "\(source)", allowed: ["seed", "noise", "drift", "read", "write"])
        guard let seedValue = top["seed"] else { throw .usage("\(source) lacks \"seed\" (a whole number)") }
        let seed = try integer(seedValue, "\(source) key \"seed\"")
        let noise = try top["noise"].map { v throws(BenchError) in try number(v, "\(source) key \"noise\"") } ?? 0
        let drift = try top["drift"].map { v throws(BenchError) in try number(v, "\(source) key \"drift\"") } ?? 0
        var tables: [SimulatedDevice.Table] = []
        for name in ["read", "write"] {
            guard let value = top[name] else { throw .usage("\(source) lacks \"\(name)\": {\"default\": GiB/s}") }
            tables.append(try table(value, "\(source) key \"\(name)\""))
        }
        let model = SimulatedDevice(seed: UInt64(truncatingIfNeeded: seed), noise: noise, drift: drift,
                                    read: tables[0], write: tables[1])
        do {
            try model.validate()
        } catch {
            throw .usage("\(source): \(error.message ?? error.description)")
        }
        return model
    }

    private static func table(_ value: JSONValue, _ context: String) throws(BenchError) -> SimulatedDevice.Table {
        let members = try object(value, context, allowed: ["default", "speeds"])
        guard let fallback = members["default"] else { throw .usage("\(context) lacks \"default\" (GiB/s)") }
        var entries: [SimulatedDevice.Entry] = []
        if let speeds = members["speeds"] {
            guard case .array(let list) = speeds else {
                throw .usage("\(context) key \"speeds\" must be a list of objects; found \(speeds.kind)")
            }
            for (index, item) in list.enumerated() {
                entries.append(try entry(item, "\(context) speeds[\(index)]"))
            }
        }
        return SimulatedDevice.Table(defaultGiBps: try number(fallback, "\(context) key \"default\""), speeds: entries)
    }

    private static func entry(_ value: JSONValue, _ context: String) throws(BenchError) -> SimulatedDevice.Entry {
        let keys = ["block_size", "queue_depth", "single_submit", "sequential_requests", "overlap_events",
                    "io_parallel", "gibps"]
        let members = try object(value, context, allowed: keys)
        guard let speed = members["gibps"] else { throw .usage("\(context) lacks \"gibps\" (its speed in GiB/s)") }
        var entry = SimulatedDevice.Entry(gibps: try number(speed, "\(context) key \"gibps\""))
        if let block = members["block_size"] {
            switch block {
            case .string(let text): entry.blockSize = try ByteSize.parse(text, name: "\(context) key \"block_size\"")
            default: entry.blockSize = try integer(block, "\(context) key \"block_size\"")
            }
        }
        entry.queueDepth = try members["queue_depth"].map { v throws(BenchError) in
            try integer(v, "\(context) key \"queue_depth\"")
        }
        entry.intraOpParallelism = try members["io_parallel"].map { v throws(BenchError) in
            try integer(v, "\(context) key \"io_parallel\"")
        }
        entry.singleSubmit = try members["single_submit"].map { v throws(BenchError) in
            try flag(v, "\(context) key \"single_submit\"")
        }
        if let sequential = members["sequential_requests"] {
            entry.overlapEvents = !(try flag(sequential, "\(context) key \"sequential_requests\""))
        }
        if let overlap = members["overlap_events"] {
            entry.overlapEvents = try flag(overlap, "\(context) key \"overlap_events\"")
        }
        return entry
    }

    private static func object(_ value: JSONValue, _ context: String, allowed: [String]) throws(BenchError)
        -> [String: JSONValue]
    {
        guard case .object(let members) = value else { throw .usage("\(context) must be an object; found \(value.kind)") }
        var result: [String: JSONValue] = [:]
        for (key, member) in members {
            guard allowed.contains(key) else {
                throw .usage("\(context) has unknown key \"\(key)\": allowed are \(allowed.joined(separator: ", "))")
            }
            guard result[key] == nil else { throw .usage("\(context) has key \"\(key)\" twice") }
            result[key] = member
        }
        return result
    }

    private static func number(_ value: JSONValue, _ context: String) throws(BenchError) -> Double {
        guard case .number(let text, _) = value, let number = Double(text), number.isFinite else {
            throw .usage("\(context) value \(value.shown) is not allowed: expected a number")
        }
        return number
    }

    private static func integer(_ value: JSONValue, _ context: String) throws(BenchError) -> Int {
        guard case .number(let text, true) = value, let number = Int(text), number >= 0 else {
            throw .usage("\(context) value \(value.shown) is not allowed: expected a whole number >= 0")
        }
        return number
    }

    private static func flag(_ value: JSONValue, _ context: String) throws(BenchError) -> Bool {
        guard case .bool(let flag) = value else {
            throw .usage("\(context) value \(value.shown) is not allowed: expected true or false")
        }
        return flag
    }
}
