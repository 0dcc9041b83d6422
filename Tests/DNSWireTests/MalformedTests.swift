import Testing
@testable import DNSWire

/// Each malformed input is refused with the error that names its defect, and `isHeaderReadable` tells the
/// server whether it may answer FORMERR (header intact) or must drop the packet.
@Suite struct MalformedTests {
    static let query = headerBytes() + wireName("svc1.testns.svc.cluster.local") + typeClass()

    @Test(arguments: [0, 1, 11])
    func truncatedHeaderIsUnreadableAndDropped(_ length: Int) {
        let bytes = Array(Self.query.prefix(length))
        #expect(parseError(bytes) == .headerTooShort(length: length))
        #expect(viewError(bytes) == .headerTooShort(length: length))
        #expect(parseError(bytes)?.isHeaderReadable == false)
        #expect(DNSMessage.formatErrorReply(toQuery: bytes) == nil)
        #expect(throws: DNSWireError.headerTooShort(length: length)) { try DNSHeader(parsing: bytes) }
    }

    @Test func exactlyAHeaderWithQDCOUNT1IsATruncatedQuestion() {
        let bytes = Array(Self.query.prefix(12))
        #expect(parseError(bytes) == .truncated(section: .question, offset: 12))
        #expect(parseError(bytes)?.isHeaderReadable == true)
    }

    @Test(arguments: [13, 20, 42, 43, 45])
    func truncatedQuestion(_ length: Int) throws {
        let bytes = Array(Self.query.prefix(length))
        let error = try #require(parseError(bytes))
        #expect(error.kind == .truncated)
        #expect(error.isHeaderReadable)
        #expect(viewError(bytes)?.kind == .truncated)
        // The server can still answer FORMERR with the query's ID.
        let reply = try #require(DNSMessage.formatErrorReply(toQuery: bytes))
        let parsed = try DNSMessage(parsing: reply)
        #expect(parsed.header.id == 0xBEEF && parsed.header.isResponse && parsed.header.rcode == .formErr)
        #expect(parsed.header.recursionDesired)
        #expect(parsed.questions.isEmpty)
    }

    @Test func responsesGetNoFormErr() {
        let bytes = headerBytes(flags: 0x8100) + [0xFF]
        #expect(DNSMessage.formatErrorReply(toQuery: bytes) == nil)
    }

    @Test func selfPointer() {
        // The question name is a pointer to itself.
        let bytes = headerBytes() + [0xC0, 12] + typeClass()
        #expect(parseError(bytes) == .badCompressionPointer(offset: 12, target: 12))
        #expect(viewError(bytes) == .badCompressionPointer(offset: 12, target: 12))
    }

    @Test func forwardPointer() {
        let bytes = headerBytes() + [0xC0, 18] + typeClass() + [1, 0x61, 0]
        #expect(parseError(bytes) == .badCompressionPointer(offset: 12, target: 18))
    }

    @Test func pointerIntoTheHeader() {
        let bytes = headerBytes() + [0xC0, 2] + typeClass()
        #expect(parseError(bytes) == .badCompressionPointer(offset: 12, target: 2))
    }

    @Test func twoPointerCycle() {
        // Answer owner at 12: label `a`, then a pointer back to 12: backwards, but into its own segment (a loop).
        var bytes = headerBytes(qd: 0, an: 1)
        bytes += [1, 0x61, 0xC0, 12]  // 12: `a`, then pointer to 12: must point before the segment start
        bytes += typeClass() + [0, 0, 0, 1, 0, 0]
        #expect(parseError(bytes) == .badCompressionPointer(offset: 14, target: 12))
        // Two names pointing at each other: 12 -> 14 is forward, and 14 -> 12 loops back into 12.
        let cycle = headerBytes(qd: 2) + [0xC0, 14, 0xC0, 12] + typeClass() + typeClass()
        #expect(parseError(cycle) == .badCompressionPointer(offset: 12, target: 14))
        // Second name first: a backwards pointer to a name that points forward to it.
        let backFirst = headerBytes(qd: 1, an: 1) + [1, 0x61, 0xC0, 16] + typeClass() + [0xC0, 12]
        #expect(parseError(backFirst)?.kind == .badCompressionPointer)
    }

    @Test func pointerChainsAreHopLimited() throws {
        // Name at 12 is `a.`; then 200 pointers, each to the one before it; the question is the last one.
        var body: [UInt8] = [1, 0x61, 0]
        var previous = 12
        for _ in 0..<200 {
            let here = 12 + body.count
            body += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
            previous = here
        }
        // One more pointer to the last of them, read as a name: 201 hops. (The chain is not a valid
        // message around it, so the name reader is driven directly.)
        let owner = [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
        let chainStart = 12 + body.count
        let message = headerBytes(qd: 0) + body + owner
        try message.withUnsafeBytes { raw in
            var reader = WireReader(raw)
            reader.position = chainStart
            #expect(throws: DNSWireError.compressionHopLimit(offset: chainStart)) {
                _ = try reader.readName(.answer, limit: raw.count)
            }
            // A chain of 100 is fine (and means the name `a.`).
            reader.position = 12 + 3 + 2 * 100
            let short = try reader.readName(.answer, limit: raw.count)
            #expect(short == name("a"))
        }
    }

    @Test func labelLengthBytesAbove63AreReservedTypes() {
        // 64 = 0x40 (the extended label type, or an encoder writing a 64-byte label) and 0x80: both refused.
        let long = headerBytes() + [64] + [UInt8](repeating: 0x61, count: 64) + [0] + typeClass()
        #expect(parseError(long) == .reservedLabelType(offset: 12, byte: 64))
        let eighty = headerBytes() + [0x80, 0] + typeClass()
        #expect(parseError(eighty) == .reservedLabelType(offset: 12, byte: 0x80))
        #expect(viewError(eighty) == .reservedLabelType(offset: 12, byte: 0x80))
    }

    @Test func nameOver255Bytes() {
        // Five 63-byte labels: 321 bytes in wire form.
        let label = [63] + [UInt8](repeating: 0x61, count: 63)
        let bytes = headerBytes() + Array([[UInt8]](repeating: label, count: 5).joined()) + [0] + typeClass()
        #expect(parseError(bytes) == .nameTooLong(offset: 12, length: 257))
        // 255 exactly is fine.
        let max = Array([[UInt8]](repeating: label, count: 3).joined()) + [61] + [UInt8](repeating: 0x62, count: 61) + [0]
        #expect(max.count == 255)
        #expect(parseError(headerBytes() + max + typeClass()) == nil)
    }

    @Test func nameOver255BytesThroughPointers() {
        // 63+63+63+59-byte labels at 12 (253 bytes with the root); the second question is `x` + pointer,
        // 255 bytes: fine; `xy` + pointer is 256.
        let label = [63] + [UInt8](repeating: 0x61, count: 63)
        var bytes = headerBytes(qd: 2)
        bytes += Array([[UInt8]](repeating: label, count: 3).joined()) + [59] + [UInt8](repeating: 0x62, count: 59) + [0]
        bytes += typeClass()
        let second = bytes.count
        bytes += [1, 0x78, 0xC0, 12] + typeClass()
        #expect(parseError(bytes) == nil)
        bytes[second] = 2
        bytes.insert(0x79, at: second + 1)
        #expect(parseError(bytes) == .nameTooLong(offset: second, length: 256))
    }

    @Test func badRData() {
        // An A record with 5 bytes of RDATA.
        let bytes = headerBytes(qd: 0, an: 1) + [0] + typeClass(.a) + [0, 0, 0, 30, 0, 5, 1, 2, 3, 4, 5]
        #expect(parseError(bytes) == .badRData(type: .a, offset: 23))
        // A CNAME whose name runs past RDLENGTH.
        let cname = headerBytes(qd: 0, an: 1) + [0] + typeClass(.cname) + [0, 0, 0, 30, 0, 2, 3, 0x61, 0x62, 0x63, 0]
        #expect(parseError(cname) == .badRData(type: .cname, offset: 23))
        // A CNAME with a byte left over after its name.
        let extra = headerBytes(qd: 0, an: 1) + [0] + typeClass(.cname) + [0, 0, 0, 30, 0, 2, 0, 0]
        #expect(parseError(extra) == .badRData(type: .cname, offset: 23))
        // RDLENGTH beyond the message is a truncated message.
        let over = headerBytes(qd: 0, an: 1) + [0] + typeClass(.a) + [0, 0, 0, 30, 0, 4, 1, 2]
        #expect(parseError(over) == .truncated(section: .answer, offset: 23))
        // A TXT string longer than what is left.
        let txt = headerBytes(qd: 0, an: 1) + [0] + typeClass(.txt) + [0, 0, 0, 30, 0, 2, 5, 0x61]
        #expect(parseError(txt) == .badRData(type: .txt, offset: 23))
    }

    @Test func trailingBytesAreRefused() {
        #expect(parseError(Self.query + [0]) == .trailingBytes(offset: Self.query.count, count: 1))
        #expect(viewError(Self.query + [0, 0]) == .trailingBytes(offset: Self.query.count, count: 2))
    }

    @Test func countsBeyondTheBytes() {
        var bytes = Self.query
        bytes[7] = 3  // ANCOUNT 3, no records
        #expect(parseError(bytes) == .truncated(section: .answer, offset: Self.query.count))
        var huge = Self.query
        huge[10] = 0xFF
        huge[11] = 0xFF  // ARCOUNT 65535: must fail fast without reserving 65535 records
        #expect(parseError(huge) == .truncated(section: .additional, offset: Self.query.count))
    }

    static let opt: [UInt8] = [0] + typeClass(.opt, DNSClass(1232)) + [0, 0, 0, 0, 0, 0]

    @Test func optRules() {
        #expect(parseError(headerBytes(ar: 2) + wireName("a") + typeClass() + Self.opt + Self.opt)?.kind == .badOPT)
        #expect(
            parseError(headerBytes(ar: 2) + wireName("a") + typeClass() + Self.opt + Self.opt)
                == .badOPT(offset: 30, problem: .duplicate))
        #expect(
            parseError(headerBytes(an: 1) + wireName("a") + typeClass() + Self.opt)
                == .badOPT(offset: 19, problem: .outsideAdditional))
        let notRoot = wireName("a") + Array(Self.opt.dropFirst())
        #expect(
            parseError(headerBytes(ar: 1) + wireName("a") + typeClass() + notRoot)
                == .badOPT(offset: 19, problem: .ownerNotRoot))
        #expect(
            viewError(headerBytes(ar: 1) + wireName("a") + typeClass() + notRoot)
                == .badOPT(offset: 19, problem: .ownerNotRoot))
        // Option length running past RDLENGTH.
        let badOption = [0] + typeClass(.opt, DNSClass(1232)) + [0, 0, 0, 0, 0, 4, 0, 10, 0, 8]
        #expect(
            parseError(headerBytes(ar: 1) + wireName("a") + typeClass() + badOption)
                == .badOPT(offset: 19, problem: .malformedOptions))
    }

    @Test func everyErrorHasADescription() {
        let errors: [DNSWireError] = [
            .headerTooShort(length: 3), .truncated(section: .answer, offset: 1), .reservedLabelType(offset: 1, byte: 0x40),
            .labelTooLong(offset: 0, length: 64), .nameTooLong(offset: 0, length: 256), .emptyLabel(offset: 0),
            .invalidEscape(offset: 0), .badCompressionPointer(offset: 12, target: 12), .compressionHopLimit(offset: 12),
            .badRData(type: .a, offset: 1), .badOPT(offset: 1, problem: .duplicate), .trailingBytes(offset: 1, count: 1),
            .unencodable("x"),
        ]
        #expect(Set(errors.map(\.kind)) == Set(DNSWireError.Kind.allCases))
        for e in errors { #expect(!e.description.isEmpty) }
        #expect(errors.filter { !$0.isHeaderReadable } == [.headerTooShort(length: 3)])
    }
}
