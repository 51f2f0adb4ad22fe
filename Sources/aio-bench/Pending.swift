import ArgumentParser
struct ReportCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "report") }
struct FioEquivalentCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "fio-equivalent") }
