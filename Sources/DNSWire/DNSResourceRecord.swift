/// One entry of the question section.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var type: DNSRecordType
    public var `class`: DNSClass

    public init(name: DNSName, type: DNSRecordType, class: DNSClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }

    public var description: String { "\(name) \(`class`) \(type)" }
}

/// A resource record of the answer, authority or additional section. The OPT pseudo-record is not one of
/// these: it is `DNSMessage.edns`.
public struct DNSResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var `class`: DNSClass
    public var ttl: UInt32
    public var rdata: RData

    public init(name: DNSName, class: DNSClass = .in, ttl: UInt32, rdata: RData) {
        self.name = name
        self.class = `class`
        self.ttl = ttl
        self.rdata = rdata
    }

    /// The TYPE, which the RDATA determines.
    public var type: DNSRecordType { rdata.type }

    /// Zone-file style: `name ttl class type rdata`.
    public var description: String { "\(name) \(ttl) \(`class`) \(type) \(rdata)" }

    /// Typed RDATA for the types a cluster DNS server and its clients use; everything else is kept as bytes.
    ///
    /// The parser decodes A and AAAA only in class IN (their format is class-specific) and decodes nothing
    /// when RDLENGTH is 0 in class ANY or NONE (RFC 2136 deletions); those come back as `.unknown`, which
    /// the writer emits byte for byte, so every parsed record re-encodes to a record that parses the same.
    public enum RData: Hashable, Sendable, CustomStringConvertible {
        /// An IPv4 address as its 32-bit big-endian value (10.96.0.11 is 0x0A60_000B), as `IPAM.IPv4Address`
        /// keeps it; no array to allocate.
        case a(UInt32)
        /// An IPv6 address as its 128-bit big-endian value.
        case aaaa(UInt128)
        case ns(DNSName)
        case cname(DNSName)
        case ptr(DNSName)
        case mx(preference: UInt16, exchange: DNSName)
        case soa(
            mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
            minimum: UInt32)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
        /// Character-strings, each 0...255 bytes.
        case txt([[UInt8]])
        /// Any other TYPE, or a known one in a form the parser does not decode: the raw RDATA. Names inside
        /// are not decompressed (RFC 3597 forbids compression in types not known to every server).
        case unknown(type: DNSRecordType, data: [UInt8])

        public var type: DNSRecordType {
            switch self {
            case .a: .a
            case .aaaa: .aaaa
            case .ns: .ns
            case .cname: .cname
            case .ptr: .ptr
            case .mx: .mx
            case .soa: .soa
            case .srv: .srv
            case .txt: .txt
            case .unknown(let type, _): type
            }
        }

        /// An A record from its four octets.
        public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> RData {
            .a(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
        }

        /// A TXT record from strings (UTF-8).
        public static func text(_ strings: String...) -> RData { .txt(strings.map { Array($0.utf8) }) }

        public var description: String {
            switch self {
            case .a(let v): formatIPv4(v)
            case .aaaa(let v): formatIPv6(v)
            case .ns(let n), .cname(let n), .ptr(let n): n.description
            case .mx(let preference, let exchange): "\(preference) \(exchange)"
            case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
                "\(mname) \(rname) \(serial) \(refresh) \(retry) \(expire) \(minimum)"
            case .srv(let priority, let weight, let port, let target): "\(priority) \(weight) \(port) \(target)"
            case .txt(let strings): strings.map(quoteCharacterString).joined(separator: " ")
            case .unknown(_, let data):
                // RFC 3597 generic form.
                "\\# \(data.count)" + (data.isEmpty ? "" : " " + data.map(hexByte).joined())
            }
        }
    }
}

func formatIPv4(_ v: UInt32) -> String { "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)" }

/// RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`.
func formatIPv6(_ v: UInt128) -> String {
    let groups = (0..<8).map { UInt16(truncatingIfNeeded: v >> UInt128(112 - 16 * $0)) }
    var bestStart = -1
    var bestLength = 1
    var i = 0
    while i < 8 {
        if groups[i] == 0 {
            var j = i
            while j < 8, groups[j] == 0 { j += 1 }
            if j - i > bestLength {
                bestStart = i
                bestLength = j - i
            }
            i = j
        } else {
            i += 1
        }
    }
    func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
    if bestStart < 0 { return hex(0..<8) }
    return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
}

func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
}

func quoteCharacterString(_ s: [UInt8]) -> String {
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for b in s {
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            out.append(UInt8(ascii: "\\"))
            out.append(b)
        } else if b >= 0x20, b < 0x7F {
            out.append(b)
        } else {
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "0") + b / 100)
            out.append(UInt8(ascii: "0") + (b / 10) % 10)
            out.append(UInt8(ascii: "0") + b % 10)
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}
