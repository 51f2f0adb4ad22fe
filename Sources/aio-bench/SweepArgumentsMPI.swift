import AIOBench

extension SweepArguments {
    /// `sweep --mpi` and `tune --mpi`: every rank checks its own flags and folders, rank 0's arguments are
    /// agreed on, then rank 0 runs the sweep (progress, logs, manifest, then `afterwards`) while the others run
    /// each trial with it.
    ///
    /// - Parameters:
    ///   - leaderCheck: checks only rank 0 makes before the sweep (the files it alone writes).
    ///   - afterwards: what rank 0 does after the sweep, before the others are let go (tune's recommendation).
    func runAcrossRanks(defaultDirs: [String], defaultTarget: MeasurementTarget = .native,
                        objective: TuningObjective = .time, leaderCheck: () throws -> Any? = { nil },
                        afterwards: (SweepOptions) throws -> Void = { _ in }) throws {
        let coordinator = try ClusterLaunch.start()
        try ClusterLaunch.run(coordinator) {
            let leader = coordinator.isLeader
            let progress = Progress(quiet: quiet || !leader, verbose: verbose)
            var setup: (options: SweepOptions, runner: SweepRunner)?
            var setupError: BenchError?
            do {
                if leader { _ = try leaderCheck() }
                let options = try options(defaultDirs: defaultDirs, defaultTarget: defaultTarget, objective: objective)
                let runner = try SweepRunner(options: options) { event in progress.show(event) }
                try options.checkDirectIO()
                setup = (options, runner)
            } catch {
                setupError = error as? BenchError ?? benchError(wrappedIn: error) ?? .runtime("\(error)")
            }
            try coordinator.agree(on: setup?.runner.clusterArguments ?? [], setupError: setupError)
            guard let setup else { return }  // not reached: agree throws on every rank when one has no setup
            let cluster = ClusterSweep(coordinator)
            guard leader else { return try cluster.follow(setup.runner) }
            if !quiet {
                progress.line(setup.options.headerLine(configurations: setup.runner.space.count)
                    + " (each on all \(coordinator.size) ranks at once)")
            }
            try cluster.lead(setup.runner) { summary in
                try conclude(summary, progress: progress)
                try afterwards(setup.options)
            }
        }
    }
}
