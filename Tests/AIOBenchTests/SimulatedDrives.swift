@testable import AIOBench
import AsyncIO
import Foundation

/// Simulated drives whose truth is known only to the check: speeds per configuration of the default
/// 64-point grid (block 1M, 8M × queue depth 32, 128 × single submit × overlap × io_parallel 1–8) or of a
/// 256-point one (4 block sizes × 4 queue depths), drawn from a seed.
struct SimDrive {
    /// Each configuration's knob values [block, queue depth, single, overlap, io_parallel], read and write GiB/s.
    var factors: [[Int]]
    var read: [Double]
    var write: [Double]
    var costRank: [Int]
    var score: [Double] { zip(read, write).map { 1 / (1 / $0 + 1 / $1) } }

    static func grid(big: Bool) -> [[Int]] {
        let blocks = big ? [128 << 10, 512 << 10, 1 << 20, 8 << 20] : [1 << 20, 8 << 20]
        let depths = big ? [4, 16, 32, 128] : [32, 128]
        var out: [[Int]] = []
        for b in blocks { for q in depths { for o in [0, 1] { for s in [0, 1] { for p in [1, 2, 4, 8] {
            out.append([b, q, s, o, p])
        } } } } }
        return out
    }

    static func costRank(_ f: [[Int]]) -> [Int] {
        let order = f.indices.sorted { (f[$0][4], f[$0][1], f[$0][0], $0) < (f[$1][4], f[$1][1], f[$1][0], $1) }
        var rank = [Int](repeating: 0, count: f.count)
        for (r, c) in order.enumerated() { rank[c] = r }
        return rank
    }

    /// A smooth drive: log speed = Σ knob effects + three two-knob interactions, all drawn from the seed.
    static func smoothSide(_ f: [[Int]], _ rng: inout SplitMix64) -> [Double] {
        func normal() -> Double {
            let u = rng.nextUnitInterval(), v = rng.nextUnitInterval()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let knobs = f[0].count
        let levels = (0..<knobs).map { k in Array(Set(f.map { $0[k] })).sorted() }
        let main = levels.map { l in l.map { _ in normal() * (l.count > 2 ? 0.12 : 0.05) } }
        var pairs: [(Int, Int, [[Double]])] = []
        for _ in 0..<3 {
            let a = Int(rng.next() % UInt64(knobs)); var b = Int(rng.next() % UInt64(knobs))
            if b == a { b = (a + 1) % knobs }
            pairs.append((a, b, levels[a].map { _ in levels[b].map { _ in normal() * 0.05 } }))
        }
        return f.map { c in
            var s = 1.0
            for k in 0..<knobs { s += main[k][levels[k].firstIndex(of: c[k])!] }
            for (a, b, e) in pairs { s += e[levels[a].firstIndex(of: c[a])!][levels[b].firstIndex(of: c[b])!] }
            return exp(s)
        }
    }

    static func smooth(big: Bool, seed: UInt64) -> SimDrive {
        var rng = SplitMix64(seed: seed &* 7919 &+ 17)
        let f = grid(big: big)
        return SimDrive(factors: f, read: smoothSide(f, &rng), write: smoothSide(f, &rng), costRank: costRank(f))
    }

    /// A smooth 64-point drive with one configuration, drawn from the seed, 10 % clear of the rest.
    static func outlier(seed: UInt64) -> SimDrive {
        var d = smooth(big: false, seed: seed &+ 1000)
        var rng = SplitMix64(seed: seed &* 31 &+ 5)
        let c = Int(rng.next() % UInt64(d.factors.count))
        let best = d.score.max()!
        let factor = 1.10 * best / d.score[c]
        d.read[c] *= factor
        d.write[c] *= factor
        return d
    }
}

/// How one simulated race ended.
struct SimOutcome { var pick: Int; var runs: Int; var margin: Double?; var rounds: Int; var reason: String }

/// Races `drive` through the planner the sweep uses, each run's speed off by `noise` (relative, normal)
/// and a drift common to the round (`drift`, 2 % by default); both operations per configuration and round (2 runs), the
/// `time` objective, a budget of half a fixed 3-trial sweep.
func simulate(_ drive: SimDrive, noise: Double, seed: UInt64, drift: Double = 0.02, race: Race = Race(),
              budget: Int? = nil) -> SimOutcome {
    var rng = SplitMix64(seed: seed &* 0x51 &+ 3)
    func normal() -> Double {
        let u = rng.nextUnitInterval(), v = rng.nextUnitInterval()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    let k = drive.factors.count
    let budget = budget ?? 3 * k  // half a fixed 3-trial sweep of read and write
    var planner = RacePlanner(race: race, factors: drive.factors, costRank: drive.costRank, maxTrials: 10)
    var runs = 0
    while true {
        var members = planner.beginRound()
        if members.isEmpty { break }
        if runs + 2 * members.count > budget {
            members = Array(members.prefix((budget - runs) / 2))
            if members.count < 1 || (planner.round > 1 && members.count < 2) { planner.stop("budget"); break }
        }
        let roundDrift = 1 + drift * normal()
        for c in members {
            let r = drive.read[c] * roundDrift * (1 + noise * normal())
            let w = drive.write[c] * roundDrift * (1 + noise * normal())
            planner.record(c, score: log(1 / (1 / r + 1 / w)))
            runs += 2
        }
        planner.finishRound()
    }
    let a = planner.assessment!
    return SimOutcome(pick: a.pick, runs: runs, margin: a.marginFraction, rounds: planner.round,
                      reason: planner.stopReason ?? "?")
}
