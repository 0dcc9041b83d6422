/// A whole DNS message, decoded.
///
/// Parsing is strict (RFC 1035, 6891): every count must be backed by bytes, names obey the length and
/// compression rules, RDATA of known types must match its format, at most one OPT and only in the
/// additional section, and no bytes may follow the last record. QDCOUNT is not restricted here: a
/// message may hold any number of questions (responses to NOTIFY or UPDATE legitimately vary); the
/// server's hot path uses `DNSQueryView`, which flags QDCOUNT ≠ 1 instead.
public struct DNSMessage: Hashable, Sendable, CustomStringConvertible {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authorities: [DNSResourceRecord]
    /// Additional records, without the OPT record (that is `edns`).
    public var additionals: [DNSResourceRecord]
    /// The OPT record, when the message has one.
    public var edns: EDNS?

    public init(
        header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
        authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = [], edns: EDNS? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// A standard query for one name, as a stub resolver (or `dig`) sends it.
    public static func query(
        id: UInt16, name: DNSName, type: DNSRecordType, class: DNSClass = .in, recursionDesired: Bool = true,
        edns: EDNS? = EDNS()
    ) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(id: id, recursionDesired: recursionDesired),
            questions: [DNSQuestion(name: name, type: type, class: `class`)], edns: edns)
    }

    /// Parses a message held in contiguous memory: the fast path every other entry point ends in.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(DNSWireError) {
        var reader = WireReader(bytes)
        self = try DNSMessage.parse(&reader)
    }

    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(DNSWireError) -> DNSMessage in try DNSMessage(parsing: raw) }
        }
        self = try result.get()
    }

    /// Parses any byte collection; non-contiguous ones are copied first.
    public init(parsing bytes: some Collection<UInt8>) throws(DNSWireError) {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(DNSWireError) -> DNSMessage in try DNSMessage(parsing: UnsafeRawBufferPointer(buffer)) }
        }
        if let result {
            self = try result.get()
        } else {
            try self.init(parsing: Array(bytes))
        }
    }

    static func parse(_ r: inout WireReader) throws(DNSWireError) -> DNSMessage {
        guard r.count >= 12 else { throw .headerTooShort(length: r.count) }
        var header = DNSHeader(id: r.u16(0), flags: r.u16(2))
        let qd = Int(r.u16(4))
        let an = Int(r.u16(6))
        let ns = Int(r.u16(8))
        let ar = Int(r.u16(10))
        r.position = 12
        // Counts are attacker-controlled: reserve no more than the remaining bytes could hold
        // (a question is at least 5 bytes, a record at least 11).
        var questions: [DNSQuestion] = []
        questions.reserveCapacity(min(qd, (r.count - r.position) / 5))
        for _ in 0..<qd { questions.append(try r.readQuestion()) }

        func records(_ n: Int, _ section: DNSSection, edns: inout EDNS?, extended: inout UInt8)
            throws(DNSWireError) -> [DNSResourceRecord]
        {
            var out: [DNSResourceRecord] = []
            out.reserveCapacity(min(n, (r.count - r.position) / 11))
            for _ in 0..<n {
                let start = r.position
                switch try r.readRecord(section) {
                case .rr(let rr): out.append(rr)
                case .opt(let e, let ext):
                    guard edns == nil else { throw .badOPT(offset: start, problem: .duplicate) }
                    edns = e
                    extended = ext
                }
            }
            return out
        }
        var edns: EDNS?
        var extended: UInt8 = 0
        let answers = try records(an, .answer, edns: &edns, extended: &extended)
        let authorities = try records(ns, .authority, edns: &edns, extended: &extended)
        let additionals = try records(ar, .additional, edns: &edns, extended: &extended)
        guard r.position == r.count else {
            throw .trailingBytes(offset: r.position, count: r.count - r.position)
        }
        if edns != nil { header.rcode.rawValue |= UInt16(extended) << 4 }
        return DNSMessage(
            header: header, questions: questions, answers: answers, authorities: authorities,
            additionals: additionals, edns: edns)
    }

    /// Encodes the message, compressing names, within `maxSize` bytes (clamped to 512...65535).
    ///
    /// For a UDP response pass the query's limit (`DNSQueryView.responseSizeLimit`: 512 without EDNS, else
    /// the client's payload size); for TCP, 65535. When the message does not fit, whole records are dropped
    /// from the end, counts stay right, the OPT record is kept, and TC is set if a question, answer or
    /// authority record was dropped (RFC 2181 §9: losing additional records alone does not set TC).
    /// Reuse a `DNSMessageWriter` instead on hot paths.
    public func serialize(maxSize: Int = 65535) throws(DNSWireError) -> [UInt8] {
        var writer = DNSMessageWriter(capacity: min(max(maxSize, 512), 65535))
        return try writer.write(self, maxSize: maxSize)
    }

    /// The FORMERR reply for a query that did not parse: the query's ID, opcode and RD, QR set, no
    /// sections. Nil when no reply may be sent: fewer than 12 bytes (no ID to answer), or the packet is
    /// itself a response (answering responses invites loops).
    public static func formatErrorReply(toQuery packet: UnsafeRawBufferPointer) -> [UInt8]? {
        guard packet.count >= 12 else { return nil }
        let query = DNSHeader(id: UInt16(packet[0]) << 8 | UInt16(packet[1]), flags: UInt16(packet[2]) << 8 | UInt16(packet[3]))
        guard !query.isResponse else { return nil }
        let reply = query.responseHeader(rcode: .formErr)
        let flags = reply.flags
        return [
            UInt8(reply.id >> 8), UInt8(reply.id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF),
            0, 0, 0, 0, 0, 0, 0, 0,
        ]
    }

    public static func formatErrorReply(toQuery packet: [UInt8]) -> [UInt8]? {
        packet.withUnsafeBytes { formatErrorReply(toQuery: $0) }
    }

    /// A `dig`-like rendering, for logs and test failures.
    public var description: String {
        var lines: [String] = []
        let h = header
        var flags: [String] = []
        if h.isResponse { flags.append("qr") }
        if h.isAuthoritative { flags.append("aa") }
        if h.isTruncated { flags.append("tc") }
        if h.recursionDesired { flags.append("rd") }
        if h.recursionAvailable { flags.append("ra") }
        if h.authenticData { flags.append("ad") }
        if h.checkingDisabled { flags.append("cd") }
        lines.append(
            ";; opcode: \(h.opcode), status: \(h.rcode), id: \(h.id); flags: \(flags.joined(separator: " ")); "
                + "QUERY: \(questions.count), ANSWER: \(answers.count), AUTHORITY: \(authorities.count), "
                + "ADDITIONAL: \(additionals.count + (edns == nil ? 0 : 1))")
        if let edns {
            lines.append(
                ";; EDNS: version: \(edns.version), flags:\(edns.dnssecOK ? " do" : ""); udp: \(edns.udpPayloadSize)"
                    + (edns.options.isEmpty ? "" : "; options: \(edns.options.map { String($0.code) }.joined(separator: ","))"))
        }
        if !questions.isEmpty {
            lines.append(";; QUESTION:")
            lines += questions.map { ";\($0)" }
        }
        for (title, records) in [("ANSWER", answers), ("AUTHORITY", authorities), ("ADDITIONAL", additionals)]
        where !records.isEmpty {
            lines.append(";; \(title):")
            lines += records.map(\.description)
        }
        return lines.joined(separator: "\n")
    }
}
