import IPAM

/// The plan of a lab cluster: its namespaces, links, addresses and routes, as names and `ip` commands. Pure,
/// so that the shape of the closed world can be checked without building it.
///
/// ```
///            sb-NAME-outside (10.201.0.2) ── route to the service CIDR via node 1
///                  │ eth0 ↔ outside0
///  pods ─ sbbr0 ─ sb-NAME-node1 (10.200.1.2) ── fabric0 ↔ node1 ── sb-NAME-fabric ── routes to every pod CIDR
///  pods ─ sbbr0 ─ sb-NAME-node2 (10.200.2.2) ── fabric0 ↔ node2 ──┘
/// ```
///
/// Every namespace's name starts with `sb-NAME-`, every link lives inside a lab namespace, and nothing is
/// created in the namespace the command runs in.
public struct LabTopology: Sendable, Hashable {
    public let name: String
    public let nodeCount: Int
    /// IPv4 and IPv6 pods, nodes and Services.
    public let dualStack: Bool
    /// The service CIDR(s): `10.96.0.0/12`, and `fd00:10:96::/112` when dual-stack.
    /// The cluster DNS Service's address: the tenth of the service range, as kubeadm picks it, and the
    /// nameserver of every pod's resolv.conf.
    public static let clusterDNSIP = "10.96.0.10"
    public var serviceCIDRs: [CIDR] { [CIDR("10.96.0.0/12")!] + (dualStack ? [CIDR("fd00:10:96::/112")!] : []) }

    public struct TopologyError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(name: String, nodes: Int, dualStack: Bool = false) throws(TopologyError) {
        guard (1...8).contains(name.count), name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }),
            name.first?.isLetter == true
        else {
            throw TopologyError(description: "--name \"\(name)\": a lab name is 1 to 8 lower-case letters and digits, starting with a letter (such as lab)")
        }
        guard (1...50).contains(nodes) else { throw TopologyError(description: "--nodes \(nodes): a lab has 1 to 50 nodes") }
        self.name = name
        nodeCount = nodes
        self.dualStack = dualStack
    }

    /// The prefix of every namespace the lab owns (its nodes', the fabric's, the outside's, and its pods').
    public var namespacePrefix: String { "sb-\(name)-" }
    public var fabricNamespace: String { "\(namespacePrefix)fabric" }
    public var outsideNamespace: String { "\(namespacePrefix)outside" }
    public var nodes: ClosedRange<Int> { 1...nodeCount }

    public func nodeNamespace(_ index: Int) -> String { "\(namespacePrefix)node\(index)" }
    /// The Kubernetes Node's name.
    public func nodeName(_ index: Int) -> String { "\(name)-node\(index)" }
    /// Pod namespaces on node `index` start with this.
    public func podNamespacePrefix(_ index: Int) -> String { "\(nodeNamespace(index))-" }
    public func podCIDR(_ index: Int) -> CIDR { CIDR("10.244.\(index).0/24")! }
    /// The node's pod CIDRs, IPv4 first.
    public func podCIDRs(_ index: Int) -> [CIDR] { [podCIDR(index)] + (dualStack ? [CIDR("fd00:10:244:\(index)::/64")!] : []) }
    /// Every node's pod CIDR falls inside these.
    public var clusterCIDRs: [CIDR] { [CIDR("10.244.0.0/16")!] + (dualStack ? [CIDR("fd00:10:244::/56")!] : []) }
    func nodeIP6(_ index: Int) -> String { "fd00:10:200:\(index)::2" }
    func fabricIP6(_ index: Int) -> String { "fd00:10:200:\(index)::1" }
    static let outsideIP6 = "fd00:10:201::2"
    static let outsideGateway6 = "fd00:10:201::1"
    public func nodeIP(_ index: Int) -> String { "10.200.\(index).2" }
    func fabricIP(_ index: Int) -> String { "10.200.\(index).1" }
    static let outsideIP = "10.201.0.2"
    static let outsideGateway = "10.201.0.1"

    /// The node index of a Node name of this lab (`lab-node2` → 2).
    public func nodeIndex(named nodeName: String) -> Int? {
        let prefix = "\(name)-node"
        guard nodeName.hasPrefix(prefix), let index = Int(nodeName.dropFirst(prefix.count)), nodes.contains(index) else { return nil }
        return index
    }

    /// One step: `ip` batch lines run inside `namespace`, or (namespace nil) in no namespace at all but naming
    /// the namespaces explicitly (`netns add`).
    public struct Step: Sendable, Hashable {
        public var namespace: String?
        public var lines: [String]
    }

    /// The namespaces, then the links between them, then addresses and routes.
    public var steps: [Step] {
        var steps: [Step] = []
        let all = [fabricNamespace, outsideNamespace] + nodes.map(nodeNamespace)
        steps.append(Step(namespace: nil, lines: all.map { "netns add \($0)" }))
        // Links are created inside the fabric (or outside) namespace with their peer placed straight into the
        // node's, so no link ever exists in the namespace running this.
        steps.append(
            Step(
                namespace: fabricNamespace,
                lines: ["link set lo up"]
                    + nodes.flatMap { i in
                        [
                            "link add node\(i) type veth peer name fabric0 netns \(nodeNamespace(i))",
                            "addr add \(fabricIP(i))/24 dev node\(i)",
                        ] + (dualStack ? ["addr add \(fabricIP6(i))/64 dev node\(i) nodad"] : []) + ["link set node\(i) up"]
                    }))
        steps.append(
            Step(
                namespace: fabricNamespace,
                lines: nodes.map { "route add \(podCIDR($0)) via \(nodeIP($0))" }
                    + (dualStack ? nodes.map { "route add \(podCIDRs($0)[1]) via \(nodeIP6($0))" } : [])))
        steps.append(
            Step(
                namespace: outsideNamespace,
                lines: [
                    "link set lo up",
                    "link add eth0 type veth peer name outside0 netns \(nodeNamespace(1))",
                    "addr add \(Self.outsideIP)/24 dev eth0",
                ] + (dualStack ? ["addr add \(Self.outsideIP6)/64 dev eth0 nodad"] : []) + [
                    "link set eth0 up",
                    "route add \(serviceCIDRs[0]) via \(Self.outsideGateway)",
                ] + (dualStack ? ["route add \(serviceCIDRs[1]) via \(Self.outsideGateway6)"] : [])))
        for i in nodes {
            var lines = [
                "link set lo up",
                "addr add \(nodeIP(i))/24 dev fabric0",
                "link set fabric0 up",
                "route add default via \(fabricIP(i))",
            ]
            if dualStack { lines += ["addr add \(nodeIP6(i))/64 dev fabric0 nodad", "route add default via \(fabricIP6(i))"] }
            if i == 1 {
                lines += ["addr add \(Self.outsideGateway)/24 dev outside0", "link set outside0 up"]
                if dualStack { lines.insert("addr add \(Self.outsideGateway6)/64 dev outside0 nodad", at: lines.count - 1) }
            }
            steps.append(Step(namespace: nodeNamespace(i), lines: lines))
        }
        return steps
    }

    /// Namespaces that route: the fabric between nodes, and each node for its pods.
    public var forwardingNamespaces: [String] { [fabricNamespace] + nodes.map(nodeNamespace) }
}
