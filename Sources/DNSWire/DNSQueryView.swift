/// Why a query that parsed should still get FORMERR rather than an answer.
public enum DNSQueryProblem: Hashable, Sendable, CustomStringConvertible {
    /// QDCOUNT 0. Only meaningful with DNS cookies (RFC 7873 §5.4); a server without cookie support
    /// answers FORMERR.
    case noQuestion
    /// QDCOUNT above 1, which RFC 9619 forbids for OPCODE QUERY: answer FORMERR.
    case multipleQuestions(Int)

    public var description: String {
        switch self {
        case .noQuestion: "query has no question"
        case .multipleQuestions(let n): "query has \(n) questions"
        }
    }
}

/// What a server needs from a query, read without building the record arrays of a full `DNSMessage`.
///
/// It decodes the header, the first question and the OPT record, and only skips over everything else
/// (other questions, answer and authority records, other additional records such as TSIG) while still
/// checking their bounds, label types and pointer directions. Every message `DNSMessage(parsing:)`
/// accepts, this accepts with the same header, question and EDNS; it may accept some the full parser
/// rejects (bad RDATA in a record it skips).
///
/// QDCOUNT ≠ 1 is not a parse error: the view parses and sets `problem`, because the header is fine
/// and the right reply is FORMERR with the query's ID, not silence. A server should also drop (never
/// answer) packets with `header.isResponse` set.
public struct DNSQueryView: Hashable, Sendable {
    /// The header; its RCODE includes the OPT record's extended bits.
    public var header: DNSHeader
    /// The first question; nil when QDCOUNT is 0.
    public var question: DNSQuestion?
    /// QDCOUNT as sent.
    public var questionCount: Int
    public var answerCount: Int
    public var authorityCount: Int
    /// ARCOUNT as sent, OPT included.
    public var additionalCount: Int
    public var edns: EDNS?
    /// Set when QDCOUNT is not 1: answer FORMERR.
    public var problem: DNSQueryProblem?
    /// Offset just after the first question (12 when there is none): a server that pre-encodes answers
    /// can copy the question bytes `12..<questionEnd` verbatim when the name was not compressed.
    public var questionEnd: Int

    /// The largest UDP response the client accepts: 512 without EDNS, else its payload size (at least 512).
    public var responseSizeLimit: Int { edns?.responseSizeLimit ?? 512 }

    public init(parsing bytes: UnsafeRawBufferPointer) throws(DNSWireError) {
        var r = WireReader(bytes)
        guard r.count >= 12 else { throw .headerTooShort(length: r.count) }
        header = DNSHeader(id: r.u16(0), flags: r.u16(2))
        questionCount = Int(r.u16(4))
        answerCount = Int(r.u16(6))
        authorityCount = Int(r.u16(8))
        additionalCount = Int(r.u16(10))
        r.position = 12
        question = nil
        if questionCount > 0 { question = try r.readQuestion() }
        questionEnd = r.position
        for _ in 1..<max(questionCount, 1) {
            try r.skipName(.question, limit: r.count)
            try r.need(4, .question, limit: r.count)
            r.position += 4
        }
        var edns: EDNS?
        var extended: UInt8 = 0
        func skipRecords(_ n: Int, _ section: DNSSection) throws(DNSWireError) {
            for _ in 0..<n {
                let start = r.position
                try r.skipName(section, limit: r.count)
                try r.need(10, section, limit: r.count)
                let type = DNSRecordType(r.u16(r.position))
                let rdlength = Int(r.u16(r.position + 8))
                guard type == .opt else {
                    r.position += 10
                    try r.need(rdlength, section, limit: r.count)
                    r.position += rdlength
                    continue
                }
                guard section == .additional else { throw .badOPT(offset: start, problem: .outsideAdditional) }
                // Rare path: decode the owner to see whether it is the root (it may be a pointer to one).
                let fields = r.position
                r.position = start
                let owner = try r.readName(section, limit: r.count)
                r.position = fields
                guard owner.isRoot else { throw .badOPT(offset: start, problem: .ownerNotRoot) }
                guard edns == nil else { throw .badOPT(offset: start, problem: .duplicate) }
                let payload = r.u16(r.position + 2)
                let ttl = r.u32(r.position + 4)
                r.position += 10
                try r.need(rdlength, section, limit: r.count)
                edns = try r.readOPTData(start: start, payload: payload, ttl: ttl, end: r.position + rdlength)
                extended = UInt8(ttl >> 24)
            }
        }
        try skipRecords(answerCount, .answer)
        try skipRecords(authorityCount, .authority)
        try skipRecords(additionalCount, .additional)
        self.edns = edns
        guard r.position == r.count else { throw .trailingBytes(offset: r.position, count: r.count - r.position) }
        if edns != nil { header.rcode.rawValue |= UInt16(extended) << 4 }
        switch questionCount {
        case 1: problem = nil
        case 0: problem = .noQuestion
        default: problem = .multipleQuestions(questionCount)
        }
    }

    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(DNSWireError) -> DNSQueryView in try DNSQueryView(parsing: raw) }
        }
        self = try result.get()
    }
}
