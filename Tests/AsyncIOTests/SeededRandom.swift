import Foundation

// The generator is AsyncIO's `SplitMix64`.

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
