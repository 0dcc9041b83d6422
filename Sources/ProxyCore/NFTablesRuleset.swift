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

/// The nftables ruleset of one address family, as text for `nft -f`: whole (a full sync) or as the difference
/// between two models (a partial sync).
///
/// The layout keeps the number of chains constant, whatever the number of Services (the measured layout C of
/// the data-plane reference: kube-proxy's chain per Service and per endpoint costs the kernel quadratic time to
/// validate at 10,000 Services):
///
/// - `service-ips`: a verdict map from ClusterIP . protocol . port to `endpoints-N`, N the Service port's
///   number of endpoints; one lookup per packet, at 10 Services or 30,000.
/// - `endpoints-N`: marks traffic to masquerade, then DNATs to `backends-N`[ClusterIP . protocol . port .
///   `numgen random mod N`], one element per endpoint: an even random choice.
/// - `no-endpoints`: Service ports without endpoints, rejected at once (connection refused, not a timeout), or
///   dropped for `internalTrafficPolicy: Local` with endpoints on other nodes only.
/// - after DNAT, a packet still addressed to a ClusterIP is on a port the Service does not define and is
///   rejected; one to a service-CIDR address no Service holds is dropped.
/// - from outside the cluster (not a pod, not this node), traffic to the service CIDR is dropped.
/// - `hairpin`: a pod reaching itself through its Service is masqueraded, so that its reply returns through the
///   node's connection tracking.
public enum NFTablesRuleset {
    public static let tableName = "switchboard"
    /// Endpoint counts whose chain and map a full sync creates whether in use or not, so that a partial sync
    /// never has to create one (nftables 1.0.6 cannot add a rule that uses a `typeof` map of a table it read
    /// back from the kernel: "conflicting protocols specified: ip vs. th"). A larger count needs a full sync.
    public static let preparedCounts = 1...32
    static let masqueradeMark = "0x4000"

    /// The `nft` family keyword and address type of `family`.
    static func words(_ family: IPFamily) -> (table: String, address: String, match: String, icmp: String) {
        family == .ipv4 ? ("ip", "ipv4_addr", "ip", "icmp type port-unreachable") : ("ip6", "ipv6_addr", "ip6", "icmpv6 type port-unreachable")
    }

    /// A full sync of `state`.
    public static func render(_ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration) -> String {
        render(NFTablesModel(state, family: family, configuration: configuration))
    }

    /// One transaction that replaces the table whole: `nft -f` applies it atomically, so packets see the old
    /// rules or the new ones, never a mix; established connections keep their conntrack NAT bindings.
    public static func render(_ model: NFTablesModel) -> String {
        let w = words(model.family)
        let table = "\(w.table) \(tableName)"
        var out: [String] = []
        out.append("add table \(table)")
        out.append("delete table \(table)")
        out.append("table \(table) {")
        out.append("\tcomment \"\(configurationTag(model.configuration, model.family))\"")
        func list(_ items: [String]) -> String { items.isEmpty ? "" : "\t\telements = { " + items.joined(separator: ",\n\t\t\t") + " }\n" }
        func pairs(_ map: [String: String]) -> [String] { map.keys.sorted().map { "\($0) : \(map[$0]!)" } }

        out.append("\tset cluster-ips {\n\t\ttype \(w.address)\n" + list(model.clusterIPs.sorted()) + "\t}")
        out.append("\tmap service-ips {\n\t\ttype \(w.address) . inet_proto . inet_service : verdict\n" + list(pairs(model.serviceIPs)) + "\t}")
        out.append("\tmap no-endpoints {\n\t\ttype \(w.address) . inet_proto . inet_service : verdict\n" + list(pairs(model.noEndpoints)) + "\t}")
        let counts = Array(Set(model.counts).union(preparedCounts)).sorted()
        for n in counts {
            out.append("\tmap backends-\(n) {\n\t\t\(backendsType(n, w))\n" + list(pairs(model.backends[n] ?? [:])) + "\t}")
        }
        out.append("\tset hairpin {\n\t\ttype \(w.address) . \(w.address)\n" + list(model.hairpin.sorted()) + "\t}")
        for key in model.affinity.keys.sorted() {
            let port = model.affinity[key]!
            for endpoint in port.endpoints {
                let name = port.endpointChain(endpoint)
                out.append("\tset \(name) {\n\t\t\(affinitySetSpec(port, w).joined(separator: "\n\t\t"))\n\t}")
                out.append("\tchain \(name) {\n" + affinityEndpointRules(port, endpoint, w).map { "\t\t\($0)\n" }.joined() + "\t}")
            }
            out.append("\tchain \(port.chain) {\n" + affinityRules(port, model).map { "\t\t\($0)\n" }.joined() + "\t}")
        }
        for n in counts {
            out.append("\tchain endpoints-\(n) {\n" + endpointRules(n, model).map { "\t\t\($0)\n" }.joined() + "\t}")
        }
        out.append("\tchain services {\n\t\t\(w.match) daddr . meta l4proto . th dport vmap @service-ips\n\t}")
        // TCP gets a reset: the kernel rate-limits ICMP errors per destination, so a client that retries at
        // once would see every second attempt time out instead of being refused.
        out.append("\tchain reject-service {\n\t\tmeta l4proto tcp reject with tcp reset\n\t\treject with \(w.icmp)\n\t}")
        out.append("\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}")
        out.append("\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}")
        out.append(
            "\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                + "\t\tct status dnat \(w.match) saddr . \(w.match) daddr @hairpin masquerade\n"
                + "\t\tmeta mark & \(masqueradeMark) == \(masqueradeMark) masquerade\n\t}")

        let clusterCIDRs = model.configuration.clusterCIDRs.filter { $0.family == model.family }
        let serviceCIDRs = model.configuration.serviceCIDRs.filter { $0.family == model.family }
        // After DNAT: what still goes to a ClusterIP had no endpoints or no such port; what goes to the service
        // CIDR but no ClusterIP belongs to no Service.
        var check = ["\t\t\(w.match) daddr . meta l4proto . th dport vmap @no-endpoints", "\t\t\(w.match) daddr @cluster-ips goto reject-service"]
        if !serviceCIDRs.isEmpty { check.append("\t\t\(w.match) daddr { \(serviceCIDRs.map(\.description).joined(separator: ", ")) } drop") }
        out.append("\tchain service-checks {\n" + check.joined(separator: "\n") + "\n\t}")
        out.append("\tchain filter-forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state new jump service-checks\n\t}")
        out.append("\tchain filter-output {\n\t\ttype filter hook output priority filter; policy accept;\n\t\tct state new jump service-checks\n\t}")
        // Before DNAT: the seed's promise that ClusterIPs are internal, even for a host with a route to them.
        if !model.configuration.allowExternalClusterIP, !clusterCIDRs.isEmpty, !serviceCIDRs.isEmpty {
            out.append(
                "\tchain filter-prerouting {\n\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n"
                    + "\t\t\(w.match) daddr { \(serviceCIDRs.map(\.description).joined(separator: ", ")) } \(w.match) saddr != { \(clusterCIDRs.map(\.description).joined(separator: ", ")) } drop\n\t}")
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    /// Names the configuration the table's fixed rules were written for: a restarted proxier with the same
    /// configuration adopts the table and syncs only elements.
    public static func configurationTag(_ configuration: ProxyConfiguration, _ family: IPFamily) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let text = "\(family == .ipv4 ? 4 : 6)|\(configuration.clusterCIDRs)|\(configuration.serviceCIDRs)|\(configuration.masqueradeAll)|\(configuration.allowExternalClusterIP)|layout-2"
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "switchboard configuration \(String(hash, radix: 16))"
    }

    static func backendsType(_ n: Int, _ w: (table: String, address: String, match: String, icmp: String)) -> String {
        "typeof \(w.match) daddr . meta l4proto . th dport . numgen random mod \(n) : \(w.match) daddr . th dport"
    }

    /// The rules of `endpoints-N`: the masquerade decision, then the DNAT.
    static func endpointRules(_ n: Int, _ model: NFTablesModel) -> [String] {
        let w = words(model.family)
        return masqueradeRules(model) + ["dnat \(w.match) to \(w.match) daddr . meta l4proto . th dport . numgen random mod \(n) map @backends-\(n)"]
    }

    /// Marks for masquerade what must be: everything with `--masquerade-all`, otherwise what does not come from
    /// a pod (the node itself, another node), so that the reply comes back through this node.
    static func masqueradeRules(_ model: NFTablesModel) -> [String] {
        let w = words(model.family)
        let clusterCIDRs = model.configuration.clusterCIDRs.filter { $0.family == model.family }
        if model.configuration.masqueradeAll { return ["meta mark set meta mark | \(masqueradeMark)"] }
        guard !clusterCIDRs.isEmpty else { return [] }
        return ["\(w.match) saddr != { \(clusterCIDRs.map(\.description).joined(separator: ", ")) } meta mark set meta mark | \(masqueradeMark)"]
    }

    /// An affinity endpoint's set of pinned clients: entries expire `timeout` after their last refresh.
    static func affinitySetSpec(_ port: AffinityPort, _ w: (table: String, address: String, match: String, icmp: String)) -> [String] {
        ["type \(w.address)", "flags dynamic,timeout", "timeout \(port.timeout)s"]
    }

    /// An affinity endpoint's chain: pin (or re-pin) the client, then DNAT.
    static func affinityEndpointRules(_ port: AffinityPort, _ endpoint: EndpointTarget, _ w: (table: String, address: String, match: String, icmp: String)) -> [String] {
        let target = endpoint.address.family == .ipv4 ? "\(endpoint.address):\(endpoint.port)" : "[\(endpoint.address)]:\(endpoint.port)"
        return ["update @\(port.endpointChain(endpoint)) { \(w.match) saddr }", "meta l4proto \(port.transport) dnat \(w.match) to \(target)"]
    }

    /// An affinity port's chain: a pinned client goes to its endpoint, any other is placed at random.
    static func affinityRules(_ port: AffinityPort, _ model: NFTablesModel) -> [String] {
        let w = words(model.family)
        var rules = masqueradeRules(model)
        for endpoint in port.endpoints {
            let name = port.endpointChain(endpoint)
            rules.append("\(w.match) saddr @\(name) goto \(name)")
        }
        let choices = port.endpoints.enumerated().map { "\($0.offset) : goto \(port.endpointChain($0.element))" }
        rules.append("numgen random mod \(port.endpoints.count) vmap { \(choices.joined(separator: ", ")) }")
        return rules
    }

    /// The commands that take the affinity ports' chains and sets from `old` to `new`, in an order that never
    /// leaves a reference to a missing object: the port's chain is flushed before the endpoint objects it names
    /// go, and new endpoint objects exist before the port's chain names them. Endpoints that stay keep their
    /// sets, and so their clients' pins.
    static func affinityDifference(from old: [String: AffinityPort], to new: [String: AffinityPort], _ model: NFTablesModel) -> [String] {
        let w = words(model.family)
        let table = "\(w.table) \(tableName)"
        var lines: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            let before = old[key]
            let after = new[key]
            if before == after { continue }
            var kept: Set<EndpointTarget> = []
            if let before, let after, before.timeout == after.timeout, before.chain == after.chain {
                kept = Set(before.endpoints).intersection(after.endpoints)
            }
            if let before {
                lines.append("flush chain \(table) \(before.chain)")
                for endpoint in before.endpoints where !kept.contains(endpoint) {
                    let name = before.endpointChain(endpoint)
                    lines.append("flush chain \(table) \(name)")
                    lines.append("delete chain \(table) \(name)")
                    lines.append("delete set \(table) \(name)")
                }
                if after?.chain != before.chain { lines.append("delete chain \(table) \(before.chain)") }
            }
            if let after {
                for endpoint in after.endpoints where !kept.contains(endpoint) {
                    let name = after.endpointChain(endpoint)
                    lines.append("add set \(table) \(name) { \(affinitySetSpec(after, w).joined(separator: "; ")); }")
                    lines.append("add chain \(table) \(name)")
                    lines += affinityEndpointRules(after, endpoint, w).map { "add rule \(table) \(name) \($0)" }
                }
                if before?.chain != after.chain { lines.append("add chain \(table) \(after.chain)") }
                lines += affinityRules(after, model).map { "add rule \(table) \(after.chain) \($0)" }
            }
        }
        return lines
    }

    /// A partial sync from `old` (what the kernel has) to `new`: element deletes, then adds. Nil when the two
    /// differ in more than elements (a full sync is needed). Empty when nothing changed: no kernel call at all.
    /// `existingCounts`: endpoint counts whose chain and map the kernel has already, when `old` holds only part
    /// of the table (an incremental sync); by default those of `old`.
    public static func difference(from old: NFTablesModel, to new: NFTablesModel, existingCounts: Set<Int>? = nil) -> String? {
        guard old.family == new.family, old.configuration == new.configuration else { return nil }
        let w = words(new.family)
        let table = "\(w.table) \(tableName)"
        var adds: [String] = []
        var deletes: [String] = []
        func diffSet(_ name: String, _ a: Set<String>, _ b: Set<String>) {
            let removed = a.subtracting(b).sorted()
            let added = b.subtracting(a).sorted()
            if !removed.isEmpty { deletes.append("delete element \(table) \(name) { \(removed.joined(separator: ", ")) }") }
            if !added.isEmpty { adds.append("add element \(table) \(name) { \(added.joined(separator: ", ")) }") }
        }
        func diffMap(_ name: String, _ a: [String: String], _ b: [String: String]) {
            // A changed value is a delete and an add: nft has no element replace.
            let removed = a.keys.filter { b[$0] != a[$0] }.sorted()
            let added = b.keys.filter { a[$0] != b[$0] }.sorted()
            if !removed.isEmpty { deletes.append("delete element \(table) \(name) { \(removed.joined(separator: ", ")) }") }
            if !added.isEmpty { adds.append("add element \(table) \(name) { \(added.map { "\($0) : \(b[$0]!)" }.joined(separator: ", ")) }") }
        }
        // A count whose chain and map the kernel lacks: only a full sync can bring them (see `preparedCounts`).
        let existing = (existingCounts ?? Set(old.counts)).union(preparedCounts)
        if new.counts.contains(where: { !existing.contains($0) }) { return nil }
        // Verdicts first (away from what is removed), then what they point to; adds after deletes, so that a
        // changed element is never present twice.
        diffMap("service-ips", old.serviceIPs, new.serviceIPs)
        diffMap("no-endpoints", old.noEndpoints, new.noEndpoints)
        diffSet("cluster-ips", old.clusterIPs, new.clusterIPs)
        for n in Set(old.counts).union(new.counts).sorted() {
            diffMap("backends-\(n)", old.backends[n] ?? [:], new.backends[n] ?? [:])
        }
        diffSet("hairpin", old.hairpin, new.hairpin)
        // Affinity chains go after the elements that name them went, and come before the elements that name them.
        let lines = deletes + affinityDifference(from: old.affinity, to: new.affinity, new) + adds
        // An endpoint count no longer in use keeps its (empty) chain and map until the next full sync, so that
        // nothing in flight can jump to a chain that is gone.
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// Removes the table (proxier shutdown with cleanup; `lab down` needs nothing, the namespace goes).
    public static func deletion(family: IPFamily) -> String {
        let w = words(family)
        return "add table \(w.table) \(tableName)\ndelete table \(w.table) \(tableName)\n"
    }
}
