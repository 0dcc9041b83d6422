import Testing
@testable import DNSWire

@Suite struct TruncationTests {
    static let qname = name("hdls.testns.svc.cluster.local")

    static func headless(_ n: Int, edns: EDNS? = nil) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(id: 0x77, isResponse: true, isAuthoritative: true, recursionDesired: true),
            questions: [DNSQuestion(name: qname, type: .a)],
            answers: (0..<n).map { DNSResourceRecord(name: qname, ttl: 30, rdata: .ipv4(10, 244, UInt8($0 / 256), UInt8($0 % 256))) },
            edns: edns)
    }

    static func count(_ bytes: [UInt8], _ index: Int) -> Int { Int(bytes[4 + 2 * index]) << 8 | Int(bytes[5 + 2 * index]) }

    @Test func udpWithoutEDNSTruncatesTo512WithTC() throws {
        let bytes = try Self.headless(100).serialize(maxSize: 512)
        #expect(bytes.count <= 512)
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed.header.isTruncated)
        // 12 + 35 question, 16 bytes per A: 29 records fit (511 bytes).
        #expect(parsed.answers.count == 29)
        #expect(Self.count(bytes, 1) == 29)
        #expect(parsed.answers == Array(Self.headless(100).answers.prefix(29)))
    }

    @Test func ednsLimitKeepsTheOPTRecord() throws {
        let message = Self.headless(100, edns: EDNS(udpPayloadSize: 4096))
        let bytes = try message.serialize(maxSize: 1232)
        #expect(bytes.count <= 1232)
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed.header.isTruncated)
        #expect(parsed.edns == message.edns)
        #expect(parsed.answers.count == (1232 - 12 - 35 - 11) / 16)
        #expect(Self.count(bytes, 3) == 1)
    }

    @Test func tcpSizeHoldsEverything() throws {
        let message = Self.headless(100)
        let bytes = try message.serialize(maxSize: 65535)
        let parsed = try DNSMessage(parsing: bytes)
        #expect(!parsed.header.isTruncated)
        #expect(parsed == message)
    }

    @Test func limitIsClampedTo512AtLeast() throws {
        let bytes = try Self.headless(100).serialize(maxSize: 100)
        #expect(bytes.count > 400 && bytes.count <= 512)
    }

    @Test func droppingOnlyAdditionalRecordsDoesNotSetTC() throws {
        // RFC 2181 §9: TC means the answer is incomplete, not that extra data was left out.
        var message = Self.headless(3)
        message.additionals = (0..<60).map {
            DNSResourceRecord(name: name("web-\($0).hdls.testns.svc.cluster.local"), ttl: 30, rdata: .ipv4(10, 244, 1, UInt8($0)))
        }
        var writer = DNSMessageWriter()
        let bytes = try writer.write(message, maxSize: 512)
        #expect(writer.droppedCount > 0)
        #expect(!writer.isTruncated)
        let parsed = try DNSMessage(parsing: bytes)
        #expect(!parsed.header.isTruncated)
        #expect(parsed.answers.count == 3)
        #expect(parsed.additionals.count == 60 - writer.droppedCount)
        #expect(parsed.additionals == Array(message.additionals.prefix(parsed.additionals.count)))
    }

    @Test func onceARecordIsDroppedLaterSectionsAreEmpty() throws {
        var message = Self.headless(40)
        message.authorities = [DNSResourceRecord(name: name("cluster.local"), ttl: 30, rdata: .ns(name("ns.dns.cluster.local")))]
        message.additionals = [DNSResourceRecord(name: name("ns.dns.cluster.local"), ttl: 30, rdata: .ipv4(10, 96, 0, 10))]
        let parsed = try DNSMessage(parsing: try message.serialize(maxSize: 512))
        #expect(parsed.header.isTruncated)
        #expect(parsed.answers.count < 40)
        #expect(parsed.authorities.isEmpty && parsed.additionals.isEmpty)
    }

    @Test func incrementalWriterReportsWhatDidNotFit() throws {
        var writer = DNSMessageWriter()
        try writer.begin(header: DNSHeader(id: 1, isResponse: true), edns: EDNS(), maxSize: 512)
        #expect(try writer.appendQuestion(DNSQuestion(name: Self.qname, type: .a)))
        var fitted = 0
        for i in 0..<100 {
            let rr = DNSResourceRecord(name: Self.qname, ttl: 30, rdata: .ipv4(10, 0, 0, UInt8(i)))
            if try writer.appendRecord(rr, to: .answer) { fitted += 1 }
        }
        writer.finish()
        #expect(fitted == (512 - 12 - 35 - 11) / 16)
        #expect(writer.isTruncated)
        #expect(writer.droppedCount == 100 - fitted)
        let parsed = try DNSMessage(parsing: writer.bytes)
        #expect(parsed.answers.count == fitted && parsed.header.isTruncated && parsed.edns == EDNS())
        // Sections must come in order.
        #expect(throws: DNSWireError.self) {
            try writer.begin(header: DNSHeader(), edns: nil, maxSize: 512)
            try writer.appendRecord(DNSResourceRecord(name: Self.qname, ttl: 1, rdata: .ipv4(1, 1, 1, 1)), to: .authority)
            try writer.appendRecord(DNSResourceRecord(name: Self.qname, ttl: 1, rdata: .ipv4(1, 1, 1, 1)), to: .answer)
        }
    }

    @Test func unencodableInputsThrow() {
        let big = DNSResourceRecord(name: .root, ttl: 1, rdata: .txt([[UInt8](repeating: 0, count: 256)]))
        #expect(throws: DNSWireError.unencodable("TXT string of 256 bytes")) {
            try DNSMessage(header: DNSHeader(), answers: [big]).serialize()
        }
        let opt = DNSResourceRecord(name: .root, ttl: 1, rdata: .unknown(type: .opt, data: []))
        #expect(throws: DNSWireError.self) { try DNSMessage(header: DNSHeader(), additionals: [opt]).serialize() }
        #expect(throws: DNSWireError.self) {
            try DNSMessage(header: DNSHeader(opcode: DNSOpcode(rawValue: 16))).serialize()
        }
    }
}
