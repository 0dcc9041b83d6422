import IPAM

/// What the ruleset needs to know besides the Services.
public struct ProxyConfiguration: Sendable, Hashable {
    /// The pods' addresses (`--cluster-cidr`): traffic to a ClusterIP from elsewhere is masqueraded, and,
    /// unless `allowExternalClusterIP`, dropped when it arrives from outside the node.
    public var clusterCIDRs: [CIDR]
    /// The service CIDRs: an address in them that no Service holds is dropped.
    public var serviceCIDRs: [CIDR]
    public var masqueradeAll: Bool
    public var allowExternalClusterIP: Bool

    public init(clusterCIDRs: [CIDR] = [], serviceCIDRs: [CIDR] = [], masqueradeAll: Bool = false, allowExternalClusterIP: Bool = false) {
        self.clusterCIDRs = clusterCIDRs
        self.serviceCIDRs = serviceCIDRs
        self.masqueradeAll = masqueradeAll
        self.allowExternalClusterIP = allowExternalClusterIP
    }
}

/// The nftables ruleset of one address family, as text for `nft -f`.
///
/// The layout keeps the number of chains constant, whatever the number of Services (the measured layout C of
/// the data-plane reference: kube-proxy's chain per Service and per endpoint costs the kernel quadratic time to
/// validate at 10,000 Services):
///
/// - `service-ips`: a verdict map from ClusterIP . protocol . port to `endpoints-N`, N the Service port's
///   number of endpoints; one lookup per packet, at 10 Services or 30,000.
/// - `endpoints-N`: marks traffic to masquerade, then DNATs to `backends-N`[ClusterIP . protocol . port .
///   `numgen random mod N`], one element per endpoint: an even random choice.
/// - `no-endpoints`: Service ports without endpoints, rejected at once (connection refused, not a timeout).
/// - after DNAT, a packet still addressed to a ClusterIP is on a port the Service does not define and is
///   rejected; one to a service-CIDR address no Service holds is dropped.
/// - from outside the cluster (not a pod, not this node), traffic to the service CIDR is dropped.
/// - `hairpin`: a pod reaching itself through its Service is masqueraded, so that its reply returns through the
///   node's connection tracking.
public enum NFTablesRuleset {
    public static let tableName = "switchboard"
    static let masqueradeMark = "0x4000"

    /// The `nft` family keyword and address type of `family`.
    static func words(_ family: IPFamily) -> (table: String, address: String, match: String, icmp: String) {
        family == .ipv4 ? ("ip", "ipv4_addr", "ip", "icmp type port-unreachable") : ("ip6", "ipv6_addr", "ip6", "icmpv6 type port-unreachable")
    }

    /// One transaction that replaces the table whole: `nft -f` applies it atomically, so packets see the old
    /// rules or the new ones, never a mix; established connections keep their conntrack NAT bindings.
    public static func render(_ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration) -> String {
        let w = words(family)
        let table = "\(w.table) \(tableName)"
        let ports = state.servicePorts.filter { $0.clusterIP.family == family }
        let counts = Set(ports.map(\.endpoints.count).filter { $0 > 0 }).sorted()
        let clusterCIDRs = configuration.clusterCIDRs.filter { $0.family == family }
        let serviceCIDRs = configuration.serviceCIDRs.filter { $0.family == family }
        var out: [String] = []
        out.append("add table \(table)")
        out.append("delete table \(table)")
        out.append("table \(table) {")

        func element(_ p: ServicePortState) -> String { "\(p.clusterIP) . \(p.transport) . \(p.port)" }
        func list(_ items: [String]) -> String { items.isEmpty ? "" : "\t\telements = { " + items.joined(separator: ",\n\t\t\t") + " }\n" }

        out.append("\tset cluster-ips {\n\t\ttype \(w.address)\n" + list(Array(Set(ports.map { $0.clusterIP.description })).sorted()) + "\t}")
        out.append(
            "\tmap service-ips {\n\t\ttype \(w.address) . inet_proto . inet_service : verdict\n"
                + list(ports.filter { !$0.endpoints.isEmpty }.map { "\(element($0)) : goto endpoints-\($0.endpoints.count)" }) + "\t}")
        out.append(
            "\tmap no-endpoints {\n\t\ttype \(w.address) . inet_proto . inet_service : verdict\n"
                + list(ports.filter { $0.endpoints.isEmpty }.map { "\(element($0)) : \($0.dropWhenEmpty ? "drop" : "goto reject-service")" }) + "\t}")
        var hairpins: Set<String> = []
        for n in counts {
            var elements: [String] = []
            for p in ports where p.endpoints.count == n {
                for (slot, endpoint) in p.endpoints.enumerated() {
                    elements.append("\(element(p)) . \(slot) : \(endpoint.address) . \(endpoint.port)")
                    hairpins.insert("\(endpoint.address) . \(endpoint.address)")
                }
            }
            out.append(
                "\tmap backends-\(n) {\n\t\ttypeof \(w.match) daddr . meta l4proto . th dport . numgen random mod \(n) : \(w.match) daddr . th dport\n"
                    + list(elements) + "\t}")
        }
        out.append("\tset hairpin {\n\t\ttype \(w.address) . \(w.address)\n" + list(hairpins.sorted()) + "\t}")

        // Which sources are masqueraded: all, or those that are not pods (the node itself, other nodes).
        let markRule: String
        if configuration.masqueradeAll || clusterCIDRs.isEmpty {
            markRule = configuration.masqueradeAll ? "\t\tmeta mark set meta mark | \(masqueradeMark)" : ""
        } else {
            markRule = "\t\t\(w.match) saddr != { \(clusterCIDRs.map(\.description).joined(separator: ", ")) } meta mark set meta mark | \(masqueradeMark)"
        }
        for n in counts {
            out.append("\tchain endpoints-\(n) {\n" + (markRule.isEmpty ? "" : markRule + "\n")
                + "\t\tdnat \(w.match) to \(w.match) daddr . meta l4proto . th dport . numgen random mod \(n) map @backends-\(n)\n\t}")
        }
        out.append("\tchain services {\n\t\t\(w.match) daddr . meta l4proto . th dport vmap @service-ips\n\t}")
        out.append("\tchain reject-service {\n\t\treject with \(w.icmp)\n\t}")
        out.append("\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}")
        out.append("\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}")
        out.append(
            "\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                + "\t\tct status dnat \(w.match) saddr . \(w.match) daddr @hairpin masquerade\n"
                + "\t\tmeta mark & \(masqueradeMark) == \(masqueradeMark) masquerade\n\t}")

        // After DNAT: what still goes to a ClusterIP had no endpoints or no such port; what goes to the service
        // CIDR but no ClusterIP belongs to no Service.
        var check = ["\t\t\(w.match) daddr . meta l4proto . th dport vmap @no-endpoints", "\t\t\(w.match) daddr @cluster-ips goto reject-service"]
        if !serviceCIDRs.isEmpty { check.append("\t\t\(w.match) daddr { \(serviceCIDRs.map(\.description).joined(separator: ", ")) } drop") }
        out.append("\tchain service-checks {\n" + check.joined(separator: "\n") + "\n\t}")
        out.append("\tchain filter-forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state new jump service-checks\n\t}")
        out.append("\tchain filter-output {\n\t\ttype filter hook output priority filter; policy accept;\n\t\tct state new jump service-checks\n\t}")
        // Before DNAT: the seed's promise that ClusterIPs are internal, even for a host with a route to them.
        if !configuration.allowExternalClusterIP, !clusterCIDRs.isEmpty, !serviceCIDRs.isEmpty {
            out.append(
                "\tchain filter-prerouting {\n\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n"
                    + "\t\t\(w.match) daddr { \(serviceCIDRs.map(\.description).joined(separator: ", ")) } \(w.match) saddr != { \(clusterCIDRs.map(\.description).joined(separator: ", ")) } drop\n\t}")
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    /// Removes the table (proxier shutdown with cleanup; `lab down` needs nothing, the namespace goes).
    public static func deletion(family: IPFamily) -> String {
        let w = words(family)
        return "add table \(w.table) \(tableName)\ndelete table \(w.table) \(tableName)\n"
    }
}
