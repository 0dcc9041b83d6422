/// A record TYPE (or QTYPE). A struct, not an enum, so types this module does not know parse, compare and
/// round-trip as themselves (RFC 3597).
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(1)
    public static let ns = DNSRecordType(2)
    public static let cname = DNSRecordType(5)
    public static let soa = DNSRecordType(6)
    public static let ptr = DNSRecordType(12)
    public static let hinfo = DNSRecordType(13)
    public static let mx = DNSRecordType(15)
    public static let txt = DNSRecordType(16)
    public static let aaaa = DNSRecordType(28)
    public static let srv = DNSRecordType(33)
    public static let naptr = DNSRecordType(35)
    public static let dname = DNSRecordType(39)
    public static let opt = DNSRecordType(41)
    public static let ds = DNSRecordType(43)
    public static let rrsig = DNSRecordType(46)
    public static let nsec = DNSRecordType(47)
    public static let dnskey = DNSRecordType(48)
    public static let svcb = DNSRecordType(64)
    public static let https = DNSRecordType(65)
    public static let ixfr = DNSRecordType(251)
    public static let axfr = DNSRecordType(252)
    public static let any = DNSRecordType(255)
    public static let caa = DNSRecordType(257)

    private static let mnemonics: [(UInt16, String)] = [
        (1, "A"), (2, "NS"), (5, "CNAME"), (6, "SOA"), (12, "PTR"), (13, "HINFO"), (15, "MX"), (16, "TXT"),
        (28, "AAAA"), (33, "SRV"), (35, "NAPTR"), (39, "DNAME"), (41, "OPT"), (43, "DS"), (46, "RRSIG"),
        (47, "NSEC"), (48, "DNSKEY"), (64, "SVCB"), (65, "HTTPS"), (251, "IXFR"), (252, "AXFR"), (255, "ANY"),
        (257, "CAA"),
    ]

    /// Parses a mnemonic (`AAAA`, case-insensitive) or the RFC 3597 form `TYPE123`.
    public init?(_ text: String) {
        let upper = text.uppercased()
        if let hit = Self.mnemonics.first(where: { $0.1 == upper }) {
            self.init(hit.0)
        } else if upper.hasPrefix("TYPE"), let n = UInt16(upper.dropFirst(4)) {
            self.init(n)
        } else {
            return nil
        }
    }

    /// The mnemonic, or `TYPE<n>` for types without one here.
    public var description: String {
        Self.mnemonics.first(where: { $0.0 == rawValue })?.1 ?? "TYPE\(rawValue)"
    }
}

/// A record CLASS (or QCLASS). Unknown classes parse and round-trip.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = DNSClass(1)
    public static let ch = DNSClass(3)
    public static let hs = DNSClass(4)
    /// NONE (RFC 2136 updates: delete a specific RR).
    public static let none = DNSClass(254)
    /// ANY / `*` as QCLASS; in updates, delete an RRset.
    public static let any = DNSClass(255)

    public var description: String {
        switch rawValue {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}
