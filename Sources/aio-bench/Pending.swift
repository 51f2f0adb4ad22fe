import ArgumentParser
struct SweepCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "sweep") }
struct TuneCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "tune") }
struct ReportCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "report") }
struct FioEquivalentCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "fio-equivalent") }
