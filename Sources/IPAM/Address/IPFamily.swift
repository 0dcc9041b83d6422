/// An IP address family, spelled as Kubernetes spells it (`IPv4`, `IPv6`).
///
/// This is an open set on purpose: API objects carry families as strings, and a value such as `IPv5` must survive
/// decoding so that validation can reject it with a field path instead of the decoder failing on it.
public struct IPFamily: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let ipv4 = IPFamily("IPv4")
    public static let ipv6 = IPFamily("IPv6")

    /// The families an address can have; anything else is only a string that validation rejects.
    public static let supported: [IPFamily] = [.ipv4, .ipv6]

    public var isSupported: Bool { self == .ipv4 || self == .ipv6 }

    /// The other supported family (IPv4 ↔ IPv6).
    public var other: IPFamily { self == .ipv4 ? .ipv6 : .ipv4 }

    /// Number of bits in an address of this family.
    public var bitWidth: Int { self == .ipv6 ? 128 : 32 }

    public var description: String { rawValue }

    public static func < (lhs: IPFamily, rhs: IPFamily) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
