import AIOBench
import AsyncIO

extension IOCommand {
    /// `io --mpi`: every rank measures its own folder at the same time, loops starting together; rank 0
    /// prints the job's summary, a table of the ranks and DeepSpeed's four lines for the job.
    func runAcrossRanks() throws {
        let coordinator = try ClusterLaunch.start()
        try ClusterLaunch.run(coordinator) {
            let operation: IOOperation = read ? .read : .write
            var setup: (plan: BenchPlan, config: HandleConfig)?
            var setupError: BenchError?
            do {
                setup = try prepare(warnings: coordinator.isLeader)
            } catch {
                setupError = error as? BenchError ?? benchError(wrappedIn: error) ?? .runtime("\(error)")
            }
            let arguments = setup.map { $0.plan.clusterArguments(config: $0.config, operation: operation) } ?? []
            try coordinator.agree(on: arguments, setupError: setupError)
            guard let setup else { return }  // not reached: agree throws on every rank when one has no setup
            let result = try coordinator.runIO(plan: setup.plan, config: setup.config, operation: operation)
            if coordinator.isLeader {
                if json {
                    say(result.json)
                } else {
                    for w in result.warnings { warn(w) }
                    for line in result.summaryLines { say(line) }
                    for line in result.deepSpeedLines { say(line) }
                }
            }
            try result.checkValidated()
        }
    }
}
