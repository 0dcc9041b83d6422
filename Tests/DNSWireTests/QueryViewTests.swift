import Testing
@testable import DNSWire

@Suite struct QueryViewTests {
    @Test func standardQueryWithEDNS() throws {
        let asked = name("SvC1.TeStNs.svc.cluster.local")
        let query = DNSMessage.query(
            id: 0x4242, name: asked, type: .srv,
            edns: EDNS(udpPayloadSize: 4096, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]))
        let bytes = try query.serialize()
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.header == query.header)
        #expect(view.question == query.questions[0])
        #expect(view.question?.name.spellingEquals(asked) == true)
        #expect(view.problem == nil)
        #expect(view.edns == query.edns)
        #expect(view.responseSizeLimit == 4096)
        #expect(view.additionalCount == 1)
        #expect(view.questionEnd == 12 + asked.wireLength + 4)
        #expect(Array(bytes[12..<view.questionEnd]) == asked.wireFormat + typeClass(.srv))
    }

    @Test func ednsPayloadSizeDecidesTheResponseLimit() throws {
        func limit(_ edns: EDNS?) throws -> Int {
            try DNSQueryView(parsing: try DNSMessage.query(id: 1, name: name("a"), type: .a, edns: edns).serialize())
                .responseSizeLimit
        }
        #expect(try limit(nil) == 512)
        #expect(try limit(EDNS(udpPayloadSize: 1232)) == 1232)
        #expect(try limit(EDNS(udpPayloadSize: 65535)) == 65535)
        // RFC 6891: values below 512 mean 512.
        #expect(try limit(EDNS(udpPayloadSize: 100)) == 512)
        // The raw value is kept for round trips.
        let parsed = try DNSMessage(parsing: try DNSMessage.query(id: 1, name: name("a"), type: .a, edns: EDNS(udpPayloadSize: 100)).serialize())
        #expect(parsed.edns?.udpPayloadSize == 100)
    }

    @Test func ednsVersionAndFlags() throws {
        // OPT by hand: payload 1232, extended rcode 0, version 1, DO + one reserved bit.
        let opt: [UInt8] = [0, 0, 41, 0x04, 0xD0, 0, 1, 0x80, 0x01, 0, 0]
        let bytes = headerBytes(ar: 1) + wireName("a") + typeClass() + opt
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.edns == EDNS(udpPayloadSize: 1232, version: 1, dnssecOK: true, reservedFlags: 1))
        let full = try DNSMessage(parsing: bytes)
        #expect(full.edns == view.edns)
        #expect(try full.serialize() == bytes)
    }

    // Decision: QDCOUNT 0 and QDCOUNT > 1 parse (the header is fine and the server must be able to answer
    // FORMERR with the ID), and the view flags them in `problem`.
    @Test func qdcountZeroIsFlagged() throws {
        let bytes = headerBytes(qd: 0)
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.problem == .noQuestion)
        #expect(view.question == nil)
        #expect(view.questionEnd == 12)
        #expect(try DNSMessage(parsing: bytes).questions.isEmpty)
    }

    @Test func qdcountTwoIsFlagged() throws {
        let bytes = headerBytes(qd: 2) + wireName("first.example") + typeClass(.a) + wireName("second.example")
            + typeClass(.aaaa)
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.problem == .multipleQuestions(2))
        #expect(view.questionCount == 2)
        #expect(view.question == DNSQuestion(name: name("first.example"), type: .a))
        let full = try DNSMessage(parsing: bytes)
        #expect(full.questions.count == 2)
        #expect(view.problem?.description == "query has 2 questions")
    }

    @Test func skippedSectionsAreStillBoundsChecked() throws {
        // A NOTIFY-like message with an answer record the view skips, then OPT.
        let answer = [0xC0, 12] + typeClass(.soa) + [0, 0, 0, 0, 0, 3, 1, 2, 3]
        let opt: [UInt8] = [0, 0, 41, 0x02, 0x00, 0, 0, 0, 0, 0, 0]
        let bytes = headerBytes(an: 1, ar: 1) + wireName("zone") + typeClass(.soa) + answer + opt
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.answerCount == 1)
        #expect(view.edns?.udpPayloadSize == 512)
        // The full parser checks the SOA RDATA the view skipped.
        #expect(parseError(bytes)?.kind == .badRData)
        // Truncating the skipped record is caught.
        #expect(viewError(Array(bytes.dropLast(13)))?.kind == .truncated)
    }

    @Test func extendedRCodeIsMergedLikeTheFullParser() throws {
        let message = DNSMessage(header: DNSHeader(id: 3, isResponse: true, rcode: .badCookie), questions: [DNSQuestion(name: name("a"), type: .a)], edns: EDNS())
        let view = try DNSQueryView(parsing: try message.serialize())
        #expect(view.header.rcode == .badCookie)
    }

    @Test func optOwnerMayBeAPointerToTheRoot() throws {
        // Odd but legal: the OPT owner is a pointer to a root byte earlier in the message (the question's
        // name is the root). Both parsers must agree.
        let bytes = headerBytes(ar: 1) + [0] + typeClass(.ns) + [0xC0, 12] + typeClass(.opt, DNSClass(1232)) + [0, 0, 0, 0, 0, 0]
        let view = try DNSQueryView(parsing: bytes)
        #expect(view.edns?.udpPayloadSize == 1232)
        #expect(try DNSMessage(parsing: bytes).edns == view.edns)
    }
}
