import Foundation

/// Text for the end of `generate` and `tune`.
public enum TuneOutput {
    /// Notes, tie report, DeepSpeed's performance line and the JSON; writes `output` when given.
    public static func recommendation(_ result: TuningResult, output: String?) throws(BenchError) -> [String] {
        var lines: [String] = []
        for note in result.notes { lines.append("note: \(note)") }
        if result.tied.count > 1 {
            let names = result.tied.map { $0.configuration.description }
            lines.append("tied (trial ranges overlap the best): \(names.joined(separator: "; ")); "
                + "choosing the cheapest: \(result.best.configuration)")
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
}
