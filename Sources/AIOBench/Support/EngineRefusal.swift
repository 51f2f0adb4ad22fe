import AsyncIO
import Foundation

/// `AIO_BENCH_REFUSE_ENGINES=io_uring,aio`: the engines the tool reports as refused, so its fallback
/// path can be exercised (tests of the CLI). AsyncIO reads no environment; the tool passes it on.
public enum EngineRefusal {
    /// The variable's name.
    static let variable = "AIO_BENCH_REFUSE_ENGINES"

    /// Applies the variable of `environment` (the process's by default) to the engine probe.
    public static func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let list = environment[variable], !list.isEmpty else { return }
        let kinds = Set(list.split(separator: ",").compactMap { EngineKind(rawValue: String($0)) })
        EngineProbe.refused.withLock { $0 = (kinds, "refused by \(variable)") }
    }
}
