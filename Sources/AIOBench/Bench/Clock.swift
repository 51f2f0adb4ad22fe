/// Nanoseconds on Swift's `ContinuousClock` since this process first asked, for measuring intervals.
///
/// AIOBench's clock for loop, sweep and removal times (the engine keeps its own for request latency).
func monotonicNanos() -> UInt64 {
    let origin = clockOrigin  // first: the origin is set on first use, and must not be after `now`
    let (seconds, attoseconds) = (ContinuousClock.now - origin).components
    return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
}

/// The instant `monotonicNanos()` counts from.
private let clockOrigin = ContinuousClock.now
