#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import HostNetwork
import Lab

/// `switchboard lab …`: a closed-world cluster in network namespaces on this machine.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab", abstract: "A closed-world cluster on this machine, in network namespaces.",
        subcommands: [LabUpCommand.self, LabDownCommand.self, LabStatusCommand.self, LabExecCommand.self, LabRestartProxyCommand.self])
}

struct LabOptions: ParsableArguments {
    @Option(help: "The lab's name: every namespace it creates is called sb-NAME-….")
    var name = "lab"

    @Option(help: "Nodes in the lab.")
    var nodes = 2

    @Option(help: "ipv4, or dual for IPv4 and IPv6 pods and Services.")
    var ipFamily = "ipv4"

    func cluster() throws -> LabCluster {
        guard ipFamily == "ipv4" || ipFamily == "dual" else { throw ValidationError("--ip-family is ipv4 or dual, not \(ipFamily)") }
        do {
            return LabCluster(
                topology: try LabTopology(name: name, nodes: nodes, dualStack: ipFamily == "dual"), executable: ChildProcess.currentExecutable)
        } catch {
            throw CommandLineError(error.description)
        }
    }

    /// An existing lab's cluster, with as many nodes as it was built with.
    func existingCluster() throws -> LabCluster {
        let probe = try LabTopology(name: name, nodes: 1)
        let count = NetworkNamespaces.names().filter { $0.hasPrefix(probe.namespacePrefix + "node") && !$0.dropFirst(probe.namespacePrefix.count + 4).contains("-") }.count
        do {
            return LabCluster(topology: try LabTopology(name: name, nodes: max(1, count)), executable: ChildProcess.currentExecutable)
        } catch {
            throw CommandLineError(error.description)
        }
    }
}

struct LabUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Start a lab: control plane, node namespaces, fabric, outside host, node agents.",
        discussion: "Returns once every node is Ready and prints the kubeconfig path. Needs root.")

    @OptionGroup var options: LabOptions

    @Option(help: "The nodes' Service proxy mode: nftables, iptables or userspace.")
    var mode = "nftables"

    func run() async throws {
        _ = try ProxyOptions.mode(mode, flag: "--mode")
        var lab = try options.cluster()
        lab.proxyMode = mode
        do {
            try await lab.up { line in print("lab: \(line)") }
        } catch let error as LabCluster.LabError {
            throw CommandLineError(error.description)
        }
        print("lab \(lab.topology.name) is up; use it with: export KUBECONFIG=\(lab.kubeconfig)")
        print(lab.kubeconfig)
    }
}

struct LabDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Remove everything a lab created, also after a crash.")

    @OptionGroup var options: LabOptions

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("removing a lab needs root (run it with sudo)") }
        let lab = try options.existingCluster()
        await lab.down()
        let left = lab.existing()
        if !left.namespaces.isEmpty || !left.processes.isEmpty {
            throw CommandLineError("lab \(options.name): could not remove \(left.namespaces.joined(separator: " ")) \(left.processes.map(String.init).joined(separator: " "))")
        }
        print("lab \(options.name) is down")
    }
}

struct LabStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "List what exists of a lab.")

    @OptionGroup var options: LabOptions

    func run() async throws {
        let lab = try options.existingCluster()
        let found = lab.existing()
        if found.namespaces.isEmpty && found.processes.isEmpty && !found.directory {
            print("lab \(options.name): nothing exists")
            return
        }
        print("lab \(options.name): \(lab.directory)\(found.directory ? "" : " (missing)")")
        print("  kubeconfig: \(lab.kubeconfig)")
        print("  namespaces: \(found.namespaces.joined(separator: " "))")
        print("  processes:  \(found.processes.map(String.init).joined(separator: " "))")
    }
}

struct LabExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command inside pod/NAMESPACE/NAME, node/NAME or outside.",
        discussion: "Example: switchboard lab exec pod/default/web-1 -- switchboard echo --query tcp://10.244.2.2:8080")

    @OptionGroup var options: LabOptions

    @Argument(help: "pod/NAMESPACE/NAME, node/NAME or outside.")
    var target: String

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("entering a lab namespace needs root (run it with sudo)") }
        guard !command.isEmpty else { throw CommandLineError("give the command after --, for example: lab exec outside -- ip addr") }
        let lab = try options.existingCluster()
        let namespace: String
        do {
            namespace = try await lab.namespace(of: target)
        } catch let error as LabCluster.LabError {
            throw CommandLineError(error.description)
        }
        guard let ip = HostCommandRunner.which("ip") else { throw CommandLineError("`ip` (iproute2) is not installed") }
        var argv = command
        if argv[0] == "switchboard" { argv[0] = ChildProcess.currentExecutable }
        // Replace this process, so that the command's input, output and exit status are the user's.
        let all = [ip, "netns", "exec", namespace] + argv
        let cArgs: [UnsafeMutablePointer<CChar>?] = all.map { strdup($0) } + [nil]
        execv(ip, cArgs)
        throw CommandLineError("cannot run \(command[0]): \(String(cString: strerror(errno)))")
    }
}

struct LabRestartProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart-proxy", abstract: "Start a node's Service proxy again (after it was stopped or killed).")

    @OptionGroup var options: LabOptions

    @Option(help: "The node's number.")
    var node = 1

    @Argument(parsing: .postTerminator, help: ArgumentHelp("More `switchboard proxy` flags, after --, such as -- --masquerade-all.", valueName: "proxy-flags"))
    var proxyFlags: [String] = []

    func run() async throws {
        guard getuid() == 0 else { throw CommandLineError("the lab needs root (run it with sudo)") }
        let lab = try options.existingCluster()
        guard lab.topology.nodes.contains(node) else { throw CommandLineError("lab \(options.name) has no node \(node)") }
        do {
            try await lab.startProxy(node: node, extraArguments: proxyFlags)
        } catch {
            throw CommandLineError("\(error)")
        }
    }
}
