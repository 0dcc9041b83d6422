import IPAM

/// The query types the zone distinguishes. Build it from the wire with `init(code:)`, so that `.other` never holds
/// a code that has a case of its own.
public enum ZoneQueryType: Sendable, Hashable {
    case a, aaaa, srv, ptr, txt, cname, soa, ns
    /// QTYPE 255 (`*`).
    case any
    /// Every other type (MX, HINFO, ...): answered NODATA at a name that exists, NXDOMAIN elsewhere, the CNAME at
    /// an ExternalName. Zone transfers (AXFR 252, IXFR 251) are the server's to refuse before asking the zone.
    case other(UInt16)

    public init(code: UInt16) {
        switch code {
        case 1: self = .a
        case 2: self = .ns
        case 5: self = .cname
        case 6: self = .soa
        case 12: self = .ptr
        case 16: self = .txt
        case 28: self = .aaaa
        case 33: self = .srv
        case 255: self = .any
        default: self = .other(code)
        }
    }

    /// The RR type number.
    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .ptr: 12
        case .txt: 16
        case .aaaa: 28
        case .srv: 33
        case .any: 255
        case .other(let code): code
        }
    }
}

/// One resource record of class IN. Names are absolute, lowercase and written without the trailing dot
/// (`svc1.testns.svc.cluster.local`), except that records owned by the query name carry the query's own spelling
/// (RFC 4343, and 0x20-randomising resolvers check it).
public struct ZoneRecord: Sendable, Hashable {
    public var name: String
    public var ttl: UInt32
    public var data: ZoneRecordData

    public init(name: String, ttl: UInt32, data: ZoneRecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }

    /// The RR type number.
    public var typeCode: UInt16 { data.typeCode }
}

/// The RDATA of a `ZoneRecord`, in the shape the wire format wants: fixed-width addresses, names as text.
public enum ZoneRecordData: Sendable, Hashable {
    case a(IPv4Address)
    case aaaa(IPv6Address)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
    case ptr(String)
    case cname(String)
    /// Character strings, each at most 255 bytes.
    case txt([String])
    case soa(ZoneSOA)
    case ns(String)

    /// The RR type number.
    public var typeCode: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .ptr: 12
        case .txt: 16
        case .aaaa: 28
        case .srv: 33
        }
    }
}

/// SOA RDATA. `minimum` bounds how long resolvers cache our negative answers (RFC 2308).
public struct ZoneSOA: Sendable, Hashable {
    public var mname: String
    public var rname: String
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: String, rname: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// What the zone says about one question, independent of the wire format.
///
/// Every answer other than `.notInZone` is authoritative (the server sets AA). The negative ones carry the
/// snapshot's `soa` in AUTHORITY.
public enum ZoneAnswer: Sendable, Hashable {
    /// Neither under the cluster domain nor a reverse name of an address the snapshot knows: the server forwards
    /// the question upstream.
    case notInZone
    /// NOERROR. An ExternalName answers with its CNAME first; when the target is in the zone the target's records
    /// follow, otherwise the server resolves the target upstream (`ClusterZoneSnapshot.upstreamTarget(of:type:)`).
    case records(answers: [ZoneRecord], additionals: [ZoneRecord])
    /// NOERROR, no answer: the name exists, with no record of the type asked.
    case noData
    /// The name does not exist, nor does any name below it (RFC 8020).
    case nxdomain
}
