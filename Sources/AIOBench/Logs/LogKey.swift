/// One field of a log key: what DeepSpeed's `extract_value` makes of one `_`-separated piece of a name.
enum LogKeyField: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A number: from `t<N>`, `d<N>`, `p<N>` or `bs<N>[K|M|G]` (in bytes).
    case int(Int)
    /// Any other piece, kept as written (`read`, `block`, `ftd1`).
    case string(String)
    /// A piece DeepSpeed fails to convert (it prints `None`), e.g. `dX`.
    case none

    /// Converts one piece of a name the way DeepSpeed 0.19's `extract_value` does, except that `bs<N>G`
    /// and `bs<N>T` become bytes (DeepSpeed gives up on them).
    init(piece: String) {
        if piece.hasPrefix("ds") {
            self = .string(piece)
            return
        }
        guard let first = piece.first else {
            self = .none
            return
        }
        if "tdp".contains(first) {
            self = Self.pythonInt(piece.dropFirst()).map(Self.int) ?? .none
            return
        }
        if piece.hasPrefix("bs") {
            let body = piece.dropFirst(2)
            let units: [(Character, Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
            for (unit, scale) in units where body.last == unit {
                let number = body.prefix { $0 != unit }
                guard let value = Self.pythonInt(number) else {
                    self = .none
                    return
                }
                let (product, overflow) = value.multipliedReportingOverflow(by: scale)
                self = overflow ? .none : .int(product)
                return
            }
            self = Self.pythonInt(body).map(Self.int) ?? .none
            return
        }
        self = .string(piece)
    }

    /// Python's repr of the field: `'read'`, `128`, `None`.
    var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let text): PythonRepr.string(text)
        case .none: "None"
        }
    }

    /// Python orders numbers and strings only among themselves; here `None` < numbers < strings.
    static func < (lhs: LogKeyField, rhs: LogKeyField) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): a < b
        case (.string(let a), .string(let b)): Array(a.unicodeScalars.map(\.value))
            .lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
        default: lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .none: 0
        case .int: 1
        case .string: 2
        }
    }

    /// Python's `int(text)` for plain decimal text: optional spaces and sign, digits, single underscores
    /// between digits.
    private static func pythonInt(_ text: Substring) -> Int? {
        var body = Substring(String(text).trimmingWhitespace())
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body.removeFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, let last = body.last, last.isASCII,
              last.isNumber, !body.contains("__")
        else { return nil }
        let digits = body.filter { $0 != "_" }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else { return nil }
        return negative ? -value : value
    }
}

/// DeepSpeed's key of a log: the file stem split on `_`, each piece converted (`LogKeyField`), printed as
/// a Python tuple: `('read', 'block', 'overlap', 'ftd1', 128, 1048576, 1)`.
package struct LogKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The converted pieces, in order.
    var fields: [LogKeyField]

    /// Creates a key from its fields.
    init(fields: [LogKeyField]) {
        self.fields = fields
    }

    /// The key of a file name (a path is cut to its last component), like DeepSpeed's `get_file_key`:
    /// the extension is removed as `os.path.splitext` does, the rest split on `_`.
    package init(fileName: String) {
        let base = fileName.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? fileName
        var stem = base
        if let dot = base.lastIndex(of: "."), base[..<dot].contains(where: { $0 != "." }) {
            stem = String(base[..<dot])
        }
        fields = stem.split(separator: "_", omittingEmptySubsequences: false).map { LogKeyField(piece: String($0)) }
    }

    /// The Python tuple repr: `('read', 'block', 128)`; a one-field key prints `('read',)`.
    package var description: String {
        "(" + fields.map(\.description).joined(separator: ", ") + (fields.count == 1 ? ",)" : ")")
    }

    /// Python's tuple order: field by field, a shorter prefix first.
    package static func < (lhs: LogKey, rhs: LogKey) -> Bool {
        lhs.fields.lexicographicallyPrecedes(rhs.fields)
    }
}
