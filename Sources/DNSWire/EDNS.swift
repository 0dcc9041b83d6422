/// EDNS(0) parameters: the OPT pseudo-record of RFC 6891, decoded.
///
/// The extended RCODE bits are not stored here: they are merged into `DNSHeader.rcode` (12 bits) when
/// parsing and split back out when writing, so there is one source of truth for the response code.
public struct EDNS: Hashable, Sendable {
    /// The sender's UDP payload size (the OPT CLASS field), as sent; `responseSizeLimit` clamps it.
    public var udpPayloadSize: UInt16
    /// EDNS version; 0 is the only one defined. A server answers BADVERS to higher ones.
    public var version: UInt8
    /// DO: the client wants DNSSEC records.
    public var dnssecOK: Bool
    /// The 15 flag bits other than DO; must be zero, kept so messages round-trip exactly.
    public var reservedFlags: UInt16
    /// Options in wire order, their data undecoded.
    public var options: [EDNSOption]

    /// 1232 is the DNS flag day 2020 recommendation: it avoids IP fragmentation on common paths.
    public init(
        udpPayloadSize: UInt16 = 1232, version: UInt8 = 0, dnssecOK: Bool = false, reservedFlags: UInt16 = 0,
        options: [EDNSOption] = []
    ) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.reservedFlags = reservedFlags & 0x7FFF
        self.options = options
    }

    /// The largest UDP response this sender accepts: its payload size, but never below 512 (RFC 6891 §6.2.5
    /// says to treat smaller values as 512).
    public var responseSizeLimit: Int { max(512, Int(udpPayloadSize)) }

    /// Bytes the OPT record takes on the wire.
    public var wireLength: Int { options.reduce(11) { $0 + 4 + $1.data.count } }
}

/// One EDNS option (code, length, data).
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]

    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }

    public static let nsidCode: UInt16 = 3
    public static let clientSubnetCode: UInt16 = 8
    public static let cookieCode: UInt16 = 10
    public static let paddingCode: UInt16 = 12
    public static let extendedErrorCode: UInt16 = 15
}
