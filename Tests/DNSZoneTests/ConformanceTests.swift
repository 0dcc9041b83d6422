import IPAM
import KubeAPI
import Testing
@testable import DNSZone

// One test per row of the reference's conformance checklist (cluster-dns.md §1), named after the row. Rows about
// the wire, the transport or the server (AA flag, TCP, truncation, SERVFAIL before sync, upstream chasing,
// zone transfers) belong to the server and are not here.

@Suite("1.0 General rules")
struct GeneralRuleTests {
    @Test("1.0 matching is case-insensitive")
    func caseInsensitive() {
        let lower = Read.ask("svc1.testns.svc.cluster.local", .a)
        let mixed = Read.ask("SvC1.TeStNs.SvC.cLuStEr.LoCaL", .a)
        #expect(Read.addresses(lower) == ["10.96.0.11"])
        #expect(Read.addresses(mixed) == ["10.96.0.11"])
        #expect(Read.addresses(Read.ask("Web-0.HDLS.TestNS.SVC.Cluster.Local", .a)) == ["10.244.1.10"])
        #expect(Read.srv(Read.ask("_HTTP._TCP.Svc1.TestNs.Svc.Cluster.Local.", .srv)) == ["80 svc1.testns.svc.cluster.local"])
    }

    @Test("1.0 owner names echo the query's spelling, without the trailing dot")
    func ownerEchoesSpelling() {
        let answer = Read.ask("SvC1.TeStNs.SvC.cLuStEr.LoCaL.", .a)
        #expect(Read.answers(answer).map(\.name) == ["SvC1.TeStNs.SvC.cLuStEr.LoCaL"])
        let bytes = Fixture.standard.answer(nameBytes: Array("SVC1.testns.svc.cluster.local.".utf8), type: .a)
        #expect(Read.answers(bytes).map(\.name) == ["SVC1.testns.svc.cluster.local"])
        let lower = Fixture.standard.answer(nameBytes: Array("svc1.testns.svc.cluster.local".utf8), type: .a)
        #expect(Read.answers(lower).map(\.name) == ["svc1.testns.svc.cluster.local"])
        let labels = Fixture.standard.answer(labels: ["Svc1", "testns", "svc", "cluster", "local"].map { Array($0.utf8) }, type: .a)
        #expect(Read.answers(labels).map(\.name) == ["Svc1.testns.svc.cluster.local"])
        #expect(Read.addresses(labels) == ["10.96.0.11"])
    }

    @Test("1.0 NODATA and NXDOMAIN: the zone SOA with CoreDNS's values")
    func soaValues() {
        let soa = Fixture.standard.soa
        #expect(soa.name == "cluster.local")
        #expect(soa.ttl == 30)
        #expect(soa.data == .soa(ZoneSOA(
            mname: "ns.dns.cluster.local", rname: "hostmaster.cluster.local", serial: 1, refresh: 7200, retry: 1800,
            expire: 86400, minimum: 30)))
        #expect(Read.ask("svc1.testns.svc.cluster.local", .txt) == .noData)
        #expect(Read.ask("svc0.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("1.0 negative-cache bound: SOA TTL min(ttl, 300), MINIMUM the TTL")
    func negativeCacheBound() {
        let long = Fixture.snapshot(ZoneOptions(ttl: 600, serial: 42))
        guard case .soa(let data) = long.soa.data else { Issue.record("not an SOA"); return }
        #expect(long.soa.ttl == 300)
        #expect(data.minimum == 600)
        #expect(data.serial == 42)
        let clamped = Fixture.snapshot(ZoneOptions(ttl: 90_000))
        guard case .soa(let clampedData) = clamped.soa.data else { Issue.record("not an SOA"); return }
        #expect(clampedData.minimum == 3600)
    }

    @Test("1.0 TTL of positive records is the configured TTL (≤ 3600); dns-version 28800")
    func positiveTTL() {
        let answers = [
            Read.ask("svc1.testns.svc.cluster.local", .a), Read.ask("hdls.testns.svc.cluster.local", .a),
            Read.ask("_http._tcp.hdls.testns.svc.cluster.local", .srv), Read.ask("11.0.96.10.in-addr.arpa", .ptr),
            Read.ask("ext.testns.svc.cluster.local", .cname),
        ]
        for answer in answers {
            #expect(!Read.answers(answer).isEmpty)
            #expect((Read.answers(answer) + Read.additionals(answer)).allSatisfy { $0.ttl == 30 })
        }
        let short = Fixture.snapshot(ZoneOptions(ttl: 5))
        #expect(Read.answers(Read.ask("svc1.testns.svc.cluster.local", .a, short)).map(\.ttl) == [5])
        #expect(Read.answers(Read.ask("dns-version.cluster.local", .txt)).map(\.ttl) == [28800])
    }

    @Test("1.0 query types map to and from their codes")
    func queryTypes() {
        let codes: [UInt16] = [1, 2, 5, 6, 12, 16, 28, 33, 255, 13, 15, 252]
        #expect(codes.map { ZoneQueryType(code: $0).code } == codes)
        #expect(ZoneQueryType(code: 28) == .aaaa)
        #expect(ZoneQueryType(code: 13) == .other(13))
        #expect(ZoneRecordData.srv(priority: 0, weight: 0, port: 1, target: "x").typeCode == 33)
        #expect(Fixture.standard.soa.typeCode == 6)
    }
}

@Suite("1.2 Schema-version record")
struct SchemaVersionTests {
    @Test("V1 dns-version TXT is exactly \"1.1.0\"")
    func v1() {
        let answer = Read.ask("dns-version.cluster.local.", .txt)
        #expect(Read.answers(answer).map(\.data) == [.txt(["1.1.0"])])
    }

    @Test("V2 dns-version A is NODATA (the name exists)")
    func v2() {
        #expect(Read.ask("dns-version.cluster.local", .a) == .noData)
        #expect(Read.ask("x.dns-version.cluster.local", .txt) == .nxdomain)
    }
}

@Suite("1.3 Services with a ClusterIP")
struct ClusterIPServiceTests {
    @Test("B1 <svc>.<ns>.svc A is the ClusterIP, owner the query name")
    func b1() {
        let records = Read.answers(Read.ask("svc1.testns.svc.cluster.local", .a))
        #expect(records == [ZoneRecord(name: "svc1.testns.svc.cluster.local", ttl: 30, data: .a(IPv4Address(10, 96, 0, 11)))])
    }

    @Test("B2 AAAA of an IPv4-only Service is NODATA")
    func b2() {
        #expect(Read.ask("svc1.testns.svc.cluster.local", .aaaa) == .noData)
    }

    @Test("B3 IPv6 single-stack: AAAA answers, A is NODATA")
    func b3() {
        #expect(Read.addresses(Read.ask("svc6.testns.svc.cluster.local", .aaaa)) == ["fd00:10:96::11"])
        #expect(Read.ask("svc6.testns.svc.cluster.local", .a) == .noData)
    }

    @Test("B4 dual-stack: one record per family from spec.clusterIPs")
    func b4() {
        #expect(Read.addresses(Read.ask("dual.testns.svc.cluster.local", .a)) == ["10.96.0.12"])
        #expect(Read.addresses(Read.ask("dual.testns.svc.cluster.local", .aaaa)) == ["fd00:10:96::12"])
        #expect(Read.addresses(Read.ask("dual.testns.svc.cluster.local", .any)) == ["10.96.0.12", "fd00:10:96::12"])
    }

    @Test("B5 _http._tcp SRV: port 80, target the Service, its A in additionals")
    func b5() {
        let answer = Read.ask("_http._tcp.svc1.testns.svc.cluster.local", .srv)
        #expect(Read.answers(answer).map(\.data) == [
            .srv(priority: 0, weight: 100, port: 80, target: "svc1.testns.svc.cluster.local"),
        ])
        #expect(Read.answers(answer).map(\.name) == ["_http._tcp.svc1.testns.svc.cluster.local"])
        #expect(Read.additionals(answer) == [
            ZoneRecord(name: "svc1.testns.svc.cluster.local", ttl: 30, data: .a(IPv4Address(10, 96, 0, 11))),
        ])
        // Services sharing a port list still answer with their own name and address.
        let other = Read.ask("_http._tcp.svc2.testns.svc.cluster.local", .srv)
        #expect(Read.srv(other) == ["80 svc2.testns.svc.cluster.local"])
        #expect(Read.addresses(Read.additionals(other)) == ["10.96.0.14"])
    }

    @Test("B6 _dns._udp SRV: port 53")
    func b6() {
        #expect(Read.srv(Read.ask("_dns._udp.svc1.testns.svc.cluster.local", .srv)) == ["53 svc1.testns.svc.cluster.local"])
    }

    @Test("B7 wrong protocol or unknown port name: NXDOMAIN")
    func b7() {
        #expect(Read.ask("_http._udp.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_nope._tcp.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_http._quic.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
    }

    @Test("B8 unnamed ports have no SRV name")
    func b8() {
        #expect(Read.ask("_8080._tcp.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_._tcp.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
    }

    @Test("B9 upper-case port and protocol labels answer like B5")
    func b9() {
        #expect(Read.srv(Read.ask("_HTTP._TCP.svc1.testns.svc.cluster.local", .srv)) == ["80 svc1.testns.svc.cluster.local"])
    }

    @Test("B10 a ClusterIP record exists without endpoints")
    func b10() {
        #expect(Read.addresses(Read.ask("nobackends.testns.svc.cluster.local", .a)) == ["10.96.0.13"])
    }

    @Test("B11 PTR of a ClusterIP")
    func b11() {
        let answer = Read.ask("11.0.96.10.in-addr.arpa.", .ptr)
        #expect(Read.answers(answer) == [ZoneRecord(name: "11.0.96.10.in-addr.arpa", ttl: 30, data: .ptr("svc1.testns.svc.cluster.local"))])
    }

    @Test("B12 PTR of an IPv6 ClusterIP, full 32-nibble form")
    func b12() {
        let name = "1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa."
        #expect(Read.ip6arpa("fd00:10:96::11") + "." == name)
        #expect(Read.ptr(Read.ask(name, .ptr)) == ["svc6.testns.svc.cluster.local"])
        #expect(Read.ptr(Read.ask(name.uppercased(), .ptr)) == ["svc6.testns.svc.cluster.local"])
        // A partial nibble name is no address of ours.
        #expect(Read.ask("0.1.0.0.0.0.d.f.ip6.arpa", .ptr) == .notInZone)
    }

    @Test("B13 (COMPAT) SRV at the Service name: one per port, target the Service")
    func b13() {
        #expect(Read.srv(Read.ask("svc1.testns.svc.cluster.local", .srv)) == [
            "53 svc1.testns.svc.cluster.local", "80 svc1.testns.svc.cluster.local", "8080 svc1.testns.svc.cluster.local",
        ])
        let weights = Read.answers(Read.ask("svc1.testns.svc.cluster.local", .srv)).compactMap { record -> UInt16? in
            if case .srv(let priority, let weight, _, _) = record.data, priority == 0 { return weight }
            return nil
        }
        #expect(weights == [33, 33, 33])
        // kube-dns has 53/UDP and 53/TCP: one (target, port) pair, one record.
        #expect(Read.srv(Read.ask("kube-dns.kube-system.svc.cluster.local", .srv)) == ["53 kube-dns.kube-system.svc.cluster.local"])
    }

    @Test("B14 (IMPL) A at an SRV name is NODATA")
    func b14() {
        #expect(Read.ask("_http._tcp.svc1.testns.svc.cluster.local", .a) == .noData)
    }

    @Test("B15 (COMPAT) endpoint names of a ClusterIP Service")
    func b15() {
        #expect(Read.addresses(Read.ask("named.svc1.testns.svc.cluster.local", .a)) == ["10.244.7.8"])
        #expect(Read.addresses(Read.ask("10-244-7-7.svc1.testns.svc.cluster.local", .a)) == ["10.244.7.7"])
        #expect(Read.ask("named.svc1.testns.svc.cluster.local", .aaaa) == .noData)
        // SRV still points at the Service.
        #expect(Read.srv(Read.ask("_http._tcp.svc1.testns.svc.cluster.local", .srv)) == ["80 svc1.testns.svc.cluster.local"])
    }

    @Test("B16 TXT, MX, HINFO at a Service are NODATA")
    func b16() {
        #expect(Read.ask("svc1.testns.svc.cluster.local", .txt) == .noData)
        #expect(Read.ask("svc1.testns.svc.cluster.local", ZoneQueryType(code: 15)) == .noData)
        #expect(Read.ask("svc1.testns.svc.cluster.local", ZoneQueryType(code: 13)) == .noData)
        #expect(Read.ask("svc1.testns.svc.cluster.local", .cname) == .noData)
        #expect(Read.ask("svc1.testns.svc.cluster.local", .ptr) == .noData)
    }
}

@Suite("1.4 Headless services")
struct HeadlessServiceTests {
    @Test("C1 headless A: the set of ready IPv4 endpoints, no duplicates")
    func c1() {
        let addresses = Read.addresses(Read.ask("hdls.testns.svc.cluster.local", .a))
        #expect(addresses == ["10.244.1.10", "10.244.1.11", "10.244.1.30", "10.244.1.31", "10.244.2.12"])
        #expect(Read.answers(Read.ask("hdls.testns.svc.cluster.local", .a)).allSatisfy { $0.name == "hdls.testns.svc.cluster.local" })
    }

    @Test("C2 headless AAAA: the IPv6 endpoints; IPv4-only headless is NODATA")
    func c2() {
        #expect(Read.addresses(Read.ask("hdls.testns.svc.cluster.local", .aaaa)) == ["fd00:244::20"])
        #expect(Read.ask("hdls-noports.testns.svc.cluster.local", .aaaa) == .noData)
    }

    @Test("C3 <hostname>.<svc> A")
    func c3() {
        #expect(Read.addresses(Read.ask("web-0.hdls.testns.svc.cluster.local", .a)) == ["10.244.1.10"])
        #expect(Read.addresses(Read.ask("web-1.hdls.testns.svc.cluster.local", .a)) == ["10.244.1.11"])
        #expect(Read.ask("web-0.hdls.testns.svc.cluster.local", .txt) == .noData)
    }

    @Test("C4 a hostname shared by two addresses answers both")
    func c4() {
        #expect(Read.addresses(Read.ask("dup.hdls.testns.svc.cluster.local", .a)) == ["10.244.1.30", "10.244.1.31"])
    }

    @Test("C5 endpoints without hostname: every SRV target resolves to exactly its endpoint; dashed-IP names")
    func c5() {
        let answer = Read.ask("_http._tcp.hdls.testns.svc.cluster.local", .srv)
        for record in Read.answers(answer) {
            guard case .srv(_, _, _, let target) = record.data else { continue }
            let expected = Read.addresses(Read.additionals(answer).filter { $0.name == target })
            let resolved = Read.addresses(Read.ask(target, .any))
            #expect(!resolved.isEmpty)
            #expect(resolved == expected)
        }
        #expect(Read.addresses(Read.ask("10-244-2-12.hdls.testns.svc.cluster.local", .a)) == ["10.244.2.12"])
        #expect(Read.addresses(Read.ask("fd00-244--20.hdls.testns.svc.cluster.local", .aaaa)) == ["fd00:244::20"])
    }

    @Test("C6 _http._tcp headless SRV: one per (endpoint name, port), addresses in additionals")
    func c6() {
        let answer = Read.ask("_http._tcp.hdls.testns.svc.cluster.local", .srv)
        #expect(Read.srv(answer) == [
            "80 10-244-2-12.hdls.testns.svc.cluster.local", "80 dup.hdls.testns.svc.cluster.local",
            "80 fd00-244--20.hdls.testns.svc.cluster.local", "80 web-0.hdls.testns.svc.cluster.local",
            "80 web-1.hdls.testns.svc.cluster.local",
        ])
        #expect(Read.answers(answer).allSatisfy {
            if case .srv(0, 20, _, _) = $0.data { return true }
            return false
        })
        #expect(Read.addresses(Read.additionals(answer)) == [
            "10.244.1.10", "10.244.1.11", "10.244.1.30", "10.244.1.31", "10.244.2.12", "fd00:244::20",
        ])
        #expect(Read.additionals(answer).filter { $0.name == "dup.hdls.testns.svc.cluster.local" }.count == 2)
        // COMPAT (B13 for headless): SRV at the Service name lists the same targets.
        #expect(Read.srv(Read.ask("hdls.testns.svc.cluster.local", .srv)) == Read.srv(answer))
    }

    @Test("C7 headless with no ready endpoint: NXDOMAIN")
    func c7() {
        #expect(Read.ask("hdls-empty.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("hdls-empty.testns.svc.cluster.local", .aaaa) == .nxdomain)
        #expect(Read.ask("hdls-empty.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_http._tcp.hdls-empty.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("10-244-5-5.hdls-empty.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("C8 unknown endpoint name: NXDOMAIN")
    func c8() {
        #expect(Read.ask("bogus.hdls.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("web-2.hdls.testns.svc.cluster.local", .aaaa) == .nxdomain)
        // An endpoint name belongs to its own Service only.
        #expect(Read.ask("web-0.svc1.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("named.hdls.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("web-0.hdls.nons.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("C9 PTR of a headless endpoint with hostname")
    func c9() {
        #expect(Read.ptr(Read.ask("10.1.244.10.in-addr.arpa", .ptr)) == ["web-0.hdls.testns.svc.cluster.local"])
        #expect(Read.ptr(Read.ask("30.1.244.10.in-addr.arpa", .ptr)) == ["dup.hdls.testns.svc.cluster.local"])
    }

    @Test("C10 PTR of an IPv6 endpoint: its system name, which resolves back")
    func c10() {
        let targets = Read.ptr(Read.ask(Read.ip6arpa("fd00:244::20"), .ptr))
        #expect(targets == ["fd00-244--20.hdls.testns.svc.cluster.local"])
        #expect(Read.addresses(Read.ask(targets.first ?? "", .aaaa)) == ["fd00:244::20"])
    }

    @Test("C11 (COMPAT) PTR of an address behind two Services: one record per Service")
    func c11() {
        #expect(Read.ptr(Read.ask("7.7.244.10.in-addr.arpa", .ptr)) == [
            "10-244-7-7.svc1.testns.svc.cluster.local", "10-244-7-7.svc2.testns.svc.cluster.local",
        ])
    }

    @Test("C12 a not-ready endpoint has no PTR (forwarded)")
    func c12() {
        #expect(Read.ask("13.2.244.10.in-addr.arpa", .ptr) == .notInZone)
        #expect(Read.ask("10-244-2-13.hdls.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("C13 publishNotReadyAddresses publishes a not-ready endpoint")
    func c13() {
        #expect(Read.addresses(Read.ask("hdls-pnra.testns.svc.cluster.local", .a)) == ["10.244.3.5"])
        #expect(Read.ptr(Read.ask("5.3.244.10.in-addr.arpa", .ptr)) == ["10-244-3-5.hdls-pnra.testns.svc.cluster.local"])
    }

    @Test("C14 a pod's hostname comes from the EndpointSlice; without one it is only in the Service's set")
    func c14() {
        #expect(Read.addresses(Read.ask("web-0.hdls.testns.svc.cluster.local", .a)) == ["10.244.1.10"])
        #expect(Read.addresses(Read.ask("hdls.testns.svc.cluster.local", .a)).contains("10.244.2.12"))
        #expect(Read.ask("web-0.hdls.testns.svc.cluster.local", .a) != Read.ask("10-244-1-10.hdls.testns.svc.cluster.local", .a))
        #expect(Read.ask("10-244-1-10.hdls.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("C15 headless without ports: A answers, SRV names do not exist")
    func c15() {
        #expect(Read.addresses(Read.ask("hdls-noports.testns.svc.cluster.local", .a)) == ["10.244.4.4"])
        #expect(Read.ask("_http._tcp.hdls-noports.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("hdls-noports.testns.svc.cluster.local", .srv) == .noData)
    }

    @Test("RFC 8020: _<proto>.<svc> is an empty non-terminal when an SRV name lies below it")
    func protocolNodes() {
        #expect(Read.ask("_tcp.svc1.testns.svc.cluster.local", .a) == .noData)
        #expect(Read.ask("_udp.svc1.testns.svc.cluster.local", .srv) == .noData)
        #expect(Read.ask("_sctp.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_tcp.hdls.testns.svc.cluster.local", .srv) == .noData)
        #expect(Read.ask("_tcp.hdls-noports.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_tcp.ext.testns.svc.cluster.local", .srv) == .nxdomain)
    }
}

@Suite("1.5 ExternalName services")
struct ExternalNameTests {
    @Test("D1 CNAME to the external name, our TTL")
    func d1() {
        let answer = Read.ask("ext.testns.svc.cluster.local", .cname)
        #expect(Read.answers(answer) == [ZoneRecord(name: "ext.testns.svc.cluster.local", ttl: 30, data: .cname("www.example.com"))])
        #expect(Fixture.standard.upstreamTarget(of: answer, type: .cname) == nil)
    }

    @Test("D2 A: the CNAME, and the server chases the target upstream")
    func d2() {
        let answer = Read.ask("ext.testns.svc.cluster.local", .a)
        #expect(Read.answers(answer).map(\.data) == [.cname("www.example.com")])
        #expect(Fixture.standard.upstreamTarget(of: answer, type: .a) == "www.example.com")
    }

    @Test("D3 AAAA: the CNAME, target chased upstream")
    func d3() {
        let answer = Read.ask("ext.testns.svc.cluster.local", .aaaa)
        #expect(Read.answers(answer).map(\.data) == [.cname("www.example.com")])
        #expect(Fixture.standard.upstreamTarget(of: answer, type: .aaaa) == "www.example.com")
    }

    @Test("D4 in-zone target: CNAME first, then the target's A, chased here")
    func d4() {
        let answer = Read.ask("ext-in.testns.svc.cluster.local", .a)
        #expect(Read.answers(answer) == [
            ZoneRecord(name: "ext-in.testns.svc.cluster.local", ttl: 30, data: .cname("svc1.testns.svc.cluster.local")),
            ZoneRecord(name: "svc1.testns.svc.cluster.local", ttl: 30, data: .a(IPv4Address(10, 96, 0, 11))),
        ])
        #expect(Fixture.standard.upstreamTarget(of: answer, type: .a) == nil)
        // The target has no AAAA: the CNAME alone.
        #expect(Read.answers(Read.ask("ext-in.testns.svc.cluster.local", .aaaa)).map(\.data) == [.cname("svc1.testns.svc.cluster.local")])
    }

    @Test("D5 names below an ExternalName: NXDOMAIN")
    func d5() {
        #expect(Read.ask("x.ext.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("x.ext.testns.svc.cluster.local", .cname) == .nxdomain)
    }

    @Test("D7 (IMPL) SRV at an ExternalName is the CNAME (RFC 1034); _http._tcp below it NXDOMAIN")
    func d7() {
        #expect(Read.answers(Read.ask("ext.testns.svc.cluster.local", .srv)).map(\.data) == [.cname("www.example.com")])
        #expect(Read.ask("_http._tcp.ext.testns.svc.cluster.local", .srv) == .nxdomain)
    }

    @Test("D8 (IMPL) ExternalName holding an IP literal is not served")
    func d8() {
        #expect(Read.ask("ext-ip.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("ExternalName loops inside the zone end")
    func loop() {
        let services = [
            Fixture.service("ping", type: .externalName, externalName: "pong.testns.svc.cluster.local"),
            Fixture.service("pong", type: .externalName, externalName: "ping.testns.svc.cluster.local"),
        ]
        let snapshot = ClusterZoneSnapshot.build(services: services, endpointSlices: [])
        let answers = Read.answers(snapshot.answer(name: "ping.testns.svc.cluster.local", type: .a))
        #expect(answers.count == 9)
        #expect(answers.first?.data == .cname("pong.testns.svc.cluster.local"))
    }
}

@Suite("1.6 Negative answers, structural names, wildcards")
struct StructureTests {
    @Test("E1 no such Service: NXDOMAIN")
    func e1() {
        #expect(Read.ask("svc0.testns.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("E2 no such namespace: NXDOMAIN")
    func e2() {
        #expect(Read.ask("svc1.nons.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("E3 an existing namespace, with or without Services: NODATA")
    func e3() {
        #expect(Read.ask("testns.svc.cluster.local", .a) == .noData)
        #expect(Read.ask("emptyns.svc.cluster.local", .a) == .noData)
        #expect(Read.ask("kube-system.svc.cluster.local", .srv) == .noData)
        // Without Namespace objects, a namespace exists when something lives in it.
        let bare = ClusterZoneSnapshot.build(services: Fixture.services, endpointSlices: [])
        #expect(bare.answer(name: "testns.svc.cluster.local", type: .a) == .noData)
        #expect(bare.answer(name: "emptyns.svc.cluster.local", type: .a) == .nxdomain)
    }

    @Test("E4 namespace that does not exist: NXDOMAIN")
    func e4() {
        #expect(Read.ask("nons.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("E5 svc, pod and <ns>.pod are empty non-terminals: NODATA")
    func e5() {
        #expect(Read.ask("svc.cluster.local", .a) == .noData)
        #expect(Read.ask("pod.cluster.local", .a) == .noData)
        #expect(Read.ask("testns.pod.cluster.local", .a) == .noData)
    }

    @Test("E6 apex SOA")
    func e6() {
        let answer = Read.ask("cluster.local.", .soa)
        #expect(Read.answers(answer) == [Fixture.standard.soa])
        #expect(Read.answers(Read.ask("Cluster.Local", .soa)).map(\.name) == ["Cluster.Local"])
    }

    @Test("E7 (COMPAT) apex NS ns.dns.<zone> with the DNS Service's address as glue")
    func e7() {
        let answer = Read.ask("cluster.local", .ns)
        #expect(Read.answers(answer) == [ZoneRecord(name: "cluster.local", ttl: 30, data: .ns("ns.dns.cluster.local"))])
        #expect(Read.additionals(answer) == [ZoneRecord(name: "ns.dns.cluster.local", ttl: 30, data: .a(IPv4Address(10, 96, 0, 10)))])
        #expect(Read.addresses(Read.ask("ns.dns.cluster.local", .a)) == ["10.96.0.10"])
        #expect(Read.ask("ns.dns.cluster.local", .aaaa) == .noData)
        #expect(Read.ask("dns.cluster.local", .a) == .noData)
        #expect(Read.ask("x.dns.cluster.local", .a) == .nxdomain)
        let extra = Fixture.snapshot(ZoneOptions(nameserverAddresses: [.v6(IPv6Address("fd00::53")!)]))
        #expect(Read.addresses(Read.ask("ns.dns.cluster.local", .aaaa, extra)) == ["fd00::53"])
    }

    @Test("E8 apex A, AAAA, SRV, HINFO: NODATA")
    func e8() {
        for type in [ZoneQueryType.a, .aaaa, .srv, ZoneQueryType(code: 13)] {
            #expect(Read.ask("cluster.local", type) == .noData)
        }
        #expect(Read.answers(Read.ask("cluster.local", .any)).map(\.typeCode) == [6, 2])
    }

    @Test("E9 second label neither svc nor pod: NXDOMAIN")
    func e9() {
        #expect(Read.ask("foo.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("svc1.testns.foo.cluster.local", .a) == .nxdomain)
    }

    @Test("E10 too many labels: NXDOMAIN")
    func e10() {
        #expect(Read.ask("a.b.c.svc1.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("a.web-0.hdls.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("a.b.c.d.e.f.g.h.svc.cluster.local", .a) == .nxdomain)
    }

    @Test("E11 no wildcards: NXDOMAIN")
    func e11() {
        #expect(Read.ask("*.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("any.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("*.hdls.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("_http.*.svc1.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("_http._tcp.*.testns.svc.cluster.local", .srv) == .nxdomain)
        #expect(Read.ask("svc1.*.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("*.svc.cluster.local", .a) == .nxdomain)
        // Malformed names under the zone: nothing.
        #expect(Read.ask("svc1..testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask(".svc.cluster.local", .a) == .nxdomain)
        let dotted = Fixture.standard.answer(labels: ["svc1.testns", "svc", "cluster", "local"].map { Array($0.utf8) }, type: .a)
        #expect(dotted == .nxdomain)
    }

    @Test("E13 (IMPL) unknown address in a reverse zone: forwarded")
    func e13() {
        #expect(Read.ask("99.99.96.10.in-addr.arpa", .ptr) == .notInZone)
        #expect(Read.ask("0.96.10.in-addr.arpa", .ptr) == .notInZone)
        #expect(Read.ask("in-addr.arpa", .soa) == .notInZone)
        #expect(Read.ask("011.0.96.10.in-addr.arpa", .ptr) == .notInZone)
        // A PTR name of ours asked for another type: forwarded too, as CoreDNS's fallthrough does.
        #expect(Read.ask("11.0.96.10.in-addr.arpa", .a) == .notInZone)
        #expect(Read.ptr(Read.ask("11.0.96.10.in-addr.arpa", .any)) == ["svc1.testns.svc.cluster.local"])
    }

    @Test("E14 (IMPL) zonal names are off: NXDOMAIN")
    func e14() {
        #expect(Read.ask("zone-a.pin._zone.hdls.testns.svc.cluster.local", .a) == .nxdomain)
    }
}

@Suite("1.7 Pod records")
struct PodRecordTests {
    static func pod(_ name: String, _ namespace: String, ip: String, deleting: Bool = false) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace), status: PodStatus(phase: .running, podIP: ip, podIPs: [PodIP(ip: ip)]))
        if deleting { pod.metadata.deletionTimestamp = Time(seconds: 1) }
        return pod
    }

    static let pods = [
        pod("web-0", "testns", ip: "10.244.1.10"),
        pod("six", "testns", ip: "fd00:244::20"),
        pod("gone", "testns", ip: "10.244.8.8", deleting: true),
        pod("other", "podonly", ip: "10.244.6.6"),
    ]

    @Test("P1 disabled: pod names are NXDOMAIN")
    func p1() {
        #expect(Read.ask("10-244-1-10.testns.pod.cluster.local", .a) == .nxdomain)
    }

    @Test("P2 insecure: any IPv4-shaped label, in an existing namespace")
    func p2() {
        let snapshot = Fixture.snapshot(ZoneOptions(podsMode: .insecure))
        #expect(Read.answers(Read.ask("1-2-3-4.testns.pod.cluster.local", .a, snapshot)) == [
            ZoneRecord(name: "1-2-3-4.testns.pod.cluster.local", ttl: 30, data: .a(IPv4Address(1, 2, 3, 4))),
        ])
        #expect(Read.ask("1-2-3-4.nons.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("blah.testns.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("blah.testns.pod.cluster.local", .txt, snapshot) == .nxdomain)
        #expect(Read.ask("1-2-3-400.testns.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("1-2-3-4.testns.pod.cluster.local", .aaaa, snapshot) == .noData)
        #expect(Read.ask("x.1-2-3-4.testns.pod.cluster.local", .a, snapshot) == .nxdomain)
    }

    @Test("P3 insecure IPv6: dashes for colons")
    func p3() {
        let snapshot = Fixture.snapshot(ZoneOptions(podsMode: .insecure))
        #expect(Read.addresses(Read.ask("fd00-244--20.testns.pod.cluster.local", .aaaa, snapshot)) == ["fd00:244::20"])
        #expect(Read.ask("fd00-244--20.testns.pod.cluster.local", .a, snapshot) == .noData)
    }

    @Test("P4 verified: only addresses of pods in that namespace")
    func p4() {
        let snapshot = Fixture.snapshot(ZoneOptions(podsMode: .verified), pods: Self.pods)
        #expect(Read.addresses(Read.ask("10-244-1-10.testns.pod.cluster.local", .a, snapshot)) == ["10.244.1.10"])
        #expect(Read.addresses(Read.ask("fd00-244--20.testns.pod.cluster.local", .aaaa, snapshot)) == ["fd00:244::20"])
        #expect(Read.ask("10-244-9-9.testns.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("10-244-1-10.kube-system.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.ask("10-244-8-8.testns.pod.cluster.local", .a, snapshot) == .nxdomain)
        #expect(Read.addresses(Read.ask("10-244-6-6.podonly.pod.cluster.local", .a, snapshot)) == ["10.244.6.6"])
    }

    @Test("P5 <ns>.pod: NODATA when the namespace exists, else NXDOMAIN")
    func p5() {
        for mode in [PodsMode.disabled, .insecure, .verified] {
            let snapshot = Fixture.snapshot(ZoneOptions(podsMode: mode), pods: Self.pods)
            #expect(Read.ask("testns.pod.cluster.local", .a, snapshot) == .noData)
            #expect(Read.ask("podonly.pod.cluster.local", .a, snapshot) == .noData)
            #expect(Read.ask("nons.pod.cluster.local", .a, snapshot) == .nxdomain)
        }
    }
}

@Suite("1.8 Names outside the cluster zone")
struct OutsideZoneTests {
    @Test("G1 names outside the zone are forwarded")
    func g1() {
        #expect(Read.ask("www.example.com.", .a) == .notInZone)
        #expect(Read.ask("example.local", .a) == .notInZone)
        #expect(Read.ask("xcluster.local", .a) == .notInZone)
        #expect(Read.ask("local", .soa) == .notInZone)
        #expect(Read.ask(".", .ns) == .notInZone)
        #expect(Read.ask("", .ns) == .notInZone)
    }

    @Test("G2 search-path expansions: NXDOMAIN from the zone")
    func g2() {
        #expect(Read.ask("www.example.com.testns.svc.cluster.local", .a) == .nxdomain)
        #expect(Read.ask("www.example.com.svc.cluster.local", .aaaa) == .nxdomain)
        #expect(Read.ask("www.example.com.cluster.local", .a) == .nxdomain)
    }
}
