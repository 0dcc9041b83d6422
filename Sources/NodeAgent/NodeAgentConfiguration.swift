import IPAM
import Proxy

/// What a node agent is told at start.
public struct NodeAgentConfiguration: Sendable {
    public var nodeName: String
    /// One pod CIDR per address family, the primary first (IPv4, plus IPv6 on a dual-stack cluster).
    public var podCIDRs: [CIDR]
    public var podCIDR: CIDR { podCIDRs[0] }
    /// The node's own address (the Node's InternalIP, each pod's hostIP).
    public var nodeIP: String?
    /// The cluster's service CIDRs: a pod CIDR that overlaps one is refused.
    public var serviceCIDRs: [CIDR]
    /// The cluster DNS Service's IP, written into every pod's resolv.conf.
    public var clusterDNS: String
    public var clusterDomain: String
    /// Where container logs and other node state live.
    public var rootDirectory: String
    /// Every pod network namespace's name starts with this (then `p-` and the pod UID's first hex digits).
    public var namespacePrefix: String
    /// The executable that a container command named `switchboard` runs.
    public var switchboardExecutable: String
    /// How often the Node's Ready condition is renewed.
    public var heartbeat: Duration
    /// The data plane the agent runs beside its pods (nil: none, a separate `switchboard proxy` does it).
    public var proxy: ProxierConfiguration?

    public init(
        nodeName: String, podCIDRs: [CIDR], nodeIP: String? = nil, serviceCIDRs: [CIDR], clusterDNS: String,
        clusterDomain: String = "cluster.local", rootDirectory: String, namespacePrefix: String,
        switchboardExecutable: String, heartbeat: Duration = .seconds(10)
    ) {
        self.nodeName = nodeName
        self.podCIDRs = podCIDRs
        self.nodeIP = nodeIP
        self.serviceCIDRs = serviceCIDRs
        self.clusterDNS = clusterDNS
        self.clusterDomain = clusterDomain
        self.rootDirectory = rootDirectory
        self.namespacePrefix = namespacePrefix
        self.switchboardExecutable = switchboardExecutable
        self.heartbeat = heartbeat
    }

    /// The annotation through which the API server finds this node's container logs.
    public static let logDirectoryAnnotation = "switchboard.dev/pod-log-directory"

    public var logDirectory: String { rootDirectory + "/pods" }

    /// Refuses a pod CIDR that overlaps a service CIDR: pods and ClusterIPs would be indistinguishable.
    public func validate() throws(NodeAgentError) {
        guard (1...2).contains(podCIDRs.count), podCIDRs.count == Set(podCIDRs.map(\.family)).count else {
            throw .invalidConfiguration("--pod-cidr takes one CIDR, or an IPv4,IPv6 pair for dual-stack (such as 10.244.1.0/24,fd00:10:244:1::/64)")
        }
        for podCIDR in podCIDRs {
            for service in serviceCIDRs where service.overlaps(podCIDR) {
                throw .invalidConfiguration("--pod-cidr \(podCIDR) overlaps the service CIDR \(service); choose a pod CIDR outside it (for example 10.244.1.0/24)")
            }
        }
    }
}

public struct NodeAgentError: Error, CustomStringConvertible {
    public var description: String
    public static func invalidConfiguration(_ message: String) -> NodeAgentError { NodeAgentError(description: message) }
}
