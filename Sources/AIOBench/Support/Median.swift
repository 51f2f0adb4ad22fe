/// The one median of aio-bench, used for trials, loops, report cells and rankings alike.
///
/// For an odd count it is the middle value; for an even count it is the *lower* of the two middle
/// values, never their mean. So the median is always a measured trial: the one whose DeepSpeed
/// lines close a log is the one the ranking, the report and the exports use.
enum Median {
    /// The position of the median in a sorted collection of `count` elements (`count > 0`).
    static func index(count: Int) -> Int { (count - 1) / 2 }

    /// The median of `values` (NaN and infinities are left out); nil when none is left.
    static func of(_ values: [Double]) -> Double? {
        let sorted = values.filter(\.isFinite).sorted()
        return sorted.isEmpty ? nil : sorted[index(count: sorted.count)]
    }

    /// The median element of `items` ordered by `key`; nil for no items.
    static func element<T>(of items: [T], by key: (T) -> Double) -> T? {
        guard !items.isEmpty else { return nil }
        let sorted = items.sorted { key($0) < key($1) }
        return sorted[index(count: sorted.count)]
    }
}
