/// SplitMix64: a small, fast, seedable generator (Steele, Lea and Flood), the one the package uses
/// wherever a sequence must be the same for the same seed: simulated noise, the race's round order,
/// fills of test data.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state; the seed to begin with.
    package var state: UInt64

    /// Creates a generator from `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// SplitMix64's finaliser: a well-mixed 64-bit function of `value`.
    @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1).
    package mutating func nextUnitInterval() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
}
