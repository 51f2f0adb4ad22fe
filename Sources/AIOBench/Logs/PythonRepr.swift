import Foundation

/// Values printed the way Python 3 prints them, so that `parse` output matches DeepSpeed's
/// `parse_aio_stats.py` character for character.
enum PythonRepr {
    /// `repr(x)` of a Python float: the shortest text that reads back as the same double, in fixed
    /// notation when the decimal exponent is from -4 to 15 (`0.0001`, `1000000000000000.0`) and in
    /// scientific notation otherwise (`1e-05`, `1e+16`, `1.5e+300`); `inf`, `-inf`, `nan`, `-0.0`.
    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let sign = value < 0 ? "-" : ""
        // Swift's description is also the shortest round-trip text; take its digits and exponent.
        let text = value.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(pieces[0])
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = Array(whole + fraction)
        var point = whole.count + exponent  // value = 0.<digits> * 10^point
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return sign + "0.0" }
        if point > -4 && point <= 16 {
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
            if point >= digits.count {
                return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
            }
            return sign + String(digits[..<point]) + "." + String(digits[point...])
        }
        let power = point - 1
        let head = String(digits[0]) + (digits.count > 1 ? "." + String(digits[1...]) : "")
        let powerText = String(abs(power))
        return sign + head + "e" + (power < 0 ? "-" : "+") + (powerText.count < 2 ? "0" : "") + powerText
    }

    /// `repr(s)` of a Python str: single quotes unless the text holds `'` and no `"`, backslash escapes
    /// for the quote, backslash, `\t`, `\n`, `\r` and other control characters.
    static func string(_ value: String) -> String {
        let quote: Character = value.contains("'") && !value.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `'%W.Pf' % value`: fixed notation with `precision` decimals, right-aligned to `width`.
    static func fixed(_ value: Double, width: Int = 5, precision: Int = 2) -> String {
        let body: String
        if value.isNaN {
            body = "nan"
        } else if value.isInfinite {
            body = value < 0 ? "-inf" : "inf"
        } else {
            body = String(format: "%.\(precision)f", value)
        }
        return String(repeating: " ", count: max(0, width - body.count)) + body
    }
}
