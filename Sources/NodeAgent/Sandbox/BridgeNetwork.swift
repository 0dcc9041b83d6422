import HostNetwork
import IPAM

/// The node's pod network, as the CNI bridge plugin builds it: a bridge holding the pod CIDR's gateway
/// address, and per pod a network namespace joined to the bridge by a veth pair, with the pod's address and a
/// default route through the gateway.
public struct BridgeNetwork: Sendable {
    public let namespaces: NetworkNamespaces
    public let bridge: String
    /// Per address family: the pod CIDR and its gateway (the bridge's address).
    public let subnets: [(cidr: CIDR, gateway: IPAddress)]

    public init(namespaces: NetworkNamespaces, subnets: [(cidr: CIDR, gateway: IPAddress)], bridge: String = "sbbr0") {
        self.namespaces = namespaces
        self.subnets = subnets
        self.bridge = bridge
    }

    /// IPv6 addresses skip duplicate address detection: the pod CIDR is the node's alone, and a tentative
    /// address would leave a new pod unreachable for a second or more.
    static func addressFlags(_ address: IPAddress) -> String { address.family == .ipv6 ? " nodad" : "" }

    /// The bridge and forwarding, in the namespace this agent runs in (the node). Idempotent.
    public func setUpNode() async throws {
        _ = try await namespaces.runner.run(["ip", "link", "add", bridge, "type", "bridge"])
        try await namespaces.batch(
            subnets.map { "addr replace \($0.gateway)/\($0.cidr.prefixLength) dev \(bridge)\(Self.addressFlags($0.gateway))" }
                + ["link set \(bridge) up"], in: nil)
        for subnet in subnets {
            try await namespaces.sysctl(subnet.cidr.family == .ipv4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding", "1", in: nil)
        }
    }

    /// The pod's namespace, veth pair, address and route; and its resolv.conf and hosts. Undoes itself on
    /// failure.
    public func setUp(_ names: PodSandboxNames, ips: [IPAddress], resolvConf: String, hosts: String) async throws {
        do {
            try namespaces.writeEtc(names.namespace, file: "resolv.conf", contents: resolvConf)
            try namespaces.writeEtc(names.namespace, file: "hosts", contents: hosts)
            try await namespaces.batch(
                [
                    "netns add \(names.namespace)",
                    "link add \(names.hostLink) type veth peer name \(PodSandboxNames.podLink) netns \(names.namespace)",
                    "link set \(names.hostLink) master \(bridge)",
                    // A pod reaching itself through its Service: where the kernel bridges the DNATed packet
                    // (br_netfilter), it goes back out the port it came in on, which a bridge only does in
                    // hairpin mode (kubelet's hairpin-veth). The proxy masquerades it.
                    "link set \(names.hostLink) type bridge_slave hairpin on",
                    "link set \(names.hostLink) up",
                ], in: nil)
            try await namespaces.batch(
                ["link set lo up"]
                    + zip(ips, subnets).map { ip, subnet in
                        "addr add \(ip)/\(subnet.cidr.prefixLength) dev \(PodSandboxNames.podLink)\(Self.addressFlags(ip))"
                    }
                    + ["link set \(PodSandboxNames.podLink) up"]
                    + subnets.map { "route add default via \($0.gateway)" },
                in: names.namespace)
        } catch {
            await tearDown(names)
            throw error
        }
    }

    /// Removes the pod's namespace (its veth pair goes with it) and files. Missing parts are fine.
    public func tearDown(_ names: PodSandboxNames) async {
        try? await namespaces.delete(names.namespace)
        // A veth whose peer namespace vanished first is gone already; one left by a half set-up is not.
        _ = try? await namespaces.runner.run(["ip", "link", "delete", names.hostLink])
    }

    /// The pod's /etc/resolv.conf: the cluster DNS Service and Kubernetes' search path.
    public static func resolvConf(dns: String, namespace: String, clusterDomain: String) -> String {
        "nameserver \(dns)\nsearch \(namespace).svc.\(clusterDomain) svc.\(clusterDomain) \(clusterDomain)\noptions ndots:5\n"
    }

    /// The pod's /etc/hosts, as kubelet writes it.
    public static func hosts(ip: String, hostname: String, subdomain: String?, namespace: String, clusterDomain: String) -> String {
        var names = hostname
        if let subdomain, !subdomain.isEmpty { names = "\(hostname).\(subdomain).\(namespace).svc.\(clusterDomain)\t\(hostname)" }
        return "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\(ip)\t\(names)\n"
    }
}
