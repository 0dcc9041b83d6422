import IPAM

/// The iptables ruleset of one address family, as input for `iptables-restore --noflush` (`ip6tables-restore`
/// for IPv6): whole (a full sync) or only what changed (a partial sync). The layout is kube-proxy's iptables
/// mode, under our own chain names, and does better where our nftables mode does better.
///
/// - nat `SWITCHBOARD-SERVICES`: one rule per Service port with endpoints, `ClusterIP . proto . port` →
///   `SB-SVC-…`. Matched in order: dispatch costs O(Service ports) per new connection (the price of iptables;
///   nftables mode does it in one map lookup).
/// - nat `SB-SVC-…` (per Service port): the masquerade decision, then the ClientIP affinity checks, then the
///   random cascade `statistic --mode random` at 1/n, 1/(n-1), …, the last rule unconditional: an even choice.
/// - nat `SB-SEP-…` (per endpoint): hairpin masquerade, the affinity pin, the DNAT.
/// - nat `SWITCHBOARD-MARK-MASQ` / `SWITCHBOARD-POSTROUTING`: masquerade by the mark 0x4000, as kube-proxy.
/// - filter `SWITCHBOARD-CHECKS` (new connections, after DNAT): Service ports without endpoints are rejected
///   (dropped for `internalTrafficPolicy: Local` with endpoints elsewhere only); unlike kube-proxy's iptables
///   mode, and like its nftables mode, a ClusterIP on a port or protocol it does not define is rejected, and a
///   service-CIDR address that no Service holds is dropped.
/// - mangle `SWITCHBOARD-EXTERNAL` (before DNAT): traffic to the service CIDR from outside the cluster is
///   dropped, unless `allowExternalClusterIP`.
///
/// Only our chains are declared, and every restore must use `--noflush`: a restore without it would flush the
/// whole table, built-in chains and other programs' rules included. The jumps from the built-in chains are not
/// part of the restore (it cannot "add unless present"): see ``jumps(family:)``.
///
/// Limits inherited from iptables: the `recent` match remembers at most `ip_list_tot` (module parameter,
/// default 100) clients per endpoint, the oldest forgotten first; chain names are at most 28 characters.
public enum IPTablesRuleset {
    public static let servicesChain = "SWITCHBOARD-SERVICES"
    public static let markChain = "SWITCHBOARD-MARK-MASQ"
    public static let postroutingChain = "SWITCHBOARD-POSTROUTING"
    public static let checksChain = "SWITCHBOARD-CHECKS"
    public static let externalChain = "SWITCHBOARD-EXTERNAL"
    /// With several cluster CIDRs, "not from a pod" is not one `! -s` match: this chain returns for each pod
    /// CIDR and marks the rest. (A `! -s A` rule and a `! -s B` rule would mark the pods of B and of A.)
    public static let masqueradeUnlessPodChain = "SWITCHBOARD-MASQ-UNLESS-POD"
    /// Prefixes of the per-Service-port and per-endpoint chains; with ``isOurs(_:)`` they tell our chains
    /// from everyone else's in `iptables-save`.
    public static let serviceChainPrefix = "SB-SVC-"
    public static let endpointChainPrefix = "SB-SEP-"
    /// Above this many Service ports in a family, rules carry no comments, as kube-proxy does for large
    /// clusters: the restore text and the kernel's rule blobs stay smaller.
    public static let commentThreshold = 1000
    static let masqueradeMark = "0x4000"

    /// The restore program and its arguments for `family`: `-w` waits for the xtables lock (legacy backend;
    /// ignored by the nf_tables one), `--noflush` keeps what is not ours.
    public static func restoreCommand(family: IPFamily) -> [String] {
        [family == .ipv4 ? "iptables-restore" : "ip6tables-restore", "-w", "--noflush"]
    }

    /// Whether `chain` is one of ours (a fixed `SWITCHBOARD-` chain or an `SB-` chain).
    public static func isOurs(_ chain: some StringProtocol) -> Bool {
        chain.hasPrefix("SWITCHBOARD-") || chain.hasPrefix("SB-")
    }

    // MARK: - Names

    /// `ClusterIP/proto/port`: what a Service port's chains are named after, so that the names survive a
    /// restart and a rename of the Service.
    static func key(_ port: ServicePortState) -> String { "\(port.clusterIP)/\(port.transport)/\(port.port)" }

    /// The Service port's chain: `SB-SVC-` and 16 base32 characters of the SHA-256 of `ClusterIP/proto/port`
    /// (kube-proxy's scheme): 23 characters, stable, collision-free in practice (80 bits).
    public static func serviceChain(_ port: ServicePortState) -> String { serviceChainPrefix + hashName(key(port)) }

    /// The endpoint's chain, and the name of its `recent` list of pinned clients.
    public static func endpointChain(_ port: ServicePortState, _ endpoint: EndpointTarget) -> String {
        endpointChainPrefix + hashName(key(port) + "/" + target(endpoint))
    }

    /// `IP:port`, `[IPv6]:port`.
    static func target(_ endpoint: EndpointTarget) -> String {
        endpoint.address.family == .ipv4 ? "\(endpoint.address):\(endpoint.port)" : "[\(endpoint.address)]:\(endpoint.port)"
    }

    /// `IP/32`, `IPv6/128`: as iptables-save prints a host address, so that saved rules read like ours.
    static func host(_ address: IPAddress) -> String { "\(address)/\(address.family.bitWidth)" }

    static func hashName(_ text: String) -> String { String(base32(sha256(Array(text.utf8))).prefix(16)) }

    // MARK: - Full sync

    /// A full sync of `state`: every chain of ours declared (which, in a `--noflush` restore, creates or
    /// flushes it) and filled, one atomic restore per table.
    ///
    /// - Parameter existingChains: our chains the kernel has, per table (``ourChains(inSave:)`` of
    ///   `iptables-save`); those this ruleset does not declare are stale (a Service deleted while no proxier
    ///   ran, an older layout) and are flushed and deleted in the same restore.
    public static func render(
        _ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration, existingChains: [String: Set<String>] = [:]
    ) -> String {
        let layout = Layout(state, family: family, configuration: configuration)
        var nat = Table(name: "nat")
        nat.declare(servicesChain, rules: layout.servicesRules)
        nat.declare(markChain, rules: ["-A \(markChain) -j MARK --or-mark \(masqueradeMark)"])
        nat.declare(
            postroutingChain,
            rules: [
                // Only what was marked; the mark is cleared so that a packet re-entering (a tunnel, a bridge)
                // is not masqueraded twice.
                "-A \(postroutingChain) -m mark ! --mark \(masqueradeMark)/\(masqueradeMark) -j RETURN",
                "-A \(postroutingChain) -j MARK --xor-mark \(masqueradeMark)",
                "-A \(postroutingChain) -j MASQUERADE --random-fully",
            ])
        if let rules = layout.masqueradeUnlessPodRules { nat.declare(masqueradeUnlessPodChain, rules: rules) }
        for port in layout.ports {
            for chain in layout.chains(port) { nat.declare(chain.name, rules: chain.rules) }
        }
        var filter = Table(name: "filter")
        filter.declare(checksChain, rules: layout.checksRules)
        var mangle = Table(name: "mangle")
        mangle.declare(externalChain, rules: layout.externalRules)
        var tables = [nat, filter, mangle]
        for index in tables.indices {
            for chain in (existingChains[tables[index].name] ?? []).sorted() where isOurs(chain) && !tables[index].declared.contains(chain) {
                tables[index].delete(chain)
            }
        }
        return tables.map(\.text).joined()
    }

    /// ``render(_:family:configuration:existingChains:)`` with the stale candidates of the nat table only
    /// (where the per-Service chains are); the fixed chains of filter and mangle are declared by every sync.
    public static func render(_ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration, existingChains: Set<String>) -> String {
        render(state, family: family, configuration: configuration, existingChains: ["nat": existingChains])
    }

    /// Our chains in `iptables-save` output (all tables, or one with `-t`), per table name: the input of
    /// ``render(_:family:configuration:existingChains:)``.
    public static func ourChains(inSave text: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        var table: String?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingWhitespace
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line == "COMMIT" {
                table = nil
            } else if let table, line.hasPrefix(":") {
                let name = line.dropFirst().prefix { $0 != " " }
                if isOurs(name) { result[table, default: []].insert(String(name)) }
            }
        }
        return result.filter { !$0.value.isEmpty }
    }

    /// A restore that flushes and deletes every chain of ours in `existingChains` (per table, from
    /// ``ourChains(inSave:)``), for cleanup; the jumps into them must be gone first (`Jump.arguments(.delete)`).
    /// "" when there is nothing to delete.
    public static func deletion(existingChains: [String: Set<String>]) -> String {
        existingChains.keys.sorted().compactMap { name -> String? in
            let chains = (existingChains[name] ?? []).filter(isOurs).sorted()
            guard !chains.isEmpty else { return nil }
            var table = Table(name: name)
            for chain in chains { table.delete(chain) }
            return table.text
        }.joined()
    }

    // MARK: - Partial sync

    /// A partial sync from `old` (what the kernel has) to `new`, for `iptables-restore --noflush`:
    /// `SWITCHBOARD-SERVICES` and `SWITCHBOARD-CHECKS` whole (one rule per port, as kube-proxy does), the
    /// chains of Service ports whose rules changed, and the flush and deletion of chains that are gone, after
    /// the rules that named them are rewritten away: a restore applies a table atomically.
    ///
    /// Endpoint chains whose rules are unchanged are not touched, so their affinity pins (the `recent` lists)
    /// stay; a rewritten chain keeps them too, as the new rule finds the list by name.
    ///
    /// - Parameter oldConfiguration: the configuration `old` was programmed with, when it may differ.
    /// - Returns: "" when nothing changed (no restore at all); nil when the configuration changed (the fixed
    ///   rules differ: a full sync is needed).
    public static func difference(
        from old: ProxyState, to new: ProxyState, family: IPFamily, configuration: ProxyConfiguration,
        oldConfiguration: ProxyConfiguration? = nil
    ) -> String? {
        if let oldConfiguration, oldConfiguration != configuration { return nil }
        let before = Layout(old, family: family, configuration: configuration)
        let after = Layout(new, family: family, configuration: configuration)
        var oldPorts: [String: ServicePortState] = [:]
        for port in before.ports { oldPorts[key(port)] = port }
        var newPorts: [String: ServicePortState] = [:]
        for port in after.ports { newPorts[key(port)] = port }

        var changed: [Chain] = []
        var gone: [String] = []
        for k in Set(oldPorts.keys).union(newPorts.keys).sorted() {
            let a = oldPorts[k]
            let b = newPorts[k]
            // The name shows only in comments of the two chains rewritten anyway; any other change renders
            // the port's chains again, and those whose rules differ are rewritten.
            if var a, let b {
                a.name = b.name
                if a == b { continue }
            }
            let oldChains = a.map(before.chains) ?? []
            let newChains = b.map(after.chains) ?? []
            var oldRules: [String: [String]] = [:]
            for chain in oldChains { oldRules[chain.name] = chain.rules }
            let newNames = Set(newChains.map(\.name))
            changed += newChains.filter { oldRules[$0.name] != $0.rules }
            gone += oldChains.map(\.name).filter { !newNames.contains($0) }
        }
        if changed.isEmpty && gone.isEmpty && before.servicesRules == after.servicesRules && before.checksRules == after.checksRules { return "" }
        var nat = Table(name: "nat")
        nat.declare(servicesChain, rules: after.servicesRules)
        for chain in changed { nat.declare(chain.name, rules: chain.rules) }
        for name in gone { nat.delete(name) }
        var filter = Table(name: "filter")
        filter.declare(checksChain, rules: after.checksRules)
        return nat.text + filter.text
    }

    // MARK: - Jumps from the built-in chains

    /// A rule in a built-in chain that sends packets into ours. A restore cannot add a rule only when it is
    /// missing, so the proxier checks (`-C`) and inserts (`-I`) each one, after the first full restore has
    /// created the chains; `-D` removes it on cleanup.
    public struct Jump: Sendable, Hashable {
        public enum Operation: String, Sendable {
            case check = "-C"
            case insert = "-I"
            case delete = "-D"
        }

        /// `iptables` or `ip6tables`.
        public var program: String
        public var table: String
        public var chain: String
        /// The rule's matches and target, one argument each (a comment is one argument, unquoted).
        public var rule: [String]

        /// The full argv: `iptables -w -t TABLE -C|-I|-D CHAIN rule…`. `-I` without a position puts the jump
        /// first, ahead of rules other programs may have added.
        public func arguments(_ operation: Operation) -> [String] {
            [program, "-w", "-t", table, operation.rawValue, chain] + rule
        }
    }

    /// The jumps into our chains for `family`: nat PREROUTING and OUTPUT → `SWITCHBOARD-SERVICES`, nat
    /// POSTROUTING → `SWITCHBOARD-POSTROUTING`, filter FORWARD and OUTPUT → `SWITCHBOARD-CHECKS` for new
    /// connections only (an established flow keeps working when its Service loses its endpoints), mangle
    /// PREROUTING → `SWITCHBOARD-EXTERNAL` (mangle comes before nat, so before DNAT).
    public static func jumps(family: IPFamily) -> [Jump] {
        let program = family == .ipv4 ? "iptables" : "ip6tables"
        func jump(_ table: String, _ chain: String, _ rule: [String]) -> Jump { Jump(program: program, table: table, chain: chain, rule: rule) }
        let services = ["-m", "comment", "--comment", "switchboard service portals", "-j", servicesChain]
        let checks = ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "switchboard service checks", "-j", checksChain]
        return [
            jump("nat", "PREROUTING", services),
            jump("nat", "OUTPUT", services),
            jump("nat", "POSTROUTING", ["-m", "comment", "--comment", "switchboard masquerade", "-j", postroutingChain]),
            jump("filter", "FORWARD", checks),
            jump("filter", "OUTPUT", checks),
            jump("mangle", "PREROUTING", ["-m", "comment", "--comment", "switchboard external service traffic", "-j", externalChain]),
        ]
    }

    // MARK: - Probabilities

    /// 1/`k` with 10 decimals, as kube-proxy prints it (`%0.10f`): `0.3333333333`. Exact rational arithmetic,
    /// ties to even (as Go rounds a double that is exactly a tie, e.g. 1/2048).
    public static func probability(_ k: Int) -> String {
        precondition(k >= 1)
        let scale: UInt64 = 10_000_000_000
        let d = UInt64(k)
        var q = scale / d
        let r = scale % d
        if 2 * r > d || (2 * r == d && q % 2 == 1) { q += 1 }
        let fraction = String(q % scale)
        return "\(q / scale)." + String(repeating: "0", count: 10 - fraction.count) + fraction
    }
}

// MARK: - Layout

extension IPTablesRuleset {
    /// A chain and its rules, as `-A CHAIN …` lines.
    struct Chain: Equatable {
        var name: String
        var rules: [String]
    }

    /// One table of a restore: chain declarations (which create or flush), rules, then deletions.
    struct Table {
        var name: String
        var declarations: [String] = []
        var rules: [String] = []
        var deletions: [String] = []
        var declared: Set<String> = []

        mutating func declare(_ chain: String, rules chainRules: [String]) {
            declared.insert(chain)
            declarations.append(":\(chain) - [0:0]")
            rules += chainRules
        }

        /// A chain that goes: declared, so that it is flushed (iptables deletes empty chains only), then
        /// deleted after every rule, once nothing names it.
        mutating func delete(_ chain: String) {
            declarations.append(":\(chain) - [0:0]")
            deletions.append("-X \(chain)")
        }

        var text: String { (["*\(name)"] + declarations + rules + deletions + ["COMMIT"]).joined(separator: "\n") + "\n" }
    }

    /// The rules one state and configuration give, per family; the chains of each port on demand.
    struct Layout {
        let family: IPFamily
        let configuration: ProxyConfiguration
        /// The family's Service ports, sorted by ClusterIP, protocol, port.
        let ports: [ServicePortState]
        let comments: Bool
        let clusterCIDRs: [CIDR]
        let serviceCIDRs: [CIDR]

        init(_ state: ProxyState, family: IPFamily, configuration: ProxyConfiguration) {
            self.family = family
            self.configuration = configuration
            ports = state.servicePorts.filter { $0.clusterIP.family == family }.sorted {
                ($0.clusterIP.integerValue, $0.transport, $0.port) < ($1.clusterIP.integerValue, $1.transport, $1.port)
            }
            comments = ports.count <= IPTablesRuleset.commentThreshold
            clusterCIDRs = configuration.clusterCIDRs.filter { $0.family == family }.sorted { $0.description < $1.description }
            serviceCIDRs = configuration.serviceCIDRs.filter { $0.family == family }.sorted { $0.description < $1.description }
        }

        var rejectWith: String { family == .ipv4 ? "icmp-port-unreachable" : "icmp6-port-unreachable" }

        func comment(_ text: String) -> String {
            guard comments else { return "" }
            // One argument in quotes: nothing in it may end the quotes; the kernel keeps 255 bytes.
            let clean = String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0 != "\n" && $0.isASCII }.map(Character.init))
            return "-m comment --comment \"\(clean.prefix(200))\" "
        }

        func match(_ port: ServicePortState) -> String {
            "-d \(host(port.clusterIP)) -p \(port.transport) -m \(port.transport) --dport \(port.port)"
        }

        /// nat `SWITCHBOARD-SERVICES`: Service ports with endpoints (those without have no chains; the filter
        /// checks answer for them).
        var servicesRules: [String] {
            ports.filter { !$0.endpoints.isEmpty }.map {
                "-A \(servicesChain) \(comment($0.name))\(match($0)) -j \(serviceChain($0))"
            }
        }

        /// What marks a new connection for masquerade in a Service port's chain: everything with
        /// `masqueradeAll`; otherwise what does not come from a pod (the node, another node), so that the reply
        /// returns through this node; nothing without cluster CIDRs (all traffic is taken to come from pods).
        var masqueradeRules: [String] {
            if configuration.masqueradeAll { return ["-j \(markChain)"] }
            switch clusterCIDRs.count {
            case 0: return []
            case 1: return ["! -s \(clusterCIDRs[0]) -j \(markChain)"]
            default: return ["-j \(masqueradeUnlessPodChain)"]
            }
        }

        /// `SWITCHBOARD-MASQ-UNLESS-POD`, when there are several cluster CIDRs (and not `masqueradeAll`).
        var masqueradeUnlessPodRules: [String]? {
            guard !configuration.masqueradeAll, clusterCIDRs.count > 1 else { return nil }
            return clusterCIDRs.map { "-A \(masqueradeUnlessPodChain) -s \($0) -j RETURN" } + ["-A \(masqueradeUnlessPodChain) -j \(markChain)"]
        }

        /// The port's `SB-SVC-` chain, then its endpoints' `SB-SEP-` chains; none without endpoints.
        func chains(_ port: ServicePortState) -> [Chain] {
            guard !port.endpoints.isEmpty else { return [] }
            let svc = serviceChain(port)
            var rules = masqueradeRules.map { "-A \(svc) \($0)" }
            if let timeout = port.affinityTimeout {
                // A client seen within `timeout` goes back to its endpoint; `--reap` forgets older clients.
                for endpoint in port.endpoints {
                    let sep = endpointChain(port, endpoint)
                    rules.append("-A \(svc) -m recent --name \(sep) --rcheck --seconds \(timeout) --reap -j \(sep)")
                }
            }
            // Rule i takes 1/(n-i) of what reaches it: each endpoint gets 1/n in all.
            let n = port.endpoints.count
            for (i, endpoint) in port.endpoints.enumerated() {
                let sep = endpointChain(port, endpoint)
                rules.append(i == n - 1 ? "-A \(svc) -j \(sep)" : "-A \(svc) -m statistic --mode random --probability \(probability(n - i)) -j \(sep)")
            }
            var result = [Chain(name: svc, rules: rules)]
            for endpoint in port.endpoints {
                let sep = endpointChain(port, endpoint)
                // Hairpin: a pod reaching itself through its Service is masqueraded, so that the reply comes
                // back through the node's conntrack instead of straight from itself to itself.
                var sepRules = ["-A \(sep) -s \(host(endpoint.address)) -j \(markChain)"]
                let pin = port.affinityTimeout == nil ? "" : "-m recent --name \(sep) --set "
                sepRules.append("-A \(sep) \(pin)-p \(port.transport) -j DNAT --to-destination \(target(endpoint))")
                result.append(Chain(name: sep, rules: sepRules))
            }
            return result
        }

        /// filter `SWITCHBOARD-CHECKS`, for new connections after DNAT: what still goes to a ClusterIP was not
        /// DNATed.
        var checksRules: [String] {
            let c = checksChain
            var rules: [String] = []
            // Most new connections are not to a Service: with one service CIDR holding every ClusterIP, they
            // leave after one rule instead of walking a rule per ClusterIP.
            if serviceCIDRs.count == 1, ports.allSatisfy({ serviceCIDRs[0].contains($0.clusterIP) }) {
                rules.append("-A \(c) ! -d \(serviceCIDRs[0]) -j RETURN")
            }
            for port in ports where port.endpoints.isEmpty {
                if port.dropWhenEmpty {
                    // internalTrafficPolicy: Local, endpoints only elsewhere: silence, as kube-proxy.
                    rules.append("-A \(c) \(comment("\(port.name) has no local endpoints"))\(match(port)) -j DROP")
                } else {
                    // TCP gets a reset: the kernel rate-limits ICMP errors, so a client retrying at once would
                    // see every other attempt time out instead of being refused.
                    let with = port.transport == "tcp" ? "tcp-reset" : rejectWith
                    rules.append("-A \(c) \(comment("\(port.name) has no endpoints"))\(match(port)) -j REJECT --reject-with \(with)")
                }
            }
            // A ClusterIP on a port or protocol its Service does not define (kube-proxy's iptables mode lets
            // these through unchanged; its nftables mode and ours reject them).
            var seen: Set<IPAddress> = []
            for port in ports where seen.insert(port.clusterIP).inserted {
                rules.append("-A \(c) -d \(host(port.clusterIP)) -p tcp -j REJECT --reject-with tcp-reset")
                rules.append("-A \(c) -d \(host(port.clusterIP)) -j REJECT --reject-with \(rejectWith)")
            }
            // A service-CIDR address that no Service holds.
            for cidr in serviceCIDRs { rules.append("-A \(c) -d \(cidr) -j DROP") }
            return rules
        }

        /// mangle `SWITCHBOARD-EXTERNAL`, before DNAT: ClusterIPs are internal, even for a host with a route to
        /// them. Pods return first, one rule per cluster CIDR (a `! -s` rule per CIDR would drop the pods of
        /// the others); the rest, to the service CIDR, is dropped.
        var externalRules: [String] {
            guard !configuration.allowExternalClusterIP, !clusterCIDRs.isEmpty, !serviceCIDRs.isEmpty else { return [] }
            return clusterCIDRs.map { "-A \(externalChain) -s \($0) -j RETURN" } + serviceCIDRs.map { "-A \(externalChain) -d \($0) -j DROP" }
        }
    }
}

// MARK: - SHA-256 and base32 (no Foundation, no crypto library in ProxyCore)

private let sha256K: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]

extension IPTablesRuleset {
    /// SHA-256 of `message` (FIPS 180-4): the hash kube-proxy names its chains with.
    static func sha256(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for block in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = block + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ sha256K[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d
            h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
        return h.flatMap { word in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) } }
    }

    /// RFC 4648 base32 (`A–Z2–7`) without padding: upper case and digits, safe in a chain name.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }
}
