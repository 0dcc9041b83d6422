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
import IPAM
import KubeAPI
import KubeClientHTTP
import Logging
import NodeAgent
import Proxy
import UnixSignals

/// `switchboard node`: the node agent.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run the node agent: register a Node and run its pods as processes in network namespaces.",
        discussion: """
            Needs root (it creates network namespaces, a bridge and veth pairs in the namespace it runs in). Each \
            pod gets a network namespace named --netns-prefix + p- + its UID, an IP from --pod-cidr, and a \
            resolv.conf pointing at --cluster-dns. Container logs go to ROOT_DIR/pods. On SIGTERM or SIGINT the \
            node's pods are stopped and their namespaces removed.
            """)

    @Option(help: "The Node's name.")
    var name: String

    @Option(help: "The pod CIDR of this node, such as 10.244.1.0/24; an IPv4,IPv6 pair for dual-stack.")
    var podCidr: String

    @Option(help: "The API server: http://127.0.0.1:6443 or unix:///path/api.sock.")
    var server: String?

    @Option(help: "A kubeconfig whose current cluster's server is used (instead of --server).")
    var kubeconfig: String?

    @Option(help: "The node's InternalIP (each pod's hostIP).")
    var nodeIp: String?

    @Option(help: "The cluster's service CIDR(s); a pod CIDR that overlaps one is refused.")
    var serviceCidr = "10.96.0.0/12"

    @Option(help: "The cluster DNS Service's IP, for pods' resolv.conf.")
    var clusterDns = "10.96.0.10"

    @Option(help: "The cluster's DNS domain.")
    var clusterDomain = "cluster.local"

    @Option(help: "Where container logs and node state live (default: /var/lib/switchboard/node/NAME).")
    var rootDir: String?

    @Option(help: "The prefix of every pod network namespace's name (default: sb-NAME-).")
    var netnsPrefix: String?

    @Option(help: "Run the Service proxy in this agent: none, nftables, iptables or userspace (in the namespace the agent runs in).")
    var proxyMode = "none"

    @Option(help: "With --proxy-mode: the pods' CIDR(s) of the whole cluster (see switchboard proxy --help).")
    var clusterCidr: String?

    func run() async throws {
        guard getuid() == 0 else {
            throw CommandLineError("switchboard node needs root: it creates network namespaces, a bridge and veth pairs (run it with sudo)")
        }
        guard NameValidation.dns1123Subdomain(name).isEmpty else {
            throw CommandLineError("--name \"\(name)\" is not a valid node name (lower-case letters, digits, '-' and '.')")
        }
        let podCIDRs: [CIDR]
        do { podCIDRs = try podCidr.split(separator: ",").map { text throws(AddressParseError) in try CIDR(parsing: text) } } catch {
            throw CommandLineError("--pod-cidr \(podCidr): \(error)")
        }
        let serviceCIDRs: [CIDR]
        do { serviceCIDRs = try ClusterIPAllocator.parseServiceCIDRs(serviceCidr) } catch {
            throw CommandLineError("--service-cidr \(serviceCidr): \(error)")
        }
        guard IPAddress(clusterDns) != nil else { throw CommandLineError("--cluster-dns \(clusterDns) is not an IP address") }
        let endpoint = try APIConnection.endpoint(server: server, kubeconfig: kubeconfig)
        var configuration = NodeAgentConfiguration(
            nodeName: name, podCIDRs: podCIDRs, nodeIP: nodeIp, serviceCIDRs: serviceCIDRs, clusterDNS: clusterDns,
            clusterDomain: clusterDomain, rootDirectory: rootDir ?? "/var/lib/switchboard/node/\(name)",
            namespacePrefix: netnsPrefix ?? "sb-\(name)-", switchboardExecutable: ChildProcess.currentExecutable)
        if proxyMode != "none" {
            let mode = try ProxyOptions.mode(proxyMode, flag: "--proxy-mode", extra: ["none"])
            configuration.proxy = try ProxyOptions.configuration(
                nodeName: name, families: podCIDRs.map(\.family), clusterCIDR: clusterCidr, serviceCIDRs: serviceCIDRs,
                masqueradeAll: false, allowExternalClusterIP: false, minSyncPeriod: .zero, syncPeriod: .seconds(30), mode: mode)
        }
        let agent: NodeAgent
        do {
            agent = try NodeAgent(configuration: configuration, endpoint: endpoint)
        } catch {
            throw CommandLineError("\(error)")
        }
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await agent.run() }
            group.addTask {
                for await _ in signals { break }
                await agent.shutdown()
                throw CancellationError()
            }
            do {
                try await group.next()
            } catch is CancellationError {
            }
            group.cancelAll()
        }
    }
}

/// Finding the API server from `--server` or `--kubeconfig`, for the commands that are its clients.
enum APIConnection {
    static func endpoint(server: String?, kubeconfig: String?) throws -> APIEndpoint {
        if let server {
            guard let endpoint = APIEndpoint(server) else {
                throw CommandLineError("--server \(server) is not http://HOST:PORT or unix:///PATH")
            }
            return endpoint
        }
        let path = kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]
        guard let path else { throw CommandLineError("give --server URL or --kubeconfig PATH (or set KUBECONFIG)") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandLineError("cannot read the kubeconfig \(path)")
        }
        // The first cluster's server: the kubeconfigs Switchboard writes have one.
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("server:") {
                let value = String(trimmed.dropFirst("server:".count).filter { $0 != " " && $0 != "\"" && $0 != "'" })
                if let endpoint = APIEndpoint(value) { return endpoint }
                throw CommandLineError("the kubeconfig \(path) names server \(value), which is not http://HOST:PORT (https needs a later release)")
            }
        }
        throw CommandLineError("the kubeconfig \(path) names no server")
    }
}
