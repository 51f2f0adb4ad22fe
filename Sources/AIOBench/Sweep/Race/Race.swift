import Foundation

/// Adaptive trials ("racing") with indifference-zone selection over a model of the knobs.
///
/// Each configuration's score in a round is the log of its speed (for `time` and `sum`, of the combined
/// speed of its read and write in that round), so ratios become differences. After every round, all
/// scores are fitted with one linear model (`KnobDesign`): an effect per level of each swept knob, the
/// two-knob interactions the runs support (forward selection by BIC), a round effect so drift common to
/// a round cancels, and an effect of its own for any configuration whose runs disagree with what its
/// knobs predict (a lack-of-fit test at the race's confidence, Bonferroni over the configurations), so
/// an outlier is judged on its own runs and neither hidden nor invented by the model.
///
/// The model's estimates pool every run. From them, Hsu's multiple comparisons with the best give
/// each configuration a lower bound on how far it can be from the best of all, simultaneously at the
/// confidence (the critical value is Dunnett's for the model's own correlations, by a seeded Monte
/// Carlo). The race ends when some configuration, with at least two runs of its own, is shown within
/// `tolerance` of the best; until then each round runs only the configurations that could still be
/// within the tolerance of the best. It always ends with a pick: the cheapest configuration shown
/// within the smallest margin the runs support (never less than the tolerance), and that margin.
package struct Race: Sendable, Equatable {
    /// The confidence of the statement made about the pick (0.95).
    var confidence: Double
    /// The indifference zone: a fraction of the best's speed within which configurations need not be
    /// told apart (0.03).
    var tolerance: Double

    /// Creates a race with its decision rule.
    package init(confidence: Double = 0.95, tolerance: Double = 0.03) {
        self.confidence = confidence
        self.tolerance = tolerance
    }

    /// The tolerance as a difference of log speeds.
    var logTolerance: Double { -log(1 - tolerance) }

    /// Runs of its own a configuration needs before it can be picked (its runs must be able to
    /// disagree with the model).
    static let ownRunsToPick = 2
    /// The fewest residual degrees of freedom the model keeps.
    static let minimumDegrees = 6

    /// The one-sided Student-t quantile (Cornish–Fisher expansion of the normal quantile; within 1 %
    /// of the exact value from 3 degrees of freedom up, and a small table below).
    static func studentQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        let z = normalQuantile(p)
        if df < 1.5, abs(p - 0.95) < 1e-9 { return 6.314 }
        if df < 2.5, abs(p - 0.95) < 1e-9 { return 2.920 }
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df * df)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df * df * df)
    }

    /// The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -normalQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
