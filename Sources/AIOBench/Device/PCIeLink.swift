import Foundation

/// A PCI Express link as sysfs reports it for one PCI function
/// (`current_link_speed`, `current_link_width`, `max_link_speed`, `max_link_width`).
///
/// The speed fields keep sysfs's own text (`"8.0 GT/s PCIe"`, `"2.5 GT/s"`, `"Unknown"`); the
/// arithmetic below turns them into the most a link can carry in one direction.
struct PCIeLink: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The PCI address of the function whose link this is, e.g. `0000:01:00.0`.
    var address: String
    /// `current_link_speed` as sysfs wrote it, or nil when the file is missing.
    var currentSpeed: String?
    /// `current_link_width` (lanes), or nil when missing or 0 (link down).
    var currentWidth: Int?
    /// `max_link_speed` as sysfs wrote it, or nil when the file is missing.
    var maxSpeed: String?
    /// `max_link_width` (lanes), or nil when missing or 0.
    var maxWidth: Int?

    /// Creates a link description from sysfs values.
    init(address: String, currentSpeed: String?, currentWidth: Int?, maxSpeed: String?, maxWidth: Int?) {
        self.address = address
        self.currentSpeed = currentSpeed
        self.currentWidth = currentWidth
        self.maxSpeed = maxSpeed
        self.maxWidth = maxWidth
    }

    /// The transfer rate in GT/s in a sysfs speed string: `"8.0 GT/s PCIe"` → 8, `"2.5 GT/s"` → 2.5;
    /// nil for `"Unknown"` or anything without a positive number before `GT/s`.
    static func gigatransfers(_ speed: String) -> Double? {
        guard let range = speed.range(of: "GT/s") else { return nil }
        let number = speed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return value
    }

    /// The PCIe generation of a transfer rate (2.5 → 1, 5 → 2, 8 → 3, 16 → 4, 32 → 5, 64 → 6, 128 → 7),
    /// or nil for a rate no generation uses.
    static func generation(gigatransfers: Double) -> Int? {
        let rates: [(Double, Int)] = [(2.5, 1), (5, 2), (8, 3), (16, 4), (32, 5), (64, 6), (128, 7)]
        return rates.first { abs($0.0 - gigatransfers) < 0.01 }?.1
    }

    /// The share of the raw bit rate left for data and the name of the line code, by transfer rate:
    /// Gen1 and Gen2 (below 8 GT/s) use 8b/10b (0.8); Gen3 to Gen5 use 128b/130b; Gen6 and later
    /// (64 GT/s and up) are taken in FLIT mode, 242 useful bytes of every 256 (about 0.945).
    static func encoding(gigatransfers: Double) -> (efficiency: Double, name: String) {
        if gigatransfers < 8 { return (8.0 / 10.0, "8b/10b") }
        if gigatransfers < 64 { return (128.0 / 130.0, "128b/130b") }
        return (242.0 / 256.0, "FLIT 242/256")
    }

    /// The most a link can carry in one direction, in bytes per second: the per-lane rate after line
    /// encoding (see `encoding(gigatransfers:)`) times `width`. Packet headers are not subtracted, so
    /// real transfers stay some 10–15 % below it. Nil for an unparsable speed or a width below 1.
    ///
    /// - Parameters:
    ///   - speed: sysfs text such as `"8.0 GT/s PCIe"`, `"16.0 GT/s PCIe"`, `"2.5 GT/s"`.
    ///   - width: the number of lanes.
    static func theoreticalBytesPerSecond(speed: String, width: Int) -> Double? {
        guard width >= 1, let rate = gigatransfers(speed) else { return nil }
        return rate * 1e9 * encoding(gigatransfers: rate).efficiency / 8 * Double(width)
    }

    /// The limit of the link as it is trained now (current speed and width), in bytes per second.
    var theoreticalBytesPerSecond: Double? {
        guard let speed = currentSpeed, let width = currentWidth else { return nil }
        return Self.theoreticalBytesPerSecond(speed: speed, width: width)
    }

    /// The limit the link could reach at its maximum speed and width, in bytes per second.
    var maxTheoreticalBytesPerSecond: Double? {
        guard let speed = maxSpeed, let width = maxWidth else { return nil }
        return Self.theoreticalBytesPerSecond(speed: speed, width: width)
    }

    /// The link in words, e.g. `PCIe 0000:01:00.0: 8 GT/s (Gen3, 128b/130b) x4 of max 8 GT/s x4`.
    var description: String {
        func side(_ speed: String?, _ width: Int?) -> String {
            let rate = speed.flatMap(Self.gigatransfers)
            var text = rate.map { Self.rateText($0) } ?? (speed ?? "speed unknown")
            if let rate {
                let gen = Self.generation(gigatransfers: rate).map { "Gen\($0), " } ?? ""
                text += " (\(gen)\(Self.encoding(gigatransfers: rate).name))"
            }
            return text + " x" + (width.map(String.init) ?? "?")
        }
        return "PCIe \(address): \(side(currentSpeed, currentWidth)) of max \(side(maxSpeed, maxWidth))"
    }

    /// The ceiling in words, e.g. `PCIe 8 GT/s x4 (Gen3, 128b/130b): 3.94 GB/s = 3.67 GiB/s per direction`.
    var ceiling: String {
        guard let limit = theoreticalBytesPerSecond, let speed = currentSpeed, let width = currentWidth,
            let rate = Self.gigatransfers(speed)
        else {
            return "PCIe \(address): link speed or width unknown (\(currentSpeed ?? "no speed")"
                + " x\(currentWidth.map(String.init) ?? "?")): no ceiling"
        }
        let gen = Self.generation(gigatransfers: rate).map { "Gen\($0), " } ?? ""
        let name = Self.encoding(gigatransfers: rate).name
        return "PCIe \(Self.rateText(rate)) x\(width) (\(gen)\(name)): \(Self.rateText(bytesPerSecond: limit))"
            + " per direction"
    }

    /// A warning when `bytesPerSecond` is above what this link can carry now, nil when it is not
    /// (or when the link's limit is unknown).
    func suspect(bytesPerSecond: Double) -> String? {
        guard let limit = theoreticalBytesPerSecond else { return nil }
        return Self.suspect(bytesPerSecond: bytesPerSecond, limit: limit, what: "the PCIe link (\(ceiling))")
    }

    /// The shared wording of a figure above a hardware limit.
    static func suspect(bytesPerSecond: Double, limit: Double, what: String) -> String? {
        guard bytesPerSecond.isFinite, limit > 0, bytesPerSecond > limit else { return nil }
        let percent = Int((bytesPerSecond / limit * 100).rounded())
        return "\(rateText(bytesPerSecond: bytesPerSecond)) is \(percent) % of the most \(what) can carry:"
            + " it cannot have come from the device. Likely causes: reads served from the page cache"
            + " (O_DIRECT not used or not honoured, or the page cache not dropped), or a sparse or short file"
            + " (holes read as zeros without touching the device)."
    }

    /// `8 GT/s`, `2.5 GT/s`.
    static func rateText(_ gigatransfers: Double) -> String {
        let whole = gigatransfers.rounded() == gigatransfers
        return (whole ? String(Int(gigatransfers)) : String(format: "%.1f", gigatransfers)) + " GT/s"
    }

    /// `3.94 GB/s = 3.67 GiB/s`.
    static func rateText(bytesPerSecond: Double) -> String {
        String(format: "%.2f GB/s = %.2f GiB/s", bytesPerSecond / 1e9, bytesPerSecond / Double(1 << 30))
    }
}
