import Foundation

/// Ordinary least squares by the normal equations and a Cholesky factor, for the race's model of the
/// knobs. A column that is a linear combination of earlier ones (an effect the runs so far cannot tell
/// from others, as in a fraction of a grid) is dropped: its coefficient is 0 and it adds no degree of
/// freedom.
struct LeastSquares: Sendable {
    /// One coefficient per column (0 for a dropped column).
    var beta: [Double]
    /// Whether each column was kept.
    var kept: [Bool]
    /// The upper Cholesky factor R of X'X, row-major p × p (rows and columns of dropped columns are 0).
    private var r: [Double]
    /// Columns.
    let columns: Int
    /// Observations.
    let count: Int
    /// The residuals y − Xβ, one per observation.
    var residuals: [Double]

    /// Columns kept (the model's parameters).
    var rank: Int { kept.filter { $0 }.count }
    /// Residual degrees of freedom.
    var degreesOfFreedom: Int { count - rank }
    /// The residual sum of squares.
    var residualSumOfSquares: Double { residuals.reduce(0) { $0 + $1 * $1 } }

    /// Fits `y` on the rows of `x` (each `columns` long).
    init(rows x: [[Double]], y: [Double], columns p: Int) {
        columns = p
        count = y.count
        var a = [Double](repeating: 0, count: p * p)
        var b = [Double](repeating: 0, count: p)
        for (row, value) in zip(x, y) {
            let nonzero = row.indices.filter { row[$0] != 0 }
            for i in nonzero {
                b[i] += row[i] * value
                for j in nonzero where j >= i { a[i * p + j] += row[i] * row[j] }
            }
        }
        var r = [Double](repeating: 0, count: p * p)
        var kept = [Bool](repeating: false, count: p)
        for j in 0..<p {
            var s = a[j * p + j]
            for k in 0..<j where kept[k] { s -= r[k * p + j] * r[k * p + j] }
            guard a[j * p + j] > 0, s > 1e-9 * a[j * p + j] else { continue }
            kept[j] = true
            let pivot = s.squareRoot()
            r[j * p + j] = pivot
            for i in (j + 1)..<max(p, j + 1) {
                var t = a[j * p + i]
                for k in 0..<j where kept[k] { t -= r[k * p + j] * r[k * p + i] }
                r[j * p + i] = t / pivot
            }
        }
        // R'z = b, then Rβ = z.
        var z = [Double](repeating: 0, count: p)
        for i in 0..<p where kept[i] {
            var t = b[i]
            for k in 0..<i where kept[k] { t -= r[k * p + i] * z[k] }
            z[i] = t / r[i * p + i]
        }
        var beta = [Double](repeating: 0, count: p)
        for i in stride(from: p - 1, through: 0, by: -1) where kept[i] {
            var t = z[i]
            for k in (i + 1)..<max(p, i + 1) where kept[k] { t -= r[i * p + k] * beta[k] }
            beta[i] = t / r[i * p + i]
        }
        self.beta = beta
        self.kept = kept
        self.r = r
        residuals = zip(x, y).map { row, value in
            value - row.indices.reduce(0) { $0 + (row[$1] == 0 ? 0 : row[$1] * beta[$1]) }
        }
    }

    /// The fitted value x'β of a row.
    func predict(_ x: [Double]) -> Double {
        x.indices.reduce(0) { $0 + (x[$1] == 0 ? 0 : x[$1] * beta[$1]) }
    }

    /// g with |g|² = x'(X'X)⁻¹x (so the variance of x'β is σ²|g|², and of x'β − y'β is σ²|g_x − g_y|²):
    /// the solution of R'g = x over the kept columns. A row that loads a dropped column is not estimable;
    /// its dropped part is ignored.
    func whiten(_ x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: columns)
        for i in 0..<columns where kept[i] {
            var t = x[i]
            for k in 0..<i where kept[k] && g[k] != 0 { t -= r[k * columns + i] * g[k] }
            g[i] = t / r[i * columns + i]
        }
        return g
    }
}
