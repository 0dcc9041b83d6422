import DNSWire
import DNSZone
import KubeAPI
import Testing
@testable import ClusterDNS

/// The responder in memory: a query's bytes and a snapshot in, a reply's bytes out.
struct ClusterResponderTests {
    static let snapshot: ClusterZoneSnapshot = {
        var web = Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80)]))
        web.spec.clusterIP = "10.96.0.20"
        web.spec.clusterIPs = ["10.96.0.20"]
        var big = Service(metadata: ObjectMeta(name: "big", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80)]))
        big.spec.clusterIP = "None"
        big.spec.clusterIPs = ["None"]
        let endpoints = (1...100).map { Endpoint(addresses: ["10.244.1.\($0)"], conditions: EndpointConditions(ready: true, serving: true, terminating: false)) }
        let slice = EndpointSlice(
            metadata: ObjectMeta(name: "big-1", namespace: "default", labels: ["kubernetes.io/service-name": "big"]),
            addressType: .ipv4, endpoints: endpoints, ports: [EndpointPort(name: "http", port: 80, protocol: .tcp)])
        return ClusterZoneSnapshot.build(services: [web, big], endpointSlices: [slice], namespaces: ["default"])
    }()

    static func ask(_ bytes: [UInt8], snapshot: ClusterZoneSnapshot? = snapshot, tcp: Bool = false, forwarding: Bool = false) -> (ResponderDecision, DNSMessage?) {
        var writer = DNSMessageWriter()
        let (decision, _) = bytes.withUnsafeBytes { ClusterResponder(forwardingEnabled: forwarding).respond(to: $0, snapshot: snapshot, tcp: tcp, writer: &writer) }
        if case .reply(let reply) = decision { return (decision, try? DNSMessage(parsing: reply)) }
        return (decision, nil)
    }

    static func query(_ name: String, _ type: DNSRecordType, edns: EDNS? = EDNS(), id: UInt16 = 0x1234) -> [UInt8] {
        try! DNSMessage.query(id: id, name: DNSName(name), type: type, edns: edns).serialize()
    }

    @Test func anInZoneAnswerIsAuthoritativeAndEchoesTheSpelling() throws {
        let (_, reply) = Self.ask(Self.query("WEB.default.SVC.cluster.local", .a))
        let message = try #require(reply)
        #expect(message.header.id == 0x1234 && message.header.isAuthoritative && message.header.rcode == .noError)
        #expect(message.questions.first?.name.description == "WEB.default.SVC.cluster.local.")
        #expect(message.answers.first?.rdata == .ipv4(10, 96, 0, 20))
        #expect(message.answers.first?.name.description == "WEB.default.SVC.cluster.local.")
        #expect(message.edns?.udpPayloadSize == ClusterResponder.ourPayloadSize, "a query with OPT gets OPT")
    }

    @Test func negativeAnswersCarryTheSOA() throws {
        let nx = try #require(Self.ask(Self.query("nope.default.svc.cluster.local", .a)).1)
        #expect(nx.header.rcode == .nxDomain && nx.header.isAuthoritative && nx.authorities.first?.type == .soa)
        let nodata = try #require(Self.ask(Self.query("web.default.svc.cluster.local", .aaaa)).1)
        #expect(nodata.header.rcode == .noError && nodata.answers.isEmpty && nodata.authorities.first?.type == .soa)
    }

    @Test func beforeTheFirstSyncEverythingIsServfail() throws {
        let reply = try #require(Self.ask(Self.query("web.default.svc.cluster.local", .a), snapshot: nil).1)
        #expect(reply.header.rcode == .servFail)
    }

    @Test func aLargeAnswerIsTruncatedOverUDPAndWholeOverTCP() throws {
        let small = try #require(Self.ask(Self.query("big.default.svc.cluster.local", .a, edns: nil)).1)
        #expect(small.header.isTruncated && small.answers.count < 100)
        let tcp = try #require(Self.ask(Self.query("big.default.svc.cluster.local", .a, edns: nil), tcp: true).1)
        #expect(!tcp.header.isTruncated && tcp.answers.count == 100)
    }

    @Test func otherNamesAreForwardedOrRefused() {
        if case .forward(_, let question, _) = Self.ask(Self.query("www.example.com", .a), forwarding: true).0 {
            #expect(question.name.description == "www.example.com.")
        } else {
            Issue.record("expected a forward")
        }
        #expect(Self.ask(Self.query("www.example.com", .a)).1?.header.rcode == .refused)
    }

    @Test func badInputGetsTheRightCodeOrSilence() throws {
        // Shorter than a header: no ID to answer.
        if case .drop = Self.ask([0x12, 0x34, 0x01]).0 {} else { Issue.record("a truncated header is dropped") }
        // A response is never answered.
        var response = Self.query("web.default.svc.cluster.local", .a)
        response[2] |= 0x80
        if case .drop = Self.ask(response).0 {} else { Issue.record("a response is dropped") }
        // QDCOUNT 2 and 0: FORMERR with the query's ID.
        var two = Self.query("web.default.svc.cluster.local", .a, edns: nil)
        two[5] = 2
        two += Array(two[12...])
        let formerr = try #require(Self.ask(two).1)
        #expect(formerr.header.rcode == .formErr && formerr.header.id == 0x1234)
        var none = Array(Self.query("web.default.svc.cluster.local", .a, edns: nil)[0..<12])
        none[5] = 0
        #expect(Self.ask(none).1?.header.rcode == .formErr)
        // A compression loop in the question: FORMERR.
        let loop: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(Self.ask(loop).1?.header.rcode == .formErr)
        // Unknown opcode: NOTIMP; unknown class: REFUSED; EDNS version 1: BADVERS.
        var opcode = Self.query("web.default.svc.cluster.local", .a, edns: nil)
        opcode[2] = (opcode[2] & 0x87) | (3 << 3)
        #expect(Self.ask(opcode).1?.header.rcode == .notImp)
        let chaos = try DNSMessage(header: DNSHeader(id: 7), questions: [DNSQuestion(name: DNSName("version.bind"), type: .txt, class: DNSClass(3))]).serialize()
        #expect(Self.ask(chaos).1?.header.rcode == .refused)
        let v1 = Self.query("web.default.svc.cluster.local", .a, edns: EDNS(version: 1))
        #expect(Self.ask(v1).1?.header.rcode == .badVers)
    }

    @Test func zoneTransfersAreRefused() {
        #expect(Self.ask(Self.query("cluster.local", .axfr)).1?.header.rcode == .refused)
    }
}

extension ClusterResponderTests {
    @Test func beforeTheFirstSyncOtherNamesAreStillForwarded() {
        if case .forward = Self.ask(Self.query("www.example.com", .a), snapshot: nil, forwarding: true).0 {} else {
            Issue.record("a name outside the zone does not depend on the API")
        }
        #expect(Self.ask(Self.query("1.0.96.10.in-addr.arpa", .ptr), snapshot: nil, forwarding: true).1?.header.rcode == .servFail)
    }
}
