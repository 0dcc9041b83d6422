import Testing
@testable import DNSWire

@Suite struct RoundTripTests {
    static let owner = name("svc1.testns.svc.cluster.local")

    static let rdatas: [DNSResourceRecord.RData] = [
        .ipv4(10, 96, 0, 11),
        .aaaa(0xFD00_0010_0096_0000_0000_0000_0000_0011),
        .ns(name("ns.dns.cluster.local")),
        .cname(name("www.example.com")),
        .ptr(name("svc1.testns.svc.cluster.local")),
        .mx(preference: 10, exchange: name("mail.example.com")),
        .soa(
            mname: name("ns.dns.cluster.local"), rname: name("hostmaster.cluster.local"), serial: 1_700_000_000,
            refresh: 7200, retry: 1800, expire: 86400, minimum: 30),
        .srv(priority: 0, weight: 100, port: 80, target: name("svc1.testns.svc.cluster.local")),
        .text("1.1.0"),
        .txt([]),
        .txt([[], Array("a".utf8), [UInt8](repeating: 0x41, count: 255)]),
        .unknown(type: .hinfo, data: [3, 0x61, 0x62, 0x63, 0]),
        .unknown(type: DNSRecordType(65280), data: []),
    ]

    @Test(arguments: rdatas)
    func everyRDataTypeRoundTrips(_ rdata: DNSResourceRecord.RData) throws {
        let rr = DNSResourceRecord(name: Self.owner, ttl: 30, rdata: rdata)
        let message = DNSMessage(
            header: DNSHeader(id: 7, isResponse: true, isAuthoritative: true, recursionDesired: true),
            questions: [DNSQuestion(name: Self.owner, type: rdata.type)], answers: [rr])
        let bytes = try message.serialize()
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed == message)
        #expect(parsed.answers.first?.type == rdata.type)
        // The generic-collection entry point gives the same result.
        #expect(try DNSMessage(parsing: bytes[...]) == message)
    }

    @Test func descriptionsReadLikeZoneFiles() {
        func text(_ r: DNSResourceRecord.RData) -> String { r.description }
        #expect(text(.ipv4(10, 96, 0, 11)) == "10.96.0.11")
        #expect(text(.aaaa(0xFD00_0010_0096_0000_0000_0000_0000_0011)) == "fd00:10:96::11")
        #expect(text(.aaaa(1)) == "::1")
        #expect(text(.aaaa(0)) == "::")
        #expect(text(.aaaa(0x2001_0DB8_0000_0001_0000_0000_0000_0001)) == "2001:db8:0:1::1")
        #expect(text(.srv(priority: 0, weight: 100, port: 80, target: name("a.b"))) == "0 100 80 a.b.")
        #expect(text(.text("1.1.0", "x\"y")) == "\"1.1.0\" \"x\\\"y\"")
        #expect(text(.unknown(type: .hinfo, data: [0xAB, 1])) == "\\# 2 ab01")
        let rr = DNSResourceRecord(name: name("a.b"), ttl: 5, rdata: .ipv4(1, 2, 3, 4))
        #expect(rr.description == "a.b. 5 IN A 1.2.3.4")
    }

    @Test func wholeMessageWithEverySectionAndEDNS() throws {
        let message = DNSMessage(
            header: DNSHeader(
                id: 0xABCD, isResponse: true, opcode: .query, isAuthoritative: true, recursionDesired: true,
                recursionAvailable: true, authenticData: true, checkingDisabled: true, rcode: .nxDomain),
            questions: [DNSQuestion(name: name("nope.testns.svc.cluster.local"), type: .a)],
            answers: [],
            authorities: [
                DNSResourceRecord(
                    name: name("cluster.local"), ttl: 30,
                    rdata: .soa(
                        mname: name("ns.dns.cluster.local"), rname: name("hostmaster.cluster.local"), serial: 1,
                        refresh: 7200, retry: 1800, expire: 86400, minimum: 30))
            ],
            additionals: [DNSResourceRecord(name: name("ns.dns.cluster.local"), ttl: 30, rdata: .ipv4(10, 96, 0, 10))],
            edns: EDNS(
                udpPayloadSize: 1232, dnssecOK: true,
                options: [EDNSOption(code: EDNSOption.cookieCode, data: [1, 2, 3, 4, 5, 6, 7, 8])]))
        let bytes = try message.serialize()
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed == message)
        // ARCOUNT counts the OPT record.
        #expect(bytes[10] == 0 && bytes[11] == 2)
        #expect(parsed.description.contains("status: NXDOMAIN"))
    }

    @Test func extendedRCodeTravelsInOPT() throws {
        var message = DNSMessage(header: DNSHeader(id: 1, isResponse: true, rcode: .badVers), edns: EDNS())
        let bytes = try message.serialize()
        #expect(bytes[3] & 0x0F == 0)  // BADVERS (16) has zero low bits
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed.header.rcode == .badVers)
        #expect(parsed == message)
        message.edns = nil
        #expect(throws: DNSWireError.self) { try message.serialize() }
    }

    @Test func unknownOpcodeClassAndTypeParseAndRoundTrip() throws {
        let odd = DNSMessage(
            header: DNSHeader(id: 9, opcode: DNSOpcode(rawValue: 9), z: true),
            questions: [DNSQuestion(name: name("x.y"), type: DNSRecordType(4242), class: DNSClass(77))],
            answers: [
                DNSResourceRecord(name: name("x.y"), class: DNSClass(77), ttl: 1, rdata: .unknown(type: DNSRecordType(4242), data: [9])),
                // A is class-specific: outside IN it stays raw.
                DNSResourceRecord(name: name("x.y"), class: .ch, ttl: 1, rdata: .unknown(type: .a, data: [1, 2])),
                // RFC 2136 RRset deletion: class ANY, empty RDATA.
                DNSResourceRecord(name: name("x.y"), class: .any, ttl: 0, rdata: .unknown(type: .cname, data: [])),
            ])
        let parsed = try DNSMessage(parsing: try odd.serialize())
        #expect(parsed == odd)
        #expect(parsed.header.opcode.description == "OPCODE9")
        #expect(parsed.questions[0].class == DNSClass(77))
    }

    @Test func namesWithBinaryLabelsRoundTrip() throws {
        let binary = try DNSName(labels: [[0, 0x2E, 0xFF, 0x5C], Array("X".utf8)])
        #expect(binary.description == "\\000\\.\\255\\\\.X.")
        #expect(try DNSName(binary.description).spellingEquals(binary))
        let message = DNSMessage(header: DNSHeader(), questions: [DNSQuestion(name: binary, type: .txt)])
        #expect(try DNSMessage(parsing: try message.serialize()).questions[0].name.spellingEquals(binary))
    }

    @Test func headerFlagsDecodeBitByBit() throws {
        let h = DNSHeader(id: 0x0102, flags: 0b1_0101_1_1_1_1_1_1_1_0011)
        #expect(h.isResponse && h.isAuthoritative && h.isTruncated && h.recursionDesired && h.recursionAvailable)
        #expect(h.z && h.authenticData && h.checkingDisabled)
        #expect(h.opcode == DNSOpcode(rawValue: 5))
        #expect(h.rcode == .nxDomain)
        #expect(h.flags == 0b1_0101_1_1_1_1_1_1_1_0011)
        #expect(try DNSHeader(parsing: [1, 2, 0xAF, 0xF3] + [UInt8](repeating: 0, count: 8)) == h)
        let reply = DNSHeader(id: 5, opcode: .query, recursionDesired: true, checkingDisabled: true)
            .responseHeader(rcode: .refused)
        #expect(reply.isResponse && reply.recursionDesired && reply.checkingDisabled && reply.id == 5)
        #expect(reply.rcode == .refused && !reply.isAuthoritative)
    }

    @Test func queryHelperBuildsWhatDigSends() throws {
        let q = DNSMessage.query(id: 0x1234, name: name("svc1.testns.svc.cluster.local"), type: .a)
        let bytes = try q.serialize()
        #expect(Array(bytes[0..<4]) == [0x12, 0x34, 0x01, 0x00])
        #expect(bytes.count == 12 + 31 + 4 + 11)
        #expect(try DNSMessage(parsing: bytes) == q)
    }
}
