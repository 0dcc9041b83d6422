import IPAM
import KubeAPI
import Testing
@testable import ProxyCore

/// Fixtures in the reference's conventions: pod CIDR 10.0.0.0/8, service CIDR 172.30.0.0/16, this node
/// `test-node`.
enum Fixture {
    static func service(
        _ name: String, ip: String, ports: [ServicePort] = [ServicePort(port: 80)], local: Bool = false, type: ServiceType? = nil
    ) -> Service {
        var s = Service(metadata: ObjectMeta(name: name, namespace: "ns"), spec: ServiceSpec(ports: ports))
        s.spec.clusterIP = ip
        s.spec.clusterIPs = [ip]
        s.spec.type = type
        if local { s.spec.internalTrafficPolicy = .local }
        return s
    }

    static func endpoint(_ ip: String, node: String = "test-node", ready: Bool = true, serving: Bool? = nil, terminating: Bool = false) -> Endpoint {
        var e = Endpoint(addresses: [ip], conditions: EndpointConditions(ready: ready, serving: serving ?? ready, terminating: terminating))
        e.nodeName = node
        return e
    }

    static func slice(_ service: String, _ endpoints: [Endpoint], ports: [EndpointPort] = [EndpointPort(name: "", port: 80, protocol: .tcp)], type: AddressType = .ipv4) -> EndpointSlice {
        EndpointSlice(
            metadata: ObjectMeta(name: "\(service)-abc", namespace: "ns", labels: ["kubernetes.io/service-name": service]),
            addressType: type, endpoints: endpoints, ports: ports)
    }

    static func state(_ services: [Service], _ slices: [EndpointSlice], family: IPFamily = .ipv4) -> ProxyState {
        ProxyState.build(services: services, slices: slices, family: family, nodeName: "test-node")
    }

    static func targets(_ state: ProxyState, _ index: Int = 0) -> [String] {
        state.servicePorts[index].endpoints.map { "\($0.address):\($0.port)" }
    }
}

struct ProxyStateTests {
    @Test func basicDNATAndTargetPorts() {
        let state = Fixture.state(
            [Fixture.service("svc1", ip: "172.30.0.41")],
            [Fixture.slice("svc1", [Fixture.endpoint("10.180.0.1"), Fixture.endpoint("10.180.2.1", node: "node2")], ports: [EndpointPort(name: "", port: 8443, protocol: .tcp)])])
        #expect(state.servicePorts.count == 1)
        #expect(state.servicePorts[0].clusterIP == IPAddress("172.30.0.41") && state.servicePorts[0].port == 80)
        #expect(Fixture.targets(state) == ["10.180.0.1:8443", "10.180.2.1:8443"])
    }

    @Test func eachProtocolIsItsOwnServicePort() {
        let ports = [ServicePort(name: "dns-udp", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", protocol: .tcp, port: 53)]
        let slice = Fixture.slice(
            "svc2", [Fixture.endpoint("10.180.0.1")],
            ports: [EndpointPort(name: "dns-udp", port: 53, protocol: .udp), EndpointPort(name: "dns-tcp", port: 5353, protocol: .tcp)])
        let state = Fixture.state([Fixture.service("svc2", ip: "172.30.0.42", ports: ports)], [slice])
        let byTransport = Dictionary(uniqueKeysWithValues: state.servicePorts.map { ($0.transport, $0.endpoints.map(\.port)) })
        #expect(byTransport == ["udp": [53], "tcp": [5353]])
    }

    @Test func internalTrafficPolicyLocal() {
        let endpoints = [Fixture.endpoint("10.0.1.1"), Fixture.endpoint("10.0.1.2"), Fixture.endpoint("10.0.2.1", node: "node2")]
        let cluster = Fixture.state([Fixture.service("s", ip: "172.30.0.43")], [Fixture.slice("s", endpoints)])
        #expect(Fixture.targets(cluster).count == 3)
        let local = Fixture.state([Fixture.service("s", ip: "172.30.0.43", local: true)], [Fixture.slice("s", endpoints)])
        #expect(Fixture.targets(local) == ["10.0.1.1:80", "10.0.1.2:80"])
        // Only remote endpoints: silence (the Service works elsewhere); no endpoints at all: a refusal.
        let remoteOnly = Fixture.state([Fixture.service("s", ip: "172.30.0.43", local: true)], [Fixture.slice("s", [Fixture.endpoint("10.0.2.1", node: "node2")])])
        #expect(remoteOnly.servicePorts[0].endpoints.isEmpty && remoteOnly.servicePorts[0].dropWhenEmpty)
        let none = Fixture.state([Fixture.service("s", ip: "172.30.0.43", local: true)], [])
        #expect(none.servicePorts[0].endpoints.isEmpty && !none.servicePorts[0].dropWhenEmpty)
    }

    @Test func terminatingEndpointsAreAFallbackOnly() {
        let mixed = [
            Fixture.endpoint("10.0.1.1"), Fixture.endpoint("10.0.1.5", node: "node2"),
            Fixture.endpoint("10.0.1.3", ready: false, serving: true, terminating: true),
            Fixture.endpoint("10.0.1.4", ready: false, serving: false, terminating: true),
        ]
        #expect(Fixture.targets(Fixture.state([Fixture.service("s", ip: "172.30.0.44")], [Fixture.slice("s", mixed)])) == ["10.0.1.1:80", "10.0.1.5:80"])
        let onlyTerminating = [
            Fixture.endpoint("10.0.1.2", ready: false, serving: true, terminating: true),
            Fixture.endpoint("10.0.1.5", node: "node2", ready: false, serving: true, terminating: true),
            Fixture.endpoint("10.0.1.4", ready: false, serving: false, terminating: true),
        ]
        #expect(Fixture.targets(Fixture.state([Fixture.service("s", ip: "172.30.0.44")], [Fixture.slice("s", onlyTerminating)])) == ["10.0.1.2:80", "10.0.1.5:80"])
        let unusable = [Fixture.endpoint("10.0.1.4", ready: false, serving: false, terminating: true), Fixture.endpoint("10.0.1.6", ready: false)]
        #expect(Fixture.targets(Fixture.state([Fixture.service("s", ip: "172.30.0.44")], [Fixture.slice("s", unusable)])).isEmpty)
    }

    @Test func headlessExternalNameAndOtherFamiliesAreNotProgrammed() {
        var headless = Fixture.service("h", ip: "None")
        headless.spec.clusterIPs = ["None"]
        var external = Fixture.service("e", ip: "")
        external.spec.type = .externalName
        let state = Fixture.state([headless, external, Fixture.service("v6", ip: "fd00:172:30::41")], [])
        #expect(state.servicePorts.isEmpty)
        #expect(Fixture.state([Fixture.service("v6", ip: "fd00:172:30::41")], [], family: .ipv6).servicePorts.count == 1)
    }

    @Test func unprogrammableObjectsAreSkippedAndTheRestWorks() {
        let bad = Fixture.slice("a", [Fixture.endpoint("fd00::1")], type: .ipv4)
        let outOfRange = Fixture.slice("b", [Fixture.endpoint("10.0.0.9")], ports: [EndpointPort(name: "", port: 70000, protocol: .tcp)])
        let state = Fixture.state(
            [Fixture.service("a", ip: "172.30.0.1"), Fixture.service("b", ip: "172.30.0.2"), Fixture.service("c", ip: "172.30.0.3")],
            [bad, outOfRange, Fixture.slice("c", [Fixture.endpoint("10.0.0.3")])])
        #expect(state.skipped.count == 2, "\(state.skipped)")
        #expect(state.servicePorts.first { $0.name == "ns/c:80" }?.endpoints.count == 1)
    }
}

struct NFTablesRulesetTests {
    static let configuration = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("172.30.0.0/16")!])

    static func render(_ services: [Service], _ slices: [EndpointSlice], configuration: ProxyConfiguration = configuration) -> String {
        NFTablesRuleset.render(Fixture.state(services, slices), family: .ipv4, configuration: configuration)
    }

    @Test func oneVerdictMapAndOneChainPerEndpointCount() {
        let services = (1...50).map { Fixture.service("s\($0)", ip: "172.30.1.\($0)") }
        let slices = (1...50).map { i in Fixture.slice("s\(i)", (0..<(i % 3 + 1)).map { Fixture.endpoint("10.1.\(i).\($0 + 1)") }) }
        let text = Self.render(services, slices)
        #expect(text.contains("172.30.1.7 . tcp . 80 : goto endpoints-2"))
        #expect(text.contains("172.30.1.7 . tcp . 80 . 1 : 10.1.7.2 . 80"))
        let chains = text.split(separator: "\n").filter { $0.contains("chain endpoints-") }
        #expect(chains.count == NFTablesRuleset.preparedCounts.count, "a constant number of chains, whatever the Services: \(chains.count)")
        #expect(text.contains("dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 3 map @backends-3"))
        #expect(text.hasPrefix("add table ip switchboard\ndelete table ip switchboard\ntable ip switchboard {"))
        #expect(Self.render(services.reversed(), slices.reversed()) == text, "the same input renders the same text")
    }

    @Test func refusalsDropsAndMasquerade() {
        let text = Self.render(
            [Fixture.service("empty", ip: "172.30.0.9"), Fixture.service("svc1", ip: "172.30.0.41")],
            [Fixture.slice("svc1", [Fixture.endpoint("10.180.0.1")])])
        #expect(text.contains("172.30.0.9 . tcp . 80 : goto reject-service"))
        #expect(text.contains("ip daddr @cluster-ips goto reject-service"), "a ClusterIP on a port it does not define")
        #expect(text.contains("ip daddr { 172.30.0.0/16 } drop"), "an unallocated service address")
        #expect(text.contains("ip saddr != { 10.0.0.0/8 } meta mark set meta mark | 0x4000"), "non-pod sources are masqueraded")
        #expect(text.contains("10.180.0.1 . 10.180.0.1"), "hairpin")
        #expect(text.contains("ip daddr { 172.30.0.0/16 } ip saddr != { 10.0.0.0/8 } drop"), "outside the cluster")
        let external = Self.render([], [], configuration: ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("172.30.0.0/16")!], allowExternalClusterIP: true))
        #expect(!external.contains("filter-prerouting"))
        let all = Self.render([Fixture.service("svc1", ip: "172.30.0.41")], [Fixture.slice("svc1", [Fixture.endpoint("10.180.0.1")])], configuration: ProxyConfiguration(masqueradeAll: true))
        #expect(all.contains("\t\tmeta mark set meta mark | 0x4000\n"))
        let noDetector = Self.render([Fixture.service("svc1", ip: "172.30.0.41")], [Fixture.slice("svc1", [Fixture.endpoint("10.180.0.1")])], configuration: ProxyConfiguration())
        #expect(!noDetector.contains("meta mark set"), "without --cluster-cidr nothing is masqueraded")
    }

    @Test func ipv6HasItsOwnTable() {
        let state = Fixture.state([Fixture.service("v6", ip: "fd00:172:30::41")], [Fixture.slice("v6", [Fixture.endpoint("fd00:10:180::1")], type: .ipv6)], family: .ipv6)
        let text = NFTablesRuleset.render(state, family: .ipv6, configuration: ProxyConfiguration())
        #expect(text.contains("table ip6 switchboard {"))
        #expect(text.contains("fd00:172:30::41 . tcp . 80 . 0 : fd00:10:180::1 . 80"))
        #expect(text.contains("reject with icmpv6 type port-unreachable"))
    }
}

struct PartialSyncTests {
    static let configuration = ProxyConfiguration(clusterCIDRs: [CIDR("10.0.0.0/8")!], serviceCIDRs: [CIDR("172.30.0.0/16")!])

    static func model(_ count: Int, endpointsOf: (Int) -> Int = { _ in 2 }) -> NFTablesModel {
        let services = (0..<count).map { Fixture.service("s\($0)", ip: "172.30.\($0 / 250).\($0 % 250 + 1)") }
        let slices = (0..<count).map { i in Fixture.slice("s\(i)", (0..<endpointsOf(i)).map { Fixture.endpoint("10.1.\(i / 250).\(i % 250 + $0 * 0)\($0)") }) }
        return NFTablesModel(Fixture.state(services, slices), family: .ipv4, configuration: configuration)
    }

    @Test func noChangeIsNoOperation() {
        #expect(NFTablesRuleset.difference(from: Self.model(20), to: Self.model(20)) == "")
    }

    @Test func oneNewServiceIsOnlyItsElements() throws {
        let text = try #require(NFTablesRuleset.difference(from: Self.model(20), to: Self.model(21)))
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("add element ip switchboard ") }, "\(text)")
        #expect(text.contains("service-ips { 172.30.0.21 . tcp . 80 : goto endpoints-2 }"))
        #expect(lines.count == 4, "service-ips, cluster-ips, backends-2, hairpin: \(text)")
    }

    @Test func endpointCountsMoveBetweenPreparedChains() throws {
        let text = try #require(NFTablesRuleset.difference(from: Self.model(3), to: Self.model(3) { $0 == 1 ? 3 : 2 }))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.hasPrefix("add map") || $0.hasPrefix("add chain") }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("delete element ip switchboard service-ips { 172.30.0.2 . tcp . 80 }") })
        #expect(lines.contains { $0.hasPrefix("add element ip switchboard service-ips { 172.30.0.2 . tcp . 80 : goto endpoints-3 }") })
        // Past the prepared counts, only a full sync can make the chain.
        #expect(NFTablesRuleset.difference(from: Self.model(3), to: Self.model(3) { $0 == 1 ? 40 : 2 }) == nil)
    }

    @Test func aConfigurationChangeNeedsAFullSync() {
        var other = Self.model(3)
        other.configuration.masqueradeAll = true
        #expect(NFTablesRuleset.difference(from: Self.model(3), to: other) == nil)
    }

    @Test func theFullRulesetParsesBackAsItsModel() throws {
        // nft prints elements as it was given them in this layout; the full text is close enough to a listing
        // to check the parser (the kernel round trip is in the lab tests).
        let model = Self.model(7) { $0 % 3 }
        let parsed = try #require(NFTablesModel.parse(listing: NFTablesRuleset.render(model), family: .ipv4, configuration: Self.configuration))
        #expect(parsed == model)
        #expect(NFTablesModel.parse(listing: NFTablesRuleset.render(model), family: .ipv4, configuration: ProxyConfiguration()) == nil)
    }
}

struct IncrementalModelTests {
    static let configuration = PartialSyncTests.configuration

    static func ports(_ endpoints: [String]) -> [ServicePortState] {
        Fixture.state([Fixture.service("echo", ip: "172.30.0.10")], [Fixture.slice("echo", endpoints.map { Fixture.endpoint($0) })]).servicePorts
    }

    @Test func aRemovedEndpointLeavesTheTable() throws {
        var tracker = IncrementalModel(family: .ipv4, configuration: Self.configuration)
        _ = tracker.update([(key: "ns/echo", ports: Self.ports(["10.0.0.1", "10.0.0.2", "10.0.0.3"]))])
        let change = tracker.update([(key: "ns/echo", ports: Self.ports(["10.0.0.1", "10.0.0.2"]))])
        let text = try #require(NFTablesRuleset.difference(from: change.before, to: change.after, existingCounts: change.existingCounts))
        #expect(!text.contains("add map"), "endpoints-2 is prepared")
        #expect(text.contains("delete element ip switchboard service-ips { 172.30.0.10 . tcp . 80 }"))
        #expect(text.contains("add element ip switchboard service-ips { 172.30.0.10 . tcp . 80 : goto endpoints-2 }"))
        #expect(text.contains("delete element ip switchboard hairpin { 10.0.0.3 . 10.0.0.3 }"))
        #expect(tracker.model == NFTablesModel(Fixture.state([Fixture.service("echo", ip: "172.30.0.10")], [Fixture.slice("echo", ["10.0.0.1", "10.0.0.2"].map { Fixture.endpoint($0) })]), family: .ipv4, configuration: Self.configuration))
    }
}


/// ClientIP session affinity: the port's own chains, one timeout set per endpoint, and partial syncs that keep
/// the pins of endpoints that stay.
struct SessionAffinityTests {
    static let configuration = PartialSyncTests.configuration

    static func ports(_ endpoints: [String], timeout: Int32? = 60) -> [ServicePortState] {
        var service = Fixture.service("sticky", ip: "172.30.0.20")
        service.spec.sessionAffinity = .clientIP
        service.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: timeout))
        return Fixture.state([service], [Fixture.slice("sticky", endpoints.map { Fixture.endpoint($0) })]).servicePorts
    }

    static func model(_ endpoints: [String], timeout: Int32? = 60) -> NFTablesModel {
        NFTablesModel(ProxyState(servicePorts: ports(endpoints, timeout: timeout), skipped: []), family: .ipv4, configuration: configuration)
    }

    @Test func theTimeoutDefaultsToThreeHoursAndIsPerPort() throws {
        let port = try #require(Self.ports(["10.0.0.1"], timeout: nil).first)
        #expect(port.affinityTimeout == 10800)
        #expect(Fixture.state([Fixture.service("plain", ip: "172.30.0.21")], []).servicePorts.first?.affinityTimeout == nil)
    }

    @Test func anAffinityPortHasItsOwnChainsAndTimeoutSets() throws {
        let model = Self.model(["10.0.0.1", "10.0.0.2"])
        let port = try #require(model.affinity["172.30.0.20 . tcp . 80"])
        #expect(model.serviceIPs["172.30.0.20 . tcp . 80"] == "goto \(port.chain)")
        #expect(model.backends.isEmpty)
        let text = NFTablesRuleset.render(model)
        let first = port.endpointChain(port.endpoints[0])
        #expect(text.contains("set \(first) {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout 60s\n\t}"), "\(text)")
        #expect(text.contains("update @\(first) { ip saddr }"))
        #expect(text.contains("meta l4proto tcp dnat ip to 10.0.0.1:80"))
        #expect(text.contains("ip saddr @\(first) goto \(first)"))
        #expect(text.contains("numgen random mod 2 vmap { 0 : goto \(first), 1 : goto \(port.endpointChain(port.endpoints[1])) }"))
    }

    @Test func anEndpointThatStaysKeepsItsSet() throws {
        let before = Self.model(["10.0.0.1", "10.0.0.2"])
        let after = Self.model(["10.0.0.1", "10.0.0.3"])
        let text = try #require(NFTablesRuleset.difference(from: before, to: after))
        let port = try #require(after.affinity.values.first)
        let kept = port.endpointChain(EndpointTarget(address: IPAddress("10.0.0.1")!, port: 80))
        let gone = port.endpointChain(EndpointTarget(address: IPAddress("10.0.0.2")!, port: 80))
        let new = port.endpointChain(EndpointTarget(address: IPAddress("10.0.0.3")!, port: 80))
        #expect(!text.contains("set ip switchboard \(kept) "), "\(text)")
        #expect(text.contains("delete set ip switchboard \(gone)"))
        #expect(text.contains("add set ip switchboard \(new) { type ipv4_addr; flags dynamic,timeout; timeout 60s; }"))
        // The port's chain is flushed before the endpoint objects it names go.
        let lines = text.split(separator: "\n").map(String.init)
        let flush = try #require(lines.firstIndex(of: "flush chain ip switchboard \(port.chain)"))
        let delete = try #require(lines.firstIndex(of: "delete chain ip switchboard \(gone)"))
        #expect(flush < delete)
        #expect(!text.contains("service-ips"), "the verdict is unchanged")
    }

    @Test func removingTheServiceRemovesItsChainsAfterItsVerdict() throws {
        let before = Self.model(["10.0.0.1"])
        let after = NFTablesModel(ProxyState(servicePorts: [], skipped: []), family: .ipv4, configuration: Self.configuration)
        let text = try #require(NFTablesRuleset.difference(from: before, to: after))
        let port = try #require(before.affinity.values.first)
        let lines = text.split(separator: "\n").map(String.init)
        let verdict = try #require(lines.firstIndex { $0.hasPrefix("delete element ip switchboard service-ips") })
        let chain = try #require(lines.firstIndex(of: "delete chain ip switchboard \(port.chain)"))
        #expect(verdict < chain)
        #expect(text.contains("delete set ip switchboard \(port.endpointChain(port.endpoints[0]))"))
    }

    @Test func aTimeoutChangeRenewsTheSets() throws {
        let text = try #require(NFTablesRuleset.difference(from: Self.model(["10.0.0.1"]), to: Self.model(["10.0.0.1"], timeout: 5)))
        #expect(text.contains("delete set"))
        #expect(text.contains("timeout 5s"))
    }

    @Test func anAffinityTableParsesBack() throws {
        let model = Self.model(["10.0.0.1", "10.0.0.2", "10.0.0.3"], timeout: 10800)
        // nft lists the timeout as `3h`, and dynamic sets with their clients.
        let listing = NFTablesRuleset.render(model).replacingTimeouts()
        let parsed = try #require(NFTablesModel.parse(listing: listing, family: .ipv4, configuration: Self.configuration))
        #expect(parsed == model)
    }

    @Test func incrementalUpdatesCarryTheAffinityPorts() throws {
        var tracker = IncrementalModel(family: .ipv4, configuration: Self.configuration)
        _ = tracker.update([(key: "ns/sticky", ports: Self.ports(["10.0.0.1", "10.0.0.2"]))])
        let change = tracker.update([(key: "ns/sticky", ports: Self.ports(["10.0.0.2"]))])
        #expect(change.before.affinity.count == 1 && change.after.affinity.count == 1)
        #expect(tracker.model == Self.model(["10.0.0.2"]))
        let text = try #require(NFTablesRuleset.difference(from: change.before, to: change.after, existingCounts: change.existingCounts))
        #expect(text.contains("delete set"))
    }

    @Test func nftDurations() {
        #expect(seconds("3h") == 10800)
        #expect(seconds("1d1h1m1s") == 90061)
        #expect(seconds("60s") == 60)
        #expect(seconds("1m") == 60)
        #expect(seconds("h") == nil)
    }
}

extension String {
    fileprivate func replacingTimeouts() -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("timeout 10800s") ? line.dropLast("10800s".count) + "3h\n\t\telements = { 10.0.0.9 timeout 3h expires 2h59m58s }" : String(line)
        }.joined(separator: "\n")
    }
}
