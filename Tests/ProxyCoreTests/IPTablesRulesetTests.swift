import IPAM
import KubeAPI
import Testing
@testable import ProxyCore

/// The iptables renderer, on text: kube-proxy's iptables layout under our chain names (the kernel round trip is
/// in `IPTablesKernelTests`).
struct IPTablesRulesetTests {
    static let configuration = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("172.30.0.0/16")!])

    /// svc `s` at 172.30.0.41:80 with endpoints 10.180.0.1…n.
    static func state(endpoints n: Int, affinity: Int32? = nil, ip: String = "172.30.0.41") -> ProxyState {
        var service = Fixture.service("s", ip: ip)
        if let affinity {
            service.spec.sessionAffinity = .clientIP
            service.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: affinity))
        }
        let slices = n == 0 ? [] : [Fixture.slice("s", (1...n).map { Fixture.endpoint("10.180.0.\($0)") })]
        return Fixture.state([service], slices)
    }

    static func render(_ state: ProxyState, configuration: ProxyConfiguration = configuration) -> String {
        IPTablesRuleset.render(state, family: .ipv4, configuration: configuration)
    }

    /// The rules of `chain` in restore text, without `-A CHAIN `.
    static func rules(_ chain: String, _ text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("-A \(chain) ") }.map { String($0.dropFirst("-A \(chain) ".count)) }
    }

    /// The section of one table, `*name` to `COMMIT`.
    static func table(_ name: String, _ text: String) -> [String] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "*\(name)") else { return [] }
        let end = lines[start...].firstIndex(of: "COMMIT") ?? lines.endIndex
        return Array(lines[start..<end])
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func port(_ state: ProxyState) -> ServicePortState { state.servicePorts[0] }

    static func sep(_ state: ProxyState, _ i: Int) -> String {
        IPTablesRuleset.endpointChain(port(state), port(state).endpoints[i])
    }

    @Test func threeTablesEachCommitted() {
        let text = Self.render(Self.state(endpoints: 1))
        #expect(text.hasPrefix("*nat\n"))
        #expect(Self.table("filter", text).contains(":SWITCHBOARD-CHECKS - [0:0]"))
        #expect(Self.table("mangle", text).contains(":SWITCHBOARD-EXTERNAL - [0:0]"))
        #expect(text.split(separator: "\n").filter { $0 == "COMMIT" }.count == 3)
        #expect(!text.contains(":PREROUTING") && !text.contains("-A PREROUTING"), "only our chains")
        #expect(IPTablesRuleset.restoreCommand(family: .ipv6) == ["ip6tables-restore", "-w", "--noflush"])
    }

    @Test func cascadeProbabilities() {
        let expected: [Int: [String]] = [
            1: [],
            2: ["0.5000000000"],
            3: ["0.3333333333", "0.5000000000"],
            4: ["0.2500000000", "0.3333333333", "0.5000000000"],
        ]
        for (n, probabilities) in expected {
            let state = Self.state(endpoints: n)
            let rules = Self.rules(IPTablesRuleset.serviceChain(Self.port(state)), Self.render(state))
            let jumps = rules.filter { $0.contains("-j SB-SEP-") }
            #expect(jumps.count == n)
            for (i, p) in probabilities.enumerated() {
                #expect(jumps[i] == "-m statistic --mode random --probability \(p) -j \(Self.sep(state, i))")
            }
            #expect(jumps.last == "-j \(Self.sep(state, n - 1))", "the last rule is unconditional")
        }
        #expect(IPTablesRuleset.probability(7) == "0.1428571429")
        #expect(IPTablesRuleset.probability(2048) == "0.0004882812", "a tie rounds to even, as Go's %0.10f")
        #expect(IPTablesRuleset.probability(1) == "1.0000000000")
    }

    @Test func servicesAndEndpointChains() {
        let state = Self.state(endpoints: 2)
        let text = Self.render(state)
        let svc = IPTablesRuleset.serviceChain(Self.port(state))
        #expect(Self.rules("SWITCHBOARD-SERVICES", text) == ["-m comment --comment \"ns/s:80\" -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j \(svc)"])
        #expect(Self.rules(Self.sep(state, 0), text) == ["-s 10.180.0.1/32 -j SWITCHBOARD-MARK-MASQ", "-p tcp -j DNAT --to-destination 10.180.0.1:80"])
        #expect(Self.rules("SWITCHBOARD-MARK-MASQ", text) == ["-j MARK --or-mark 0x4000"])
        #expect(
            Self.rules("SWITCHBOARD-POSTROUTING", text) == [
                "-m mark ! --mark 0x4000/0x4000 -j RETURN", "-j MARK --xor-mark 0x4000", "-j MASQUERADE --random-fully",
            ])
        // Every chain is declared before any rule names it.
        let nat = Self.table("nat", text)
        #expect(nat.lastIndex { $0.hasPrefix(":") }! < nat.firstIndex { $0.hasPrefix("-A") }!)
    }

    @Test func sctpAndUDPPortsAreTheirOwnRules() {
        let ports = [ServicePort(name: "u", protocol: .udp, port: 53), ServicePort(name: "s", protocol: .sctp, port: 53)]
        let slice = Fixture.slice(
            "d", [Fixture.endpoint("10.180.0.1")],
            ports: [EndpointPort(name: "u", port: 53, protocol: .udp), EndpointPort(name: "s", port: 5353, protocol: .sctp)])
        let state = Fixture.state([Fixture.service("d", ip: "172.30.0.42", ports: ports)], [slice])
        let text = Self.render(state)
        let services = Self.rules("SWITCHBOARD-SERVICES", text)
        #expect(services.count == 2)
        #expect(services.contains { $0.contains("-p sctp -m sctp --dport 53 -j SB-SVC-") })
        #expect(services.contains { $0.contains("-p udp -m udp --dport 53 -j SB-SVC-") })
        #expect(text.contains("-p sctp -j DNAT --to-destination 10.180.0.1:5353"))
    }

    @Test func sessionAffinity() {
        let state = Self.state(endpoints: 2, affinity: 60)
        let text = Self.render(state)
        let rules = Self.rules(IPTablesRuleset.serviceChain(Self.port(state)), text)
        let (a, b) = (Self.sep(state, 0), Self.sep(state, 1))
        #expect(
            rules == [
                "! -s 10.0.0.0/8 -j SWITCHBOARD-MARK-MASQ",
                "-m recent --name \(a) --rcheck --seconds 60 --reap -j \(a)",
                "-m recent --name \(b) --rcheck --seconds 60 --reap -j \(b)",
                "-m statistic --mode random --probability 0.5000000000 -j \(a)",
                "-j \(b)",
            ])
        #expect(Self.rules(b, text) == ["-s 10.180.0.2/32 -j SWITCHBOARD-MARK-MASQ", "-m recent --name \(b) --set -p tcp -j DNAT --to-destination 10.180.0.2:80"])
        #expect(!Self.render(Self.state(endpoints: 2)).contains("recent"))
    }

    @Test func masqueradeDecision() {
        let state = Self.state(endpoints: 1)
        let svc = IPTablesRuleset.serviceChain(Self.port(state))
        #expect(Self.rules(svc, Self.render(state)).first == "! -s 10.0.0.0/8 -j SWITCHBOARD-MARK-MASQ")
        #expect(Self.rules(svc, Self.render(state, configuration: ProxyConfiguration())) == ["-j \(Self.sep(state, 0))"], "no cluster CIDR: nothing")
        let all = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], masqueradeAll: true)
        #expect(Self.rules(svc, Self.render(state, configuration: all)).first == "-j SWITCHBOARD-MARK-MASQ")
        #expect(!Self.render(state, configuration: all).contains("SWITCHBOARD-MASQ-UNLESS-POD"))
        // Two pod CIDRs: `! -s A` and `! -s B` would mark every pod; a chain returns for each instead.
        let two = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!, CIDR("100.64.0.0/10")!])
        let text = Self.render(state, configuration: two)
        #expect(Self.rules(svc, text).first == "-j SWITCHBOARD-MASQ-UNLESS-POD")
        #expect(
            Self.rules("SWITCHBOARD-MASQ-UNLESS-POD", text) == [
                "-s 10.0.0.0/8 -j RETURN", "-s 100.64.0.0/10 -j RETURN", "-j SWITCHBOARD-MARK-MASQ",
            ])
        // The other family's CIDRs do not count.
        let v6Only = ProxyConfiguration(clusterCIDRs: [CIDR("fd00:10::/64")!])
        #expect(Self.rules(svc, Self.render(state, configuration: v6Only)) == ["-j \(Self.sep(state, 0))"])
    }

    @Test func rejectDropAndUndefinedPorts() {
        let local = Fixture.service("l", ip: "172.30.0.43", ports: [ServicePort(protocol: .udp, port: 53)], local: true)
        let state = Fixture.state(
            [Fixture.service("e", ip: "172.30.0.9"), local, Fixture.service("s", ip: "172.30.0.41")],
            [
                Fixture.slice("l", [Fixture.endpoint("10.180.2.1", node: "node2")], ports: [EndpointPort(name: "", port: 53, protocol: .udp)]),
                Fixture.slice("s", [Fixture.endpoint("10.180.0.1")]),
            ])
        let text = Self.render(state)
        #expect(
            Self.rules("SWITCHBOARD-CHECKS", text) == [
                "! -d 172.30.0.0/16 -j RETURN",
                "-m comment --comment \"ns/e:80 has no endpoints\" -d 172.30.0.9/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset",
                "-m comment --comment \"ns/l:53 has no local endpoints\" -d 172.30.0.43/32 -p udp -m udp --dport 53 -j DROP",
                "-d 172.30.0.9/32 -p tcp -j REJECT --reject-with tcp-reset",
                "-d 172.30.0.9/32 -j REJECT --reject-with icmp-port-unreachable",
                "-d 172.30.0.41/32 -p tcp -j REJECT --reject-with tcp-reset",
                "-d 172.30.0.41/32 -j REJECT --reject-with icmp-port-unreachable",
                "-d 172.30.0.43/32 -p tcp -j REJECT --reject-with tcp-reset",
                "-d 172.30.0.43/32 -j REJECT --reject-with icmp-port-unreachable",
                "-d 172.30.0.0/16 -j DROP",
            ])
        #expect(Self.rules("SWITCHBOARD-SERVICES", text).count == 1, "ports without endpoints have no nat rules")
        let udp = Fixture.state([Fixture.service("u", ip: "172.30.0.44", ports: [ServicePort(protocol: .udp, port: 53)])], [])
        #expect(Self.render(udp).contains("-d 172.30.0.44/32 -p udp -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable"))
        // A ClusterIP outside the one service CIDR, or two service CIDRs: no shortcut, every rule is walked.
        let outside = Self.render(Self.state(endpoints: 1, ip: "10.96.0.10"))
        #expect(!outside.contains("-A SWITCHBOARD-CHECKS ! -d"))
        #expect(outside.contains("-A SWITCHBOARD-CHECKS -d 10.96.0.10/32 -j REJECT --reject-with icmp-port-unreachable"))
        let noCIDR = Self.render(Self.state(endpoints: 1), configuration: ProxyConfiguration())
        #expect(Self.rules("SWITCHBOARD-CHECKS", noCIDR) == ["-d 172.30.0.41/32 -p tcp -j REJECT --reject-with tcp-reset", "-d 172.30.0.41/32 -j REJECT --reject-with icmp-port-unreachable"])
    }

    @Test func externalTrafficToTheServiceCIDR() {
        let state = Self.state(endpoints: 1)
        #expect(Self.rules("SWITCHBOARD-EXTERNAL", Self.render(state)) == ["-s 10.0.0.0/8 -j RETURN", "-d 172.30.0.0/16 -j DROP"])
        let two = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!, CIDR("100.64.0.0/10")!], serviceCIDRs: [CIDR("172.30.0.0/16")!, CIDR("172.31.0.0/16")!])
        #expect(
            Self.rules("SWITCHBOARD-EXTERNAL", Self.render(state, configuration: two)) == [
                "-s 10.0.0.0/8 -j RETURN", "-s 100.64.0.0/10 -j RETURN", "-d 172.30.0.0/16 -j DROP", "-d 172.31.0.0/16 -j DROP",
            ])
        let allowed = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("172.30.0.0/16")!], allowExternalClusterIP: true)
        let text = Self.render(state, configuration: allowed)
        #expect(Self.rules("SWITCHBOARD-EXTERNAL", text).isEmpty)
        #expect(text.contains(":SWITCHBOARD-EXTERNAL - [0:0]"), "declared anyway: the mangle jump names it")
    }

    @Test func ipv6() {
        let state = Fixture.state(
            [Fixture.service("v6", ip: "fd00:172:30::41"), Fixture.service("e6", ip: "fd00:172:30::42", ports: [ServicePort(protocol: .udp, port: 53)])],
            [Fixture.slice("v6", [Fixture.endpoint("fd00:10:180::1")], type: .ipv6)], family: .ipv6)
        let configuration = ProxyConfiguration(clusterCIDRs: [CIDR("fd00:10::/48")!, CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("fd00:172:30::/112")!])
        let text = IPTablesRuleset.render(state, family: .ipv6, configuration: configuration)
        let port = state.servicePorts.first { $0.name == "ns/v6:80" }!
        let sep = IPTablesRuleset.endpointChain(port, port.endpoints[0])
        #expect(text.contains("-A SWITCHBOARD-SERVICES -m comment --comment \"ns/v6:80\" -d fd00:172:30::41/128 -p tcp -m tcp --dport 80 -j SB-SVC-"))
        #expect(Self.rules(sep, text) == ["-s fd00:10:180::1/128 -j SWITCHBOARD-MARK-MASQ", "-p tcp -j DNAT --to-destination [fd00:10:180::1]:80"])
        #expect(Self.rules(IPTablesRuleset.serviceChain(port), text).first == "! -s fd00:10::/48 -j SWITCHBOARD-MARK-MASQ")
        #expect(text.contains("-d fd00:172:30::42/128 -p udp -m udp --dport 53 -j REJECT --reject-with icmp6-port-unreachable"))
        #expect(text.contains("-A SWITCHBOARD-CHECKS -d fd00:172:30::42/128 -j REJECT --reject-with icmp6-port-unreachable"))
        #expect(text.contains("-A SWITCHBOARD-CHECKS -d fd00:172:30::/112 -j DROP"))
        #expect(Self.rules("SWITCHBOARD-EXTERNAL", text) == ["-s fd00:10::/48 -j RETURN", "-d fd00:172:30::/112 -j DROP"])
        #expect(!text.contains("10.0.0.0/8"), "the IPv4 CIDR stays out of the IPv6 rules")
        #expect(IPTablesRuleset.render(state, family: .ipv4, configuration: configuration).split(separator: "\n").filter { $0.hasPrefix("-A SB-") }.isEmpty)
    }

    @Test func chainNamesAreShortStableAndDistinct() {
        let services = (1...200).map { Fixture.service("s\($0)", ip: "172.30.1.\($0)", ports: [ServicePort(name: "a", port: 80), ServicePort(name: "b", protocol: .udp, port: 80)]) }
        let slices = (1...200).map { i in
            Fixture.slice("s\(i)", (1...3).map { Fixture.endpoint("10.1.\(i).\($0)") }, ports: [EndpointPort(name: "a", port: 80, protocol: .tcp), EndpointPort(name: "b", port: 80, protocol: .udp)])
        }
        let text = IPTablesRuleset.render(Fixture.state(services, slices), family: .ipv4, configuration: Self.configuration)
        let names = text.split(separator: "\n").filter { $0.hasPrefix(":") }.map { $0.dropFirst().prefix { $0 != " " } }
        #expect(names.count == Set(names).count, "distinct")
        #expect(names.count == 5 + 200 * 2 * (1 + 3))
        #expect(names.allSatisfy { $0.count <= 28 }, "\(names.filter { $0.count > 28 })")
        #expect(names.filter { $0.hasPrefix("SB-") }.allSatisfy { $0.count == 23 })
        // Stable: across runs (a restarted proxier finds its chains by name) and whatever the input order.
        let port = ServicePortState(name: "x", clusterIP: IPAddress("172.30.0.41")!, transport: "tcp", port: 80, endpoints: [])
        #expect(IPTablesRuleset.serviceChain(port) == "SB-SVC-" + String(IPTablesRuleset.base32(IPTablesRuleset.sha256(Array("172.30.0.41/tcp/80".utf8))).prefix(16)))
        #expect(IPTablesRuleset.serviceChain(port) == "SB-SVC-F7P5UBBSZK65QJWJ")
        #expect(IPTablesRuleset.render(Fixture.state(services.reversed(), slices.reversed()), family: .ipv4, configuration: Self.configuration) == text)
    }

    @Test func hashPrimitives() {
        #expect(Self.hex(IPTablesRuleset.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(IPTablesRuleset.sha256(Array(String(repeating: "a", count: 1000).utf8))).hasPrefix("41edece4"), "several blocks")
        #expect(Self.hex(IPTablesRuleset.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(IPTablesRuleset.base32(Array("foobar".utf8)) == "MZXW6YTBOI")
    }

    @Test func commentsAreLeftOutForLargeClusters() {
        let services = (0...1000).map { Fixture.service("s\($0)", ip: "172.30.\($0 / 250).\($0 % 250 + 1)") }
        let text = IPTablesRuleset.render(Fixture.state(services, []), family: .ipv4, configuration: Self.configuration)
        #expect(!text.contains("-m comment"))
        #expect(Self.render(Self.state(endpoints: 0)).contains("-m comment"))
    }

    @Test func jumpsFromTheBuiltInChains() {
        let jumps = IPTablesRuleset.jumps(family: .ipv4)
        #expect(jumps.map { "\($0.table) \($0.chain) \($0.rule.last!)" } == [
            "nat PREROUTING SWITCHBOARD-SERVICES", "nat OUTPUT SWITCHBOARD-SERVICES", "nat POSTROUTING SWITCHBOARD-POSTROUTING",
            "filter FORWARD SWITCHBOARD-CHECKS", "filter OUTPUT SWITCHBOARD-CHECKS", "mangle PREROUTING SWITCHBOARD-EXTERNAL",
        ])
        #expect(
            jumps[3].arguments(.check) == [
                "iptables", "-w", "-t", "filter", "-C", "FORWARD", "-m", "conntrack", "--ctstate", "NEW",
                "-m", "comment", "--comment", "switchboard service checks", "-j", "SWITCHBOARD-CHECKS",
            ])
        #expect(jumps[0].arguments(.insert).prefix(6) == ["iptables", "-w", "-t", "nat", "-I", "PREROUTING"])
        #expect(IPTablesRuleset.jumps(family: .ipv6).allSatisfy { $0.program == "ip6tables" })
    }

    // MARK: - Partial restores

    @Test func noChangeIsNoRestore() {
        let state = Self.state(endpoints: 3, affinity: 30)
        #expect(IPTablesRuleset.difference(from: state, to: state, family: .ipv4, configuration: Self.configuration) == "")
    }

    @Test func aNewEndpointRewritesItsServiceChainAndAddsOneChain() throws {
        let before = Self.state(endpoints: 2)
        let after = Self.state(endpoints: 3)
        let text = try #require(IPTablesRuleset.difference(from: before, to: after, family: .ipv4, configuration: Self.configuration))
        let declared = text.split(separator: "\n").filter { $0.hasPrefix(":") }.map { String($0.dropFirst().prefix { $0 != " " }) }
        let svc = IPTablesRuleset.serviceChain(Self.port(after))
        #expect(declared == ["SWITCHBOARD-SERVICES", svc, Self.sep(after, 2), "SWITCHBOARD-CHECKS"], "\(text)")
        #expect(Self.rules(svc, text).count == 4)
        #expect(!text.contains("-X"))
        #expect(!text.contains("*mangle"))
        #expect(Self.rules("SWITCHBOARD-SERVICES", text) == Self.rules("SWITCHBOARD-SERVICES", Self.render(after)))
        #expect(Self.rules("SWITCHBOARD-CHECKS", text) == Self.rules("SWITCHBOARD-CHECKS", Self.render(after)))
    }

    @Test func onlyTheChangedServiceIsRewritten() throws {
        let services = (1...20).map { Fixture.service("s\($0)", ip: "172.30.1.\($0)") }
        let slices = (1...20).map { i in Fixture.slice("s\(i)", [Fixture.endpoint("10.1.\(i).1"), Fixture.endpoint("10.1.\(i).2")]) }
        var changedSlices = slices
        changedSlices[6] = Fixture.slice("s7", [Fixture.endpoint("10.1.7.1"), Fixture.endpoint("10.1.7.9")])
        let before = Fixture.state(services, slices)
        let after = Fixture.state(services, changedSlices)
        let text = try #require(IPTablesRuleset.difference(from: before, to: after, family: .ipv4, configuration: Self.configuration))
        let port = after.servicePorts[6]
        let gone = IPTablesRuleset.endpointChain(port, EndpointTarget(address: IPAddress("10.1.7.2")!, port: 80))
        let new = IPTablesRuleset.endpointChain(port, EndpointTarget(address: IPAddress("10.1.7.9")!, port: 80))
        let kept = IPTablesRuleset.endpointChain(port, EndpointTarget(address: IPAddress("10.1.7.1")!, port: 80))
        let lines = text.split(separator: "\n").map(String.init)
        let declared = lines.filter { $0.hasPrefix(":SB-") }
        #expect(Set(declared) == [":\(IPTablesRuleset.serviceChain(port)) - [0:0]", ":\(new) - [0:0]", ":\(gone) - [0:0]"], "\(text)")
        #expect(!text.contains(kept + " "), "an unchanged endpoint keeps its chain (and its pins)")
        // The stale chain is flushed by its declaration and deleted after every rule, before COMMIT.
        let delete = try #require(lines.firstIndex(of: "-X \(gone)"))
        #expect(lines[delete + 1] == "COMMIT")
        #expect(lines[..<delete].allSatisfy { !$0.hasPrefix("-A \(gone) ") })
        #expect(Self.rules("SWITCHBOARD-SERVICES", text).count == 20)
    }

    @Test func aRemovedServiceDeletesItsChains() throws {
        let before = Self.state(endpoints: 2, affinity: 60)
        let after = Fixture.state([], [])
        let text = try #require(IPTablesRuleset.difference(from: before, to: after, family: .ipv4, configuration: Self.configuration))
        let svc = IPTablesRuleset.serviceChain(Self.port(before))
        #expect(Set(text.split(separator: "\n").filter { $0.hasPrefix("-X ") }) == ["-X \(svc)", "-X \(Self.sep(before, 0))", "-X \(Self.sep(before, 1))"])
        #expect(Self.rules("SWITCHBOARD-SERVICES", text).isEmpty)
        #expect(text.contains(":SWITCHBOARD-SERVICES - [0:0]"), "declared, so flushed")
        // Losing its endpoints: the nat chains go, the filter chain refuses.
        let empty = try #require(IPTablesRuleset.difference(from: before, to: Self.state(endpoints: 0, affinity: 60), family: .ipv4, configuration: Self.configuration))
        #expect(empty.contains("-X \(svc)"))
        #expect(empty.contains("--dport 80 -j REJECT --reject-with tcp-reset"))
    }

    @Test func aRenameRewritesOnlyTheCommentedChains() throws {
        var renamed = Self.state(endpoints: 2)
        renamed.servicePorts[0].name = "ns/other:80"
        let text = try #require(IPTablesRuleset.difference(from: Self.state(endpoints: 2), to: renamed, family: .ipv4, configuration: Self.configuration))
        #expect(!text.contains(":SB-"))
        #expect(text.contains("--comment \"ns/other:80\""))
    }

    @Test func anAffinityChangeRewritesEveryChainOfThePort() throws {
        let text = try #require(IPTablesRuleset.difference(from: Self.state(endpoints: 2), to: Self.state(endpoints: 2, affinity: 60), family: .ipv4, configuration: Self.configuration))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix(":SB-") }.count == 3)
    }

    @Test func aConfigurationChangeNeedsAFullRestore() {
        var other = Self.configuration
        other.masqueradeAll = true
        let state = Self.state(endpoints: 1)
        #expect(IPTablesRuleset.difference(from: state, to: state, family: .ipv4, configuration: other, oldConfiguration: Self.configuration) == nil)
        #expect(IPTablesRuleset.difference(from: state, to: state, family: .ipv4, configuration: other, oldConfiguration: other) == "")
    }

    // MARK: - Full restores over what the kernel has

    @Test func ourChainsInASave() {
        let save = """
            # Generated by iptables-save v1.8.9 (nf_tables) on Tue Dec  1 22:35:46 2026
            *mangle
            :PREROUTING ACCEPT [0:0]
            :SWITCHBOARD-EXTERNAL - [0:0]
            COMMIT
            *nat
            :PREROUTING ACCEPT [12:720]
            :KUBE-SERVICES - [0:0]
            :SB-SVC-AAAAAAAAAAAAAAAA - [0:0]
            :SB-SEP-BBBBBBBBBBBBBBBB - [3:180]
            :SWITCHBOARD-SERVICES - [0:0]
            -A PREROUTING -j SWITCHBOARD-SERVICES
            COMMIT
            *filter
            :INPUT ACCEPT [0:0]
            COMMIT
            """
        #expect(
            IPTablesRuleset.ourChains(inSave: save) == [
                "mangle": ["SWITCHBOARD-EXTERNAL"],
                "nat": ["SB-SVC-AAAAAAAAAAAAAAAA", "SB-SEP-BBBBBBBBBBBBBBBB", "SWITCHBOARD-SERVICES"],
            ])
    }

    @Test func aFullRestoreDeletesStaleChains() throws {
        let state = Self.state(endpoints: 1)
        let svc = IPTablesRuleset.serviceChain(Self.port(state))
        let existing: [String: Set<String>] = ["nat": Set([svc, "SB-SVC-AAAAAAAAAAAAAAAA", "SWITCHBOARD-SERVICES", "SWITCHBOARD-MASQ-UNLESS-POD"]), "filter": ["SWITCHBOARD-OLD"], "raw": ["SB-X"]]
        let text = IPTablesRuleset.render(state, family: .ipv4, configuration: Self.configuration, existingChains: existing)
        let nat = Self.table("nat", text)
        #expect(nat.filter { $0.hasPrefix("-X") } == ["-X SB-SVC-AAAAAAAAAAAAAAAA", "-X SWITCHBOARD-MASQ-UNLESS-POD"])
        #expect(nat.contains(":SB-SVC-AAAAAAAAAAAAAAAA - [0:0]"), "flushed first: iptables deletes only empty chains")
        #expect(nat.firstIndex(of: "-X SB-SVC-AAAAAAAAAAAAAAAA")! > nat.lastIndex { $0.hasPrefix("-A") }!)
        #expect(Self.table("filter", text).contains("-X SWITCHBOARD-OLD"))
        #expect(!text.contains("SB-X"), "a table we do not write is left alone")
        #expect(IPTablesRuleset.render(state, family: .ipv4, configuration: Self.configuration, existingChains: ["SB-SVC-AAAAAAAAAAAAAAAA"]).contains("-X SB-SVC-AAAAAAAAAAAAAAAA"))
        #expect(!IPTablesRuleset.render(state, family: .ipv4, configuration: Self.configuration, existingChains: [svc]).contains("-X"))
    }
}
