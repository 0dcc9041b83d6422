import IPAM
import KubeAPI
import Testing
@testable import DNSZone

/// The reference's test fixture (cluster-dns.md §1.1), plus what the COMPAT rows need: `svc1` and `svc2` share an
/// endpoint (row C11), and `svc1` has named endpoints (row B15).
enum Fixture {
    static let zone = "cluster.local"

    static func service(
        _ name: String, _ namespace: String = "testns", ips: [String] = [], ports: [ServicePort] = [http],
        type: ServiceType? = nil, externalName: String? = nil, publishNotReady: Bool? = nil
    ) -> Service {
        var spec = ServiceSpec(type: type, ports: ports, clusterIP: ips.first, clusterIPs: ips.isEmpty ? nil : ips)
        spec.externalName = externalName
        spec.publishNotReadyAddresses = publishNotReady
        return Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
    }

    static func headless(_ name: String, ports: [ServicePort] = [http], publishNotReady: Bool? = nil) -> Service {
        service(name, ips: ["None"], ports: ports, publishNotReady: publishNotReady)
    }

    static let http = ServicePort(name: "http", protocol: .tcp, port: 80)

    static func endpoint(_ ip: String, hostname: String? = nil, ready: Bool? = true, pod: String? = nil) -> Endpoint {
        Endpoint(
            addresses: [ip], conditions: EndpointConditions(ready: ready), hostname: hostname,
            targetRef: pod.map { ObjectReference(kind: "Pod", namespace: "testns", name: $0) })
    }

    static func slice(
        _ service: String, _ name: String, _ type: AddressType, _ endpoints: [Endpoint],
        ports: [EndpointPort]? = [EndpointPort(name: "http", port: 80, protocol: .tcp)], namespace: String = "testns",
        labelled: Bool = true
    ) -> EndpointSlice {
        EndpointSlice(
            metadata: ObjectMeta(
                name: name, namespace: namespace, labels: labelled ? [EndpointSlice.serviceNameLabel: service] : nil),
            addressType: type, endpoints: endpoints, ports: ports)
    }

    static func slice(
        _ service: String, _ name: String, _ endpoints: [Endpoint],
        ports: [EndpointPort]? = [EndpointPort(name: "http", port: 80, protocol: .tcp)], namespace: String = "testns",
        labelled: Bool = true
    ) -> EndpointSlice {
        slice(service, name, .ipv4, endpoints, ports: ports, namespace: namespace, labelled: labelled)
    }

    static let services: [Service] = [
        service("svc1", ips: ["10.96.0.11"], ports: [
            http, ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(protocol: .tcp, port: 8080),
        ]),
        service("svc2", ips: ["10.96.0.14"]),
        service("svc6", ips: ["fd00:10:96::11"]),
        service("dual", ips: ["10.96.0.12", "fd00:10:96::12"]),
        service("nobackends", ips: ["10.96.0.13"]),
        headless("hdls"),
        headless("hdls-empty"),
        headless("hdls-pnra", publishNotReady: true),
        headless("hdls-noports", ports: []),
        service("ext", type: .externalName, externalName: "www.example.com"),
        service("ext-in", type: .externalName, externalName: "svc1.testns.svc.cluster.local."),
        service("ext-ip", type: .externalName, externalName: "192.0.2.1"),
        service("kube-dns", "kube-system", ips: ["10.96.0.10"], ports: [
            ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", protocol: .tcp, port: 53),
        ]),
    ]

    static let slices: [EndpointSlice] = [
        slice("svc1", "svc1-a", [endpoint("10.244.7.7"), endpoint("10.244.7.8", hostname: "named")]),
        slice("svc2", "svc2-a", [endpoint("10.244.7.7")]),
        slice("hdls", "hdls-v4", [
            endpoint("10.244.1.10", hostname: "web-0"),
            endpoint("10.244.1.11", hostname: "web-1"),
            endpoint("10.244.2.12"),
            endpoint("10.244.2.13", ready: false),
            endpoint("10.244.1.30", hostname: "dup"),
            endpoint("10.244.1.31", hostname: "dup"),
        ]),
        slice("hdls", "hdls-v6", .ipv6, [endpoint("fd00:244::20")]),
        slice("hdls-empty", "hdls-empty-a", [endpoint("10.244.5.5", ready: false)]),
        // The controller would mark it ready for publishNotReadyAddresses; a slice that does not must still count.
        slice("hdls-pnra", "hdls-pnra-a", [endpoint("10.244.3.5", ready: false)]),
        slice("hdls-noports", "hdls-noports-a", [endpoint("10.244.4.4")], ports: nil),
    ]

    static let namespaces = ["testns", "emptyns", "kube-system"]

    static func snapshot(_ options: ZoneOptions = ZoneOptions(), pods: [Pod] = []) -> ClusterZoneSnapshot {
        ClusterZoneSnapshot.build(
            services: services, endpointSlices: slices, pods: pods, namespaces: namespaces, options: options)
    }

    static let standard = snapshot()
}

/// Reading answers in tests.
enum Read {
    static func ask(_ name: String, _ type: ZoneQueryType, _ snapshot: ClusterZoneSnapshot = Fixture.standard) -> ZoneAnswer {
        snapshot.answer(name: name, type: type)
    }

    static func answers(_ answer: ZoneAnswer) -> [ZoneRecord] {
        if case .records(let answers, _) = answer { return answers }
        return []
    }

    static func additionals(_ answer: ZoneAnswer) -> [ZoneRecord] {
        if case .records(_, let additionals) = answer { return additionals }
        return []
    }

    /// The A and AAAA addresses of records, sorted as text.
    static func addresses(_ records: [ZoneRecord]) -> [String] {
        records.compactMap { record -> String? in
            switch record.data {
            case .a(let a): a.description
            case .aaaa(let a): a.description
            default: nil
            }
        }.sorted()
    }

    static func addresses(_ answer: ZoneAnswer) -> [String] { addresses(answers(answer)) }

    /// `port target` of each SRV answer, sorted.
    static func srv(_ answer: ZoneAnswer) -> [String] {
        answers(answer).compactMap { record -> String? in
            if case .srv(_, _, let port, let target) = record.data { return "\(port) \(target)" }
            return nil
        }.sorted()
    }

    static func ptr(_ answer: ZoneAnswer) -> [String] {
        answers(answer).compactMap { record -> String? in
            if case .ptr(let target) = record.data { return target }
            return nil
        }.sorted()
    }

    static func isRecords(_ answer: ZoneAnswer) -> Bool {
        if case .records = answer { return true }
        return false
    }

    /// The nibble form of an IPv6 address under ip6.arpa.
    static func ip6arpa(_ text: String) -> String {
        let value = IPv6Address(text)!.value
        var labels: [String] = []
        for i in 0..<32 { labels.append(String(UInt8(truncatingIfNeeded: value >> UInt128(4 * i)) & 0xf, radix: 16)) }
        return labels.joined(separator: ".") + ".ip6.arpa"
    }
}
