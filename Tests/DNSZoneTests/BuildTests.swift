import IPAM
import KubeAPI
import Testing
@testable import DNSZone

#if canImport(Glibc)
import Glibc
#endif

@Suite("Snapshot inputs: EndpointSlice semantics")
struct SliceInputTests {
    static func snapshot(_ slices: [EndpointSlice]) -> ClusterZoneSnapshot {
        ClusterZoneSnapshot.build(services: [Fixture.headless("h")], endpointSlices: slices)
    }

    static func addresses(_ snapshot: ClusterZoneSnapshot) -> [String] {
        Read.addresses(Read.ask("h.testns.svc.cluster.local", .any, snapshot))
    }

    @Test("ready nil counts as ready; ready false does not; serving and terminating are ignored")
    func readiness() {
        let snapshot = Self.snapshot([Fixture.slice("h", "h-a", [
            Fixture.endpoint("10.0.0.1", ready: nil), Fixture.endpoint("10.0.0.2", ready: false),
            Endpoint(addresses: ["10.0.0.3"], conditions: EndpointConditions(ready: true, serving: false, terminating: true)),
        ])])
        #expect(Self.addresses(snapshot) == ["10.0.0.1", "10.0.0.3"])
    }

    @Test("an address in several slices counts once; the first slice by name names it")
    func dedupe() {
        let snapshot = Self.snapshot([
            Fixture.slice("h", "h-b", [Fixture.endpoint("10.0.0.1", hostname: "late"), Fixture.endpoint("10.0.0.2")]),
            Fixture.slice("h", "h-a", [Fixture.endpoint("10.0.0.1", hostname: "early")]),
        ])
        #expect(Read.answers(Read.ask("h.testns.svc.cluster.local", .a, snapshot)).count == 2)
        #expect(Read.addresses(Read.ask("early.h.testns.svc.cluster.local", .a, snapshot)) == ["10.0.0.1"])
        #expect(Read.ask("late.h.testns.svc.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ptr(Read.ask("1.0.0.10.in-addr.arpa", .ptr, snapshot)) == ["early.h.testns.svc.cluster.local"])
        #expect(snapshot.endpointCount == 2)
    }

    @Test("slices without the service-name label, of another namespace, or of FQDN type are ignored")
    func ignoredSlices() {
        let snapshot = Self.snapshot([
            Fixture.slice("h", "unlabelled", [Fixture.endpoint("10.0.0.1")], labelled: false),
            Fixture.slice("h", "elsewhere", [Fixture.endpoint("10.0.0.2")], namespace: "other"),
            Fixture.slice("h", "fqdn", .fqdn, [Fixture.endpoint("example.com")]),
            Fixture.slice("h", "good", [Fixture.endpoint("10.0.0.4")]),
        ])
        #expect(Self.addresses(snapshot) == ["10.0.0.4"])
    }

    @Test("addresses of the other family than the slice's addressType are ignored")
    func familyMismatch() {
        let snapshot = Self.snapshot([
            Fixture.slice("h", "v4", [Endpoint(addresses: ["fd00::1", "10.0.0.1", "garbage"])]),
            Fixture.slice("h", "v6", .ipv6, [Endpoint(addresses: ["10.0.0.9", "fd00::2"])]),
        ])
        #expect(Self.addresses(snapshot) == ["10.0.0.1", "fd00::2"])
    }

    @Test("hostnames are matched case-insensitively and stored lowercase")
    func hostnameCase() {
        let snapshot = Self.snapshot([Fixture.slice("h", "h-a", [Fixture.endpoint("10.0.0.1", hostname: "Web-0")])])
        #expect(Read.addresses(Read.ask("web-0.h.testns.svc.cluster.local", .a, snapshot)) == ["10.0.0.1"])
        #expect(Read.ptr(Read.ask("1.0.0.10.in-addr.arpa", .ptr, snapshot)) == ["web-0.h.testns.svc.cluster.local"])
    }

    @Test("Services the zone cannot name are skipped")
    func skippedServices() {
        var pending = Fixture.service("pending")
        pending.spec.clusterIP = ""
        let snapshot = ClusterZoneSnapshot.build(
            services: [
                pending, Service(metadata: ObjectMeta(name: "nons")), Fixture.service("bad.name", ips: ["10.96.0.1"]),
                Fixture.service("first", ips: ["10.96.0.1"]), Fixture.service("first", ips: ["10.96.0.2"]),
                Fixture.service("noname", type: .externalName),
            ],
            endpointSlices: [])
        #expect(snapshot.serviceCount == 1)
        #expect(Read.addresses(Read.ask("first.testns.svc.cluster.local", .a, snapshot)) == ["10.96.0.1"])
        #expect(Read.ask("pending.testns.svc.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("testns.svc.cluster.local", .a, snapshot) == .noData)
    }
}

@Suite("Options")
struct OptionTests {
    @Test("serviceNameSRV off: SRV at the Service name is NODATA")
    func serviceNameSRV() {
        let snapshot = Fixture.snapshot(ZoneOptions(serviceNameSRV: false))
        #expect(Read.ask("svc1.testns.svc.cluster.local", .srv, snapshot) == .noData)
        #expect(Read.ask("hdls.testns.svc.cluster.local", .srv, snapshot) == .noData)
        #expect(Read.srv(Read.ask("_http._tcp.svc1.testns.svc.cluster.local", .srv, snapshot)) == ["80 svc1.testns.svc.cluster.local"])
    }

    @Test("clusterIPEndpointNames off: no endpoint names or PTRs for ClusterIP Services")
    func clusterIPEndpointNames() {
        let snapshot = Fixture.snapshot(ZoneOptions(clusterIPEndpointNames: false))
        #expect(Read.ask("named.svc1.testns.svc.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("8.7.244.10.in-addr.arpa", .ptr, snapshot) == .notInZone)
        #expect(Read.addresses(Read.ask("web-0.hdls.testns.svc.cluster.local", .a, snapshot)) == ["10.244.1.10"])
        #expect(Read.addresses(Read.ask("svc1.testns.svc.cluster.local", .a, snapshot)) == ["10.96.0.11"])
    }

    @Test("endpointPodNames: the pod's name instead of the dashed IP")
    func endpointPodNames() {
        let slice = Fixture.slice("h", "h-a", [
            Fixture.endpoint("10.0.0.1", pod: "web-abcde"), Fixture.endpoint("10.0.0.2", hostname: "host", pod: "ignored"),
        ])
        let snapshot = ClusterZoneSnapshot.build(
            services: [Fixture.headless("h")], endpointSlices: [slice], options: ZoneOptions(endpointPodNames: true))
        #expect(Read.addresses(Read.ask("web-abcde.h.testns.svc.cluster.local", .a, snapshot)) == ["10.0.0.1"])
        #expect(Read.addresses(Read.ask("host.h.testns.svc.cluster.local", .a, snapshot)) == ["10.0.0.2"])
        #expect(Read.ask("10-0-0-1.h.testns.svc.cluster.local", .a, snapshot) == .nxdomain)
    }

    @Test("ignoreEmptyServices: a ClusterIP Service without ready endpoints is NXDOMAIN")
    func ignoreEmptyServices() {
        for names in [true, false] {
            let snapshot = Fixture.snapshot(ZoneOptions(clusterIPEndpointNames: names, ignoreEmptyServices: true))
            #expect(Read.ask("nobackends.testns.svc.cluster.local", .a, snapshot) == .nxdomain)
            #expect(Read.ask("_http._tcp.nobackends.testns.svc.cluster.local", .srv, snapshot) == .nxdomain)
            #expect(Read.addresses(Read.ask("svc1.testns.svc.cluster.local", .a, snapshot)) == ["10.96.0.11"])
        }
    }

    @Test("clusterDomain: case and trailing dot ignored")
    func clusterDomain() {
        let snapshot = Fixture.snapshot(ZoneOptions(clusterDomain: "Example.Org."))
        #expect(snapshot.soa.name == "example.org")
        #expect(Read.addresses(Read.ask("svc1.testns.svc.example.org", .a, snapshot)) == ["10.96.0.11"])
        #expect(Read.ask("svc1.testns.svc.cluster.local", .a, snapshot) == .notInZone)
        // ext-in's target is no longer in the zone: the server chases it.
        let answer = Read.ask("ext-in.testns.svc.example.org", .a, snapshot)
        #expect(snapshot.upstreamTarget(of: answer, type: .a) == "svc1.testns.svc.cluster.local")
    }
}

@Suite("Scale")
struct ScaleTests {
    /// 10,000 Services (8,000 ClusterIP with 4 endpoints each, 2,000 headless with 9 named endpoints each, 10 per
    /// namespace) and 50,000 endpoints.
    static func inputs() -> (services: [Service], slices: [EndpointSlice]) {
        var services: [Service] = []
        var slices: [EndpointSlice] = []
        services.reserveCapacity(10_000)
        slices.reserveCapacity(10_000)
        var next: UInt32 = 0x0af4_0000  // 10.244.0.0
        for i in 0..<10_000 {
            let namespace = "namespace-\(i / 10)"
            let name = "service-\(i)"
            let headless = i % 5 == 0
            let ip = IPv4Address(0x0a60_0000 + UInt32(i) + 1).description
            var service = Fixture.service(
                name, namespace, ips: headless ? ["None"] : [ip],
                ports: [Fixture.http, ServicePort(name: "metrics", protocol: .tcp, port: 9090)])
            service.metadata.labels = ["app": name]
            services.append(service)
            var endpoints: [Endpoint] = []
            for j in 0..<(headless ? 9 : 4) {
                next += 1
                endpoints.append(Endpoint(
                    addresses: [IPv4Address(next).description], conditions: EndpointConditions(ready: true),
                    hostname: headless ? "\(name)-\(j)" : nil,
                    targetRef: ObjectReference(kind: "Pod", namespace: namespace, name: "\(name)-\(j)"),
                    nodeName: "node-\(j % 3)"))
            }
            slices.append(Fixture.slice(
                name, "\(name)-abcde", endpoints,
                ports: [EndpointPort(name: "http", port: 8080, protocol: .tcp), EndpointPort(name: "metrics", port: 9090, protocol: .tcp)],
                namespace: namespace))
        }
        return (services, slices)
    }

    /// Resident memory in bytes, from /proc/self/statm (0 where there is none).
    static func residentBytes() -> Int {
        #if canImport(Glibc)
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        0
        #endif
    }

    @Test("10,000 Services and 50,000 endpoints build once; lookups work")
    func build() {
        let (services, slices) = Self.inputs()
        let before = Self.residentBytes()
        let clock = ContinuousClock()
        var snapshot: ClusterZoneSnapshot?
        let elapsed = clock.measure {
            snapshot = ClusterZoneSnapshot.build(services: services, endpointSlices: slices)
        }
        let resident = Self.residentBytes() - before
        guard let snapshot else { return }
        #expect(snapshot.serviceCount == 10_000)
        #expect(snapshot.endpointCount == 50_000)
        #expect(snapshot.reverseCount == 58_000)
        #expect(snapshot.storageBytes < 8 << 20)
        #expect(Read.addresses(Read.ask("service-1.namespace-0.svc.cluster.local", .a, snapshot)) == ["10.96.0.2"])
        #expect(Read.answers(Read.ask("service-9995.namespace-999.svc.cluster.local", .a, snapshot)).count == 9)
        #expect(Read.srv(Read.ask("_metrics._tcp.service-5.namespace-0.svc.cluster.local", .srv, snapshot)).count == 9)
        #expect(Read.ask("service-1.namespace-1.svc.cluster.local", .a, snapshot) == .nxdomain)

        let names = (0..<2_000).map { "service-\($0 * 5 + 1).namespace-\($0 / 2).svc.cluster.local" }
        var found = 0
        let lookups = clock.measure {
            for _ in 0..<5 {
                for name in names where Read.isRecords(snapshot.answer(name: name, type: .a)) { found += 1 }
            }
        }
        #expect(found == 10_000)
        let perLookup = lookups / 10_000
        print(
            "DNSZone scale: build of 10,000 Services + 50,000 endpoints \(elapsed); tables \(snapshot.storageBytes / 1024) KiB, resident memory grew \(resident / 1024) KiB; "
                + "\(snapshot.nameCount) names, \(snapshot.reverseCount) PTR addresses; A lookup \(perLookup) each")
    }
}
