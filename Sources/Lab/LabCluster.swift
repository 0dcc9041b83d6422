#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HostNetwork
import IPAM
import KubeAPI
import KubeClient
import KubeClientHTTP
import Logging
import NodeAgent

/// A lab cluster on this machine: a control plane on loopback, and one node agent per node namespace, all
/// under one state directory and one namespace prefix, so that `down` finds everything again, also after a
/// crash, from the name alone.
public struct LabCluster: Sendable {
    public let topology: LabTopology
    /// Where the lab keeps its data, logs and process IDs: `/run/switchboard-lab/NAME` (tmpfs, like the
    /// namespaces, so a reboot clears both).
    public let directory: String
    public let executable: String
    let namespaces = NetworkNamespaces()

    public static let root = "/run/switchboard-lab"

    /// The proxy mode of a lab being built (`lab up --mode`); a running lab's is in ``proxyModeFile``.
    public var proxyMode = "nftables"
    /// Where `up` keeps the lab's proxy mode, so that `restart-proxy` starts the same one.
    public var proxyModeFile: String { directory + "/proxy-mode" }

    public init(topology: LabTopology, executable: String) {
        self.topology = topology
        self.executable = executable
        directory = "\(Self.root)/\(topology.name)"
    }

    public var dataDirectory: String { directory + "/data" }
    public var kubeconfig: String { dataDirectory + "/kubeconfig" }
    public var apiSocket: String { dataDirectory + "/api.sock" }
    public var endpoint: APIEndpoint { .unix(path: apiSocket) }
    func nodeDirectory(_ index: Int) -> String { "\(directory)/node\(index)" }

    public struct LabError: Error, CustomStringConvertible {
        public var description: String
    }

    /// What exists of this lab now.
    public func existing() -> (namespaces: [String], processes: [pid_t], directory: Bool) {
        let names = NetworkNamespaces.names().filter { $0.hasPrefix(topology.namespacePrefix) }
        return (names, Self.processes(mentioning: directory), FileManager.default.fileExists(atPath: directory))
    }

    // MARK: Up

    /// Builds the lab and returns once every node is Ready. On any failure, or if `deadline` passes, what was
    /// built is removed again.
    public func up(timeout: Duration = .seconds(60), progress: @Sendable (String) -> Void = { _ in }) async throws {
        guard getuid() == 0 else {
            throw LabError(description: "the lab needs root: it creates network namespaces and links (run it with sudo)")
        }
        guard HostCommandRunner.which("ip") != nil else {
            throw LabError(description: "the lab needs iproute2's `ip`: install it with apt-get install iproute2")
        }
        let found = existing()
        if !found.namespaces.isEmpty || !found.processes.isEmpty || found.directory {
            throw LabError(description: "lab \(topology.name) exists already; remove it with: switchboard lab down --name \(topology.name)")
        }
        do {
            try await build(timeout: timeout, progress: progress)
        } catch {
            await down()
            throw error
        }
    }

    private func build(timeout: Duration, progress: @Sendable (String) -> Void) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: proxyModeFile, contents: Data(proxyMode.utf8))
        let upLog = directory + "/control-plane.log"
        _ = try ChildProcess.spawn(
            executable,
            ["up", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0", "--service-cidr", topology.serviceCIDRs.map(\.description).joined(separator: ",")],
            stdout: upLog, stderr: upLog, grouping: .newSession)
        progress("control plane starting (data in \(dataDirectory))")

        for step in topology.steps {
            if step.namespace == nil {
                for line in step.lines { try await namespaces.runner.check(["ip"] + line.split(separator: " ").map(String.init)) }
            } else {
                try await namespaces.batch(step.lines, in: step.namespace)
            }
        }
        for namespace in topology.forwardingNamespaces {
            try await namespaces.sysctl("net.ipv4.ip_forward", "1", in: namespace)
            if topology.dualStack { try await namespaces.sysctl("net.ipv6.conf.all.forwarding", "1", in: namespace) }
        }
        progress("network: \(topology.nodeCount) node namespaces, a fabric between them and an outside host (\(topology.namespacePrefix)*)")

        try await waitForAPI(until: deadline)
        // nsenter, not `ip netns exec`: the agent must share this mount namespace, or the pod namespaces it
        // names under /run/netns would be invisible to everyone else (`lab exec`, `lab down`).
        guard let nsenter = HostCommandRunner.which("nsenter") else {
            throw LabError(description: "the lab needs util-linux's `nsenter`: install it with apt-get install util-linux")
        }
        for i in topology.nodes {
            try FileManager.default.createDirectory(atPath: nodeDirectory(i), withIntermediateDirectories: true)
            let log = nodeDirectory(i) + "/agent.log"
            _ = try ChildProcess.spawn(
                nsenter,
                [
                    "--net=\(NetworkNamespaces.directory)/\(topology.nodeNamespace(i))", "--",
                    executable, "node", "--name", topology.nodeName(i),
                    "--pod-cidr", topology.podCIDRs(i).map(\.description).joined(separator: ","), "--node-ip", topology.nodeIP(i),
                    "--server", "unix://\(apiSocket)", "--service-cidr", topology.serviceCIDRs.map(\.description).joined(separator: ","),
                    "--root-dir", nodeDirectory(i), "--netns-prefix", topology.podNamespacePrefix(i),
                ], stdout: log, stderr: log, grouping: .newSession)
            try await startProxy(node: i)
        }
        try await waitForNodes(until: deadline)
        progress("nodes Ready: \(topology.nodes.map(topology.nodeName).joined(separator: ", "))")
        try await startClusterDNS(until: deadline)
        progress("cluster DNS Ready: kube-system/kube-dns on \(LabTopology.clusterDNSIP)")
    }

    /// The cluster DNS as Kubernetes runs it: a pod (`switchboard dns`) on node 1 behind the `kube-dns` Service
    /// on the tenth address of the service range, which every pod's resolv.conf names. It forwards nothing: the
    /// lab is a closed world, so names outside the cluster are refused rather than sent to the host's resolver.
    private func startClusterDNS(until deadline: ContinuousClock.Instant) async throws {
        let client = HTTPClusterClient(endpoint: endpoint)
        defer { Task { await client.shutdown() } }
        var pod = Pod(metadata: ObjectMeta(name: "switchboard-dns", namespace: "kube-system", labels: ["k8s-app": "kube-dns"]))
        let container = Container(
            name: "dns", command: ["switchboard", "dns", "--server", "unix://\(apiSocket)", "--listen", ":53", "--upstream", "none", "--threads", "1"],
            ports: [ContainerPort(name: "dns", containerPort: 53, protocol: .udp), ContainerPort(name: "dns-tcp", containerPort: 53, protocol: .tcp)],
            readinessProbe: Probe(tcpSocket: TCPSocketAction(port: .int(53)), periodSeconds: 1))
        pod.spec.containers = [container]
        pod.spec.nodeName = topology.nodeName(1)
        var service = Service(
            metadata: ObjectMeta(name: "kube-dns", namespace: "kube-system", labels: ["k8s-app": "kube-dns"]),
            spec: ServiceSpec(ports: [
                ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: .string("dns")),
                ServicePort(name: "dns-tcp", protocol: .tcp, port: 53, targetPort: .string("dns-tcp")),
            ]))
        service.spec.selector = ["k8s-app": "kube-dns"]
        service.spec.clusterIP = LabTopology.clusterDNSIP
        service.spec.clusterIPs = [LabTopology.clusterDNSIP]
        _ = try await client.create(service)
        _ = try await client.create(pod)
        while ContinuousClock().now < deadline {
            let slices = (try? await client.list(EndpointSlice.self, namespace: "kube-system").items) ?? []
            if slices.contains(where: { $0.metadata.labels?["kubernetes.io/service-name"] == "kube-dns" && $0.endpoints.contains { $0.conditions.isReady } }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LabError(description: "the cluster DNS did not become Ready in time; see \(nodeDirectory(1))/agent.log and `switchboard lab exec` / kubectl logs -n kube-system switchboard-dns")
    }

    /// The node's Service proxy, in the node's namespace, as its own process (so that it can be restarted
    /// without touching the pods), in the lab's mode unless `extraArguments` name another `--mode`.
    ///
    /// In userspace mode the node treats the whole service CIDR as its own (`ip route add local … dev lo`, what
    /// a node admin does once), so that the relay can listen on ClusterIPs and pods' traffic to them is
    /// delivered to it; in the other modes the route goes, as the rules DNAT before routing.
    public func startProxy(node i: Int, extraArguments: [String] = []) async throws {
        guard let nsenter = HostCommandRunner.which("nsenter") else { throw LabError(description: "`nsenter` (util-linux) is not installed") }
        let saved = (FileManager.default.contents(atPath: proxyModeFile).map { String(decoding: $0, as: UTF8.self) } ?? "").filter { !$0.isWhitespace }
        var mode = saved.isEmpty ? proxyMode : saved
        for (index, argument) in extraArguments.enumerated() {
            if argument == "--mode", index + 1 < extraArguments.count { mode = extraArguments[index + 1] }
            if argument.hasPrefix("--mode=") { mode = String(argument.dropFirst("--mode=".count)) }
        }
        let node = topology.nodeNamespace(i)
        for cidr in topology.serviceCIDRs {
            let family = cidr.family == .ipv4 ? "-4" : "-6"
            if mode == "userspace" {
                try await namespaces.runner.check(["ip", "-n", node, family, "route", "replace", "local", cidr.description, "dev", "lo"])
            } else {
                _ = try? await namespaces.runner.run(["ip", "-n", node, family, "route", "del", "local", cidr.description, "dev", "lo"])
            }
        }
        let log = nodeDirectory(i) + "/proxy.log"
        _ = try ChildProcess.spawn(
            nsenter,
            [
                "--net=\(NetworkNamespaces.directory)/\(node)", "--", executable, "proxy", "--mode", mode,
                "--server", "unix://\(apiSocket)", "--hostname-override", topology.nodeName(i),
                "--cluster-cidr", topology.clusterCIDRs.map(\.description).joined(separator: ","),
                "--service-cidr", topology.serviceCIDRs.map(\.description).joined(separator: ","),
            ] + extraArguments, stdout: log, stderr: log, grouping: .newSession, truncate: false)
    }

    private func waitForAPI(until deadline: ContinuousClock.Instant) async throws {
        let client = HTTPClusterClient(endpoint: endpoint)
        defer { Task { await client.shutdown() } }
        while ContinuousClock().now < deadline {
            if (try? await client.get(Namespace.self, namespace: nil, name: "default")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LabError(description: "the control plane did not answer in time; see \(directory)/control-plane.log")
    }

    private func waitForNodes(until deadline: ContinuousClock.Instant) async throws {
        let client = HTTPClusterClient(endpoint: endpoint)
        defer { Task { await client.shutdown() } }
        let wanted = Set(topology.nodes.map(topology.nodeName))
        while ContinuousClock().now < deadline {
            let nodes = (try? await client.list(Node.self, namespace: nil).items) ?? []
            let ready = Set(nodes.filter(\.isReady).compactMap(\.metadata.name))
            if wanted.isSubset(of: ready) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LabError(description: "the nodes did not become Ready in time; see \(directory)/node*/agent.log")
    }

    // MARK: Down

    /// Removes everything of the lab: processes (the control plane, node agents and every process in a lab
    /// namespace), namespaces, their /etc/netns files and the state directory. Safe to run on a half-built or
    /// crashed lab, and more than once.
    public func down() async {
        // Node agents first (so they do not restart what goes next), then whatever runs in lab namespaces.
        for pid in Self.processes(mentioning: directory) { kill(pid, SIGKILL) }
        let names = NetworkNamespaces.names().filter { $0.hasPrefix(topology.namespacePrefix) }
        for name in names {
            for pid in await namespaces.pids(name) { kill(pid, SIGKILL) }
        }
        for pid in Self.processes(mentioning: directory) { kill(pid, SIGKILL) }
        // Pods' namespaces first: deleting a node's namespace first would leave their veths' peers to go with it.
        for name in names.sorted(by: { $0.count > $1.count }) { try? await namespaces.delete(name) }
        if let etc = try? FileManager.default.contentsOfDirectory(atPath: NetworkNamespaces.etcDirectory) {
            for name in etc where name.hasPrefix(topology.namespacePrefix) {
                try? FileManager.default.removeItem(atPath: "\(NetworkNamespaces.etcDirectory)/\(name)")
            }
        }
        // Killed processes may still be exiting; wait for them (bounded) so that nothing outlives `down`.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !Self.processes(mentioning: directory).isEmpty && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Processes whose command line mentions `text` (the lab's directory is in every one it starts).
    static func processes(mentioning text: String) -> [pid_t] {
        let me = getpid()
        var found: [pid_t] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), pid != me,
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty
            else { continue }
            let command = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            // A zombie has an empty command line and is skipped above.
            if command.contains(text + "/") || command.hasSuffix(text) || command.contains(text + " ") { found.append(pid) }
        }
        return found
    }

    // MARK: Exec

    /// The network namespace of `target`: `pod/NAMESPACE/NAME`, `node/NAME` (`node1` or the Node's name),
    /// or `outside`.
    public func namespace(of target: String) async throws -> String {
        if target == "outside" { return topology.outsideNamespace }
        let parts = target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, parts[0] == "node" {
            let name = parts[1]
            if let index = topology.nodeIndex(named: name) ?? (name.hasPrefix("node") ? Int(name.dropFirst(4)) : nil),
                topology.nodes.contains(index)
            {
                return topology.nodeNamespace(index)
            }
            throw LabError(description: "no node \(name) in lab \(topology.name); nodes are \(topology.nodes.map(topology.nodeName).joined(separator: ", "))")
        }
        if parts.count == 3, parts[0] == "pod" {
            let client = HTTPClusterClient(endpoint: endpoint)
            defer { Task { await client.shutdown() } }
            let pod: Pod
            do {
                pod = try await client.get(Pod.self, namespace: parts[1], name: parts[2])
            } catch {
                throw LabError(description: "pod \(parts[1])/\(parts[2]): \(error)")
            }
            guard let node = pod.spec.nodeName, let index = topology.nodeIndex(named: node), let uid = pod.metadata.uid else {
                throw LabError(description: "pod \(parts[1])/\(parts[2]) is not running on a node of lab \(topology.name) yet")
            }
            let name = PodSandboxNames(prefix: topology.podNamespacePrefix(index), uid: uid).namespace
            guard NetworkNamespaces.exists(name) else {
                throw LabError(description: "pod \(parts[1])/\(parts[2]) has no network namespace yet (is it Running?)")
            }
            return name
        }
        throw LabError(description: "\(target) is not pod/NAMESPACE/NAME, node/NAME or outside")
    }
}
