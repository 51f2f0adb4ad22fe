import Foundation

/// Text for the end of `generate` and `tune`.
public enum TuneOutput {
    /// Notes, tie report, DeepSpeed's performance line and the JSON; writes `output` when given.
    public static func recommendation(_ result: TuningResult, output: String?) throws(BenchError) -> [String] {
        var lines: [String] = []
        for note in result.notes { lines.append("note: \(note)") }
        if result.tied.count > 1 {
            var names = result.tied.prefix(5).map { short($0.configuration) }
            if result.tied.count > 5 { names.append("and \(result.tied.count - 5) more") }
            lines.append("tied: \(names.joined(separator: ", ")); chosen: \(short(result.best.configuration))")
        }
        lines.append(result.performanceLine)
        let json = result.aioJSON()
        lines.append(json)
        if let output {
            try LogWriter.write(json + "\n", toFile: output)
            lines.append("wrote \(output)")
        }
        return lines
    }

    /// A configuration as its log name without operation and extension: `block_overlap_ftd1_d8_bs1M_p1`.
    static func short(_ configuration: SweepConfiguration) -> String {
        let name = configuration.logFileName(operation: .read)
        return String(name.dropFirst("read_".count).dropLast(".txt".count))
    }
}
