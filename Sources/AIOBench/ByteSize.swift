/// Byte counts written the way DeepSpeed writes them: `400M`, `1G`, `128K`, `4096`.
public enum ByteSize {
    /// Parses a size: a positive whole number with an optional `K`, `M`, `G` or `T` suffix
    /// (powers of 1024; a trailing `B` or `iB` is allowed: `4MiB`, `4MB`, `4M` are the same).
    ///
    /// - Throws: `BenchError.usage` naming the value and what is allowed.
    public static func parse(_ text: String, name: String = "size") throws(BenchError) -> Int {
        let trimmed = text.trimmingWhitespace()
        let allowed = "a positive whole number of bytes, optionally with K, M, G or T (powers of 1024), e.g. 400M"
        guard !trimmed.isEmpty else { throw .usage("\(name) is empty: expected \(allowed)") }
        var digits = Substring(trimmed)
        var multiplier = 1
        var suffix = ""
        while let last = digits.last, last.isLetter {
            suffix = String(last) + suffix
            digits.removeLast()
        }
        switch suffix.uppercased() {
        case "", "B": multiplier = 1
        case "K", "KB", "KIB": multiplier = 1 << 10
        case "M", "MB", "MIB": multiplier = 1 << 20
        case "G", "GB", "GIB": multiplier = 1 << 30
        case "T", "TB", "TIB": multiplier = 1 << 40
        default: throw .usage("\(name) '\(text)' has an unknown unit '\(suffix)': expected \(allowed)")
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
            throw .usage("\(name) '\(text)' is not valid: expected \(allowed)")
        }
        guard value > 0 else { throw .usage("\(name) '\(text)' must be greater than 0") }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw .usage("\(name) '\(text)' is too large") }
        return product
    }

    /// Formats bytes with the largest unit that divides them exactly (`1M`, `128K`, `1536`).
    public static func compact(_ bytes: Int) -> String {
        for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where bytes >= 1 << shift {
            if bytes % (1 << shift) == 0 { return "\(bytes >> shift)\(unit)" }
        }
        return "\(bytes)"
    }

    /// Formats bytes for people: `1.00 GiB`, `512 KiB`.
    package static func human(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var i = 0
        while value >= 1024 && i < units.count - 1 {
            value /= 1024
            i += 1
        }
        if i == 0 { return "\(bytes) B" }
        let rounded = (value * 100).rounded() / 100
        return value == value.rounded() ? "\(Int(value)) \(units[i])" : "\(rounded) \(units[i])"
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
