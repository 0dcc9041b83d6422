#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Logging

/// The root of the command line: Kubernetes ClusterIP Service networking in one binary.
public struct SwitchboardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Kubernetes ClusterIP Service networking: stable virtual IPs, DNS names and load balancing over ready pods.",
        discussion: """
            A Service gets a ClusterIP, a stable virtual address; its selector picks pods, whose ready addresses \
            become its endpoints; the proxy on each node turns traffic to the ClusterIP into connections to those \
            endpoints; cluster DNS gives the Service a name.
            """,
        version: SwitchboardVersion.current,
        subcommands: [VersionCommand.self, UpCommand.self, NodeCommand.self, ProxyCommand.self, DNSCommand.self, LabCommand.self, DemoCommand.self, EchoCommand.self, BenchCommand.self])

    public init() {}
}

/// The version this binary was built as.
public enum SwitchboardVersion {
    public static let current = "0.1.0"
}

/// `switchboard version`.
public struct VersionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    public init() {}
    public func run() {
        print("switchboard \(SwitchboardVersion.current)")
    }
}

/// `switchboard bench …`.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure hot paths and print figures.",
        subcommands: [CoreBenchCommand.self, APIBenchCommand.self, PodBenchCommand.self, ProxyBenchCommand.self, ProxyMemoryBenchCommand.self, UserspaceBenchCommand.self, DNSBenchCommand.self, DNSFuzzCommand.self])
    public init() {}
}

/// The entry point the executable calls.
public enum SwitchboardCLI {
    public static func main() async {
        // A command that exits before reading all its input (`nft -f -` refusing a ruleset) must fail as a
        // command, with its message, not kill this process with SIGPIPE when its stdin is written.
        signal(SIGPIPE, SIG_IGN)
        // Logs go to stderr; SWITCHBOARD_LOG_LEVEL=debug (trace, info, notice, warning, error) sets the level.
        let level = ProcessInfo.processInfo.environment["SWITCHBOARD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        await SwitchboardCommand.main()
    }
}
