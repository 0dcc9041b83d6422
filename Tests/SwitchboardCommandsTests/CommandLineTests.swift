import Foundation
import Testing
@testable import SwitchboardCommands

/// Runs the built `switchboard` executable, which sits next to the test bundle.
func runSwitchboard(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
    var directory = bundle.deletingLastPathComponent()
    if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("switchboard").path) {
        directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug")
    }
    let process = Process()
    process.executableURL = directory.appendingPathComponent("switchboard")
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting: a child blocked on a full pipe never exits.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite(.serialized) struct CommandLineTests {
    @Test func helpListsSubcommands() throws {
        let result = try runSwitchboard(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: switchboard <subcommand>"))
        #expect(result.stdout.contains("version"))
        #expect(result.stdout.contains("bench"))
    }

    @Test func versionPrintsVersion() throws {
        let result = try runSwitchboard(["version"])
        #expect(result.status == 0)
        #expect(result.stdout == "switchboard \(SwitchboardVersion.current)\n")
    }

    @Test func unknownSubcommandFailsWithOneLineHint() throws {
        let result = try runSwitchboard(["frobnicate"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Unexpected argument 'frobnicate'"))
        #expect(result.stderr.contains("--help"))
    }

    @Test func benchCoreJSONIsMachineReadable() throws {
        let result = try runSwitchboard(["bench", "core", "--json", "--only", "endpointslices", "--only", "selectors", "--pods", "300", "--selector-pods", "1000"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let results = document?["results"] as? [[String: Any]] ?? []
        let names = results.compactMap { $0["name"] as? String }
        #expect(names.contains { $0.hasPrefix("EndpointSlices, full compute, 300 pods") })
        #expect(names.contains { $0.hasPrefix("Selector app=web,tier=frontend over 1000 pods") })
        #expect(results.allSatisfy { ($0["value"] as? Double ?? 0) > 0 })
    }

    @Test func badBenchPartIsRejected() throws {
        let result = try runSwitchboard(["bench", "core", "--only", "nonsense"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nonsense"))
    }
}
