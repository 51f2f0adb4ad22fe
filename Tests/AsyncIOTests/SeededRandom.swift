import Foundation

/// Steele, Lea and Flood's SplitMix64: a small, fast, seeded generator, so that a failing random
/// case can be run again from the seed its failure message names.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seeds of the randomised tests: fixed, so every run draws the same cases, unless
/// `AIO_TEST_SEED` gives another first seed (to explore, or to replay a seed from a failure).
enum TestSeed {
    /// The first seed.
    static let base: UInt64 = ProcessInfo.processInfo.environment["AIO_TEST_SEED"].flatMap { UInt64($0) }
        ?? 0x5EED_A10

    /// `count` consecutive seeds from `base`.
    static func seeds(_ count: Int) -> [UInt64] {
        (0..<UInt64(count)).map { base &+ $0 }
    }
}
