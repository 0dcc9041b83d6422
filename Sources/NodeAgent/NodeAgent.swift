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
import Proxy
import Synchronization

/// `switchboard node`: kubelet's job for Switchboard. Registers the Node and keeps it Ready, and runs every pod
/// bound to it (`spec.nodeName`) as processes in its own network namespace behind the node's bridge.
public final class NodeAgent: Sendable {
    public let configuration: NodeAgentConfiguration
    let client: HTTPClusterClient
    let api: NodeAPI
    let network: BridgeNetwork
    /// The node's empty pod IP pools, one per family: each run of the agent starts from them.
    let pools: [PodIPPool]
    let logger: Logger
    let workers = Mutex<[String: PodWorker]>([:])

    public init(configuration: NodeAgentConfiguration, endpoint: APIEndpoint, logger: Logger = Logger(label: "switchboard.node")) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        client = HTTPClusterClient(endpoint: endpoint)
        api = NodeAPI(client: client, nodeName: configuration.nodeName, logger: logger)
        let pools = try configuration.podCIDRs.map { cidr throws(PodIPPool.PoolError) in try PodIPPool(cidr: cidr) }
        self.pools = pools
        network = BridgeNetwork(namespaces: NetworkNamespaces(), subnets: pools.map { ($0.cidr, $0.gateway) })
    }

    /// Runs until cancelled.
    public func run() async throws {
        try FileManager.default.createDirectory(atPath: configuration.logDirectory, withIntermediateDirectories: true)
        try await network.setUpNode()
        await removeLeftoverSandboxes()
        try await register()
        guard let ipExecutable = HostCommandRunner.which("ip") else { throw NodeAgentError(description: "`ip` (iproute2) is not installed") }
        let context = PodWorkerContext(
            configuration: configuration, api: api, network: network,
            prober: Prober(namespaces: network.namespaces), pool: SharedPodIPPool(pools),
            ipExecutable: ipExecutable, logger: logger)
        logger.info("node \(configuration.nodeName) is Ready: pod CIDRs \(configuration.podCIDRs.map(\.description).joined(separator: ",")), pods' network namespaces \(configuration.namespacePrefix)p-*")

        let (starts, startWorker) = AsyncStream.makeStream(of: PodWorker.self, bufferingPolicy: .unbounded)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.heartbeatLoop() }
            if let proxy = self.configuration.proxy {
                let proxier = Proxier(client: self.client, configuration: proxy, logger: self.logger)
                group.addTask { await proxier.run() }
            }
            group.addTask {
                let reflector = Reflector<Pod>(
                    client: self.client, options: ListOptions(fieldSelector: "spec.nodeName=\(self.configuration.nodeName)"),
                    logger: self.logger)
                await reflector.run { event in
                    for worker in await self.handle(event, context: context) { startWorker.yield(worker) }
                }
                startWorker.finish()
            }
            group.addTask {
                await withTaskGroup(of: Void.self) { pods in
                    for await worker in starts {
                        pods.addTask {
                            await worker.run()
                            self.workers.withLock { all in
                                if let key = all.first(where: { $0.value === worker })?.key { all[key] = nil }
                            }
                        }
                    }
                    pods.cancelAll()
                }
            }
            await group.waitForAll()
        }
    }

    /// Updates workers from one reflector event; returns the workers to start.
    private func handle(_ event: ReflectorEvent<Pod>, context: PodWorkerContext) async -> [PodWorker] {
        var fresh: [PodWorker] = []
        func upsert(_ pod: Pod) async {
            guard let uid = pod.metadata.uid else { return }
            if let worker = workers.withLock({ $0[uid] }) {
                await worker.update(pod)
                return
            }
            // Already finished (before a restart of this agent): nothing to run again.
            if pod.status.phase?.isTerminal == true && pod.metadata.deletionTimestamp == nil { return }
            if pod.metadata.deletionTimestamp != nil && pod.status.podIP == nil && pod.status.phase != .running {
                try? await api.finishDeletion(namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "", uid: uid)
                return
            }
            let worker = PodWorker(pod: pod, context: context)
            workers.withLock { $0[uid] = worker }
            fresh.append(worker)
        }
        switch event {
        case .replaced(let pods):
            let live = Set(pods.compactMap(\.metadata.uid))
            let gone = workers.withLock { all in all.filter { !live.contains($0.key) }.map(\.value) }
            for worker in gone { await worker.markRemoved() }
            for pod in pods { await upsert(pod) }
        case .added(let pod), .modified(let pod):
            await upsert(pod)
        case .deleted(let pod):
            if let uid = pod.metadata.uid, let worker = workers.withLock({ $0[uid] }) { await worker.markRemoved() }
        }
        return fresh
    }

    /// Sandboxes of an earlier run of this agent: their pods start again from scratch, so the old processes and
    /// namespaces go first.
    private func removeLeftoverSandboxes() async {
        let prefix = configuration.namespacePrefix + "p-"
        for name in NetworkNamespaces.names() where name.hasPrefix(prefix) {
            for pid in await network.namespaces.pids(name) { kill(pid, SIGKILL) }
            try? await network.namespaces.delete(name)
        }
    }

    // MARK: The Node object

    func nodeObject() -> Node {
        var node = Node(metadata: ObjectMeta(name: configuration.nodeName))
        node.metadata.labels = [
            "kubernetes.io/hostname": configuration.nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        ]
        node.metadata.annotations = [NodeAgentConfiguration.logDirectoryAnnotation: configuration.logDirectory]
        node.spec.podCIDR = configuration.podCIDR.description
        node.spec.podCIDRs = configuration.podCIDRs.map(\.description)
        return node
    }

    func nodeStatus(previous: NodeStatus?) -> NodeStatus {
        var status = previous ?? NodeStatus()
        let now = Time.now().truncatedToSeconds
        let wasReady = status.conditions?.first { $0.type == "Ready" }
        var ready = NodeCondition(type: "Ready", status: .true)
        ready.lastHeartbeatTime = now
        ready.lastTransitionTime = wasReady?.status == .true ? wasReady?.lastTransitionTime ?? now : now
        ready.reason = "KubeletReady"
        ready.message = "switchboard node agent is posting ready status"
        status.conditions = [ready]
        var addresses: [NodeAddress] = []
        if let ip = configuration.nodeIP { addresses.append(NodeAddress(type: "InternalIP", address: ip)) }
        addresses.append(NodeAddress(type: "Hostname", address: configuration.nodeName))
        status.addresses = addresses
        status.capacity = ["pods": "110"]
        status.allocatable = ["pods": "110"]
        var info = NodeSystemInfo()
        info.kubeletVersion = "v1.32.4-switchboard"
        info.kubeProxyVersion = ""
        info.operatingSystem = "linux"
        info.architecture = "amd64"
        info.containerRuntimeVersion = "switchboard://0.1.0"
        info.osImage = "Switchboard node"
        var uts = utsname()
        if uname(&uts) == 0 {
            info.kernelVersion = withUnsafeBytes(of: uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        status.nodeInfo = info
        return status
    }

    /// Creates the Node (or takes over an existing one of the same name) and marks it Ready.
    func register() async throws {
        do {
            _ = try await client.create(nodeObject())
        } catch let status as Status where status.code == 409 {
            var existing = try await client.get(Node.self, namespace: nil, name: configuration.nodeName)
            if let cidr = existing.spec.podCIDR, cidr != configuration.podCIDR.description {
                throw NodeAgentError(description: "node \(configuration.nodeName) is already registered with pod CIDR \(cidr); start it with --pod-cidr \(cidr), or delete the Node first")
            }
            let wanted = nodeObject()
            existing.metadata.annotations = (existing.metadata.annotations ?? [:]).merging(wanted.metadata.annotations ?? [:]) { $1 }
            existing.metadata.labels = (existing.metadata.labels ?? [:]).merging(wanted.metadata.labels ?? [:]) { $1 }
            existing.spec.podCIDR = wanted.spec.podCIDR
            existing.spec.podCIDRs = wanted.spec.podCIDRs
            _ = try await client.update(existing)
        }
        try await postReady()
    }

    private func postReady() async throws {
        for attempt in 0..<5 {
            var node = try await client.get(Node.self, namespace: nil, name: configuration.nodeName)
            node.status = nodeStatus(previous: node.status)
            do {
                _ = try await client.updateStatus(node)
                return
            } catch let status as Status where status.code == 409 && attempt < 4 {
                continue
            }
        }
    }

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeat)
            if Task.isCancelled { return }
            do {
                try await postReady()
            } catch {
                logger.warning("node heartbeat: \(error)")
            }
        }
    }

    /// Stops every pod's processes and removes their sandboxes (the agent is shutting down).
    public func shutdown() async {
        let all = workers.withLock { Array($0.values) }
        for worker in all { await worker.markRemoved() }
        await client.shutdown()
    }
}
