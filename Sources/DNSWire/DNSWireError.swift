/// The sections of a DNS message, in wire order.
public enum DNSSection: Int, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case question, answer, authority, additional

    public var description: String {
        switch self {
        case .question: "question"
        case .answer: "answer"
        case .authority: "authority"
        case .additional: "additional"
        }
    }
}

/// Why bytes are not a DNS message, a string is not a domain name, or a message cannot be encoded.
///
/// Offsets are byte offsets from the start of the message (for `DNSName(_:)`, from the start of the
/// text's UTF-8). A server decides what to do from `isHeaderReadable`: when it is true the 12-byte header
/// was intact, so it can answer FORMERR with the query's ID (`DNSMessage.formatErrorReply(toQuery:)`);
/// when it is false there is no ID to answer to and the packet must be dropped.
public enum DNSWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer than 12 bytes: not even a header. The only error after which nothing can be answered.
    case headerTooShort(length: Int)
    /// The message ended inside `section` (a count promised more than the bytes hold, or a field ran off
    /// the end).
    case truncated(section: DNSSection, offset: Int)
    /// A label length byte with top bits 01 or 10: the obsolete extended label type (0x40), a label
    /// longer than 63 bytes written by a broken encoder, or the unassigned 0x80 type.
    case reservedLabelType(offset: Int, byte: UInt8)
    /// A label longer than 63 bytes (text names; on the wire that is a `reservedLabelType`).
    case labelTooLong(offset: Int, length: Int)
    /// A name longer than 255 bytes in wire form, counting length bytes and the root.
    case nameTooLong(offset: Int, length: Int)
    /// Text name with an empty label (`a..b`, `.a`, or the empty string).
    case emptyLabel(offset: Int)
    /// Text name with a `\` escape that is unfinished or a `\DDD` above 255.
    case invalidEscape(offset: Int)
    /// A compression pointer that does not point strictly backwards, before the name segment it sits in
    /// and after the header. Self-pointers, forward pointers and every cycle end here.
    case badCompressionPointer(offset: Int, target: Int)
    /// More compression pointers in one name than a legitimate name can need (127, one per label).
    case compressionHopLimit(offset: Int)
    /// RDATA that does not match its type's format (an A record that is not 4 bytes, a name that
    /// overruns RDLENGTH, bytes left over after the last field).
    case badRData(type: DNSRecordType, offset: Int)
    /// An OPT pseudo-record that breaks RFC 6891's rules.
    case badOPT(offset: Int, problem: OPTProblem)
    /// Bytes after the last record the counts announce.
    case trailingBytes(offset: Int, count: Int)
    /// The writer cannot encode this message (a TXT string over 255 bytes, RDATA over 65535 bytes,
    /// an extended RCODE without EDNS, sections appended out of order).
    case unencodable(String)

    /// What is wrong with an OPT record.
    public enum OPTProblem: String, Hashable, Sendable {
        case ownerNotRoot = "owner name is not the root"
        case outsideAdditional = "not in the additional section"
        case duplicate = "more than one OPT record"
        case malformedOptions = "options do not fill RDATA exactly"
    }

    /// The error without its details, for counting (the fuzzer's report, server metrics).
    public enum Kind: String, Hashable, Sendable, CaseIterable, Comparable {
        case headerTooShort, truncated, reservedLabelType, labelTooLong, nameTooLong, emptyLabel, invalidEscape
        case badCompressionPointer, compressionHopLimit, badRData, badOPT, trailingBytes, unencodable

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var kind: Kind {
        switch self {
        case .headerTooShort: .headerTooShort
        case .truncated: .truncated
        case .reservedLabelType: .reservedLabelType
        case .labelTooLong: .labelTooLong
        case .nameTooLong: .nameTooLong
        case .emptyLabel: .emptyLabel
        case .invalidEscape: .invalidEscape
        case .badCompressionPointer: .badCompressionPointer
        case .compressionHopLimit: .compressionHopLimit
        case .badRData: .badRData
        case .badOPT: .badOPT
        case .trailingBytes: .trailingBytes
        case .unencodable: .unencodable
        }
    }

    /// True when the 12-byte header was intact, so a server can reply FORMERR with the query's ID.
    /// False only for `headerTooShort`: such a packet must be dropped.
    public var isHeaderReadable: Bool {
        if case .headerTooShort = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .headerTooShort(let length): "message of \(length) bytes is shorter than the 12-byte header"
        case .truncated(let section, let offset): "message truncated in the \(section) section at offset \(offset)"
        case .reservedLabelType(let offset, let byte):
            "label length byte 0x\(String(byte, radix: 16)) at offset \(offset) is a reserved label type "
                + "(labels are at most 63 bytes)"
        case .labelTooLong(let offset, let length): "label of \(length) bytes at offset \(offset) exceeds 63"
        case .nameTooLong(let offset, let length): "name at offset \(offset) is \(length) bytes, more than 255"
        case .emptyLabel(let offset): "empty label at offset \(offset)"
        case .invalidEscape(let offset): "invalid escape at offset \(offset)"
        case .badCompressionPointer(let offset, let target):
            "compression pointer at offset \(offset) to \(target) does not point backwards"
        case .compressionHopLimit(let offset): "name at offset \(offset) follows too many compression pointers"
        case .badRData(let type, let offset): "malformed \(type) RDATA at offset \(offset)"
        case .badOPT(let offset, let problem): "OPT record at offset \(offset): \(problem.rawValue)"
        case .trailingBytes(let offset, let count): "\(count) bytes after the last record, at offset \(offset)"
        case .unencodable(let reason): "cannot encode message: \(reason)"
        }
    }
}
