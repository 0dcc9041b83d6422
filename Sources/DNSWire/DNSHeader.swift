/// The 4-bit OPCODE. A struct rather than an enum so unassigned values parse and round-trip.
public struct DNSOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// 0...15; the writer rejects larger values.
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let query = DNSOpcode(rawValue: 0)
    public static let iquery = DNSOpcode(rawValue: 1)
    public static let status = DNSOpcode(rawValue: 2)
    public static let notify = DNSOpcode(rawValue: 4)
    public static let update = DNSOpcode(rawValue: 5)
    public static let dso = DNSOpcode(rawValue: 6)

    public var description: String {
        switch rawValue {
        case 0: "QUERY"
        case 1: "IQUERY"
        case 2: "STATUS"
        case 4: "NOTIFY"
        case 5: "UPDATE"
        case 6: "DSO"
        default: "OPCODE\(rawValue)"
        }
    }
}

/// The 12-bit RCODE: 4 bits in the header, the upper 8 in the OPT record (RFC 6891).
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// 0...4095; values above 15 need EDNS to be encoded.
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formErr = DNSResponseCode(rawValue: 1)
    public static let servFail = DNSResponseCode(rawValue: 2)
    public static let nxDomain = DNSResponseCode(rawValue: 3)
    public static let notImp = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
    public static let yxDomain = DNSResponseCode(rawValue: 6)
    public static let yxRRSet = DNSResponseCode(rawValue: 7)
    public static let nxRRSet = DNSResponseCode(rawValue: 8)
    public static let notAuth = DNSResponseCode(rawValue: 9)
    public static let notZone = DNSResponseCode(rawValue: 10)
    /// Extended (needs OPT): the query's EDNS version is not supported.
    public static let badVers = DNSResponseCode(rawValue: 16)
    public static let badCookie = DNSResponseCode(rawValue: 23)

    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 16: "BADVERS"
        case 23: "BADCOOKIE"
        default: "RCODE\(rawValue)"
        }
    }
}

/// The message header without its section counts: those follow from the sections when writing and are
/// exposed by `DNSQueryView` when reading.
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16
    /// QR: the message is a response.
    public var isResponse: Bool
    public var opcode: DNSOpcode
    /// AA: authoritative answer.
    public var isAuthoritative: Bool
    /// TC: truncated; the client should retry over TCP.
    public var isTruncated: Bool
    /// RD: recursion desired (copied from query to response).
    public var recursionDesired: Bool
    /// RA: recursion available.
    public var recursionAvailable: Bool
    /// Z: reserved, must be zero; kept so every parsed message re-encodes bit for bit.
    public var z: Bool
    /// AD: authentic data (RFC 4035).
    public var authenticData: Bool
    /// CD: checking disabled (RFC 4035).
    public var checkingDisabled: Bool
    /// The full 12-bit RCODE: parsing merges the OPT record's upper 8 bits in, writing splits them out.
    public var rcode: DNSResponseCode

    public init(
        id: UInt16 = 0, isResponse: Bool = false, opcode: DNSOpcode = .query, isAuthoritative: Bool = false,
        isTruncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
        z: Bool = false, authenticData: Bool = false, checkingDisabled: Bool = false,
        rcode: DNSResponseCode = .noError
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.z = z
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcode = rcode
    }

    /// Decodes the ID and the 16 flag bits (bytes 0...3 of a message).
    public init(id: UInt16, flags: UInt16) {
        self.init(
            id: id, isResponse: flags & 0x8000 != 0, opcode: DNSOpcode(rawValue: UInt8((flags >> 11) & 0xF)),
            isAuthoritative: flags & 0x0400 != 0, isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0, recursionAvailable: flags & 0x0080 != 0, z: flags & 0x0040 != 0,
            authenticData: flags & 0x0020 != 0, checkingDisabled: flags & 0x0010 != 0,
            rcode: DNSResponseCode(rawValue: flags & 0xF))
    }

    /// Reads the header of a message: succeeds whenever there are at least 12 bytes.
    public init(parsing bytes: some Collection<UInt8>) throws(DNSWireError) {
        guard bytes.count >= 12 else { throw .headerTooShort(length: bytes.count) }
        var i = bytes.startIndex
        func next16() -> UInt16 {
            let hi = bytes[i]
            bytes.formIndex(after: &i)
            let lo = bytes[i]
            bytes.formIndex(after: &i)
            return UInt16(hi) << 8 | UInt16(lo)
        }
        let id = next16()
        self.init(id: id, flags: next16())
    }

    /// The 16 flag bits as on the wire; RCODE contributes only its low 4 bits.
    public var flags: UInt16 {
        var f = UInt16(opcode.rawValue & 0xF) << 11 | (rcode.rawValue & 0xF)
        if isResponse { f |= 0x8000 }
        if isAuthoritative { f |= 0x0400 }
        if isTruncated { f |= 0x0200 }
        if recursionDesired { f |= 0x0100 }
        if recursionAvailable { f |= 0x0080 }
        if z { f |= 0x0040 }
        if authenticData { f |= 0x0020 }
        if checkingDisabled { f |= 0x0010 }
        return f
    }

    /// The header of a reply to this query: same ID, opcode, RD and CD (RFC 1035, RFC 6840), QR set.
    public func responseHeader(rcode: DNSResponseCode = .noError, authoritative: Bool = false) -> DNSHeader {
        DNSHeader(
            id: id, isResponse: true, opcode: opcode, isAuthoritative: authoritative,
            recursionDesired: recursionDesired, checkingDisabled: checkingDisabled, rcode: rcode)
    }
}
