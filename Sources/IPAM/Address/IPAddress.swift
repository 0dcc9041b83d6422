/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family: text containing `:` is IPv6, anything else IPv4.
    public init(parsing string: some StringProtocol) throws(AddressParseError) {
        if string.contains(":") {
            self = .v6(try IPv6Address(parsing: string))
        } else if string.contains(".") {
            self = .v4(try IPv4Address(parsing: string))
        } else {
            throw AddressParseError(
                input: String(string), expected: "IP address",
                reason: string.isEmpty ? "empty string" : "neither a dotted quad nor an IPv6 address")
        }
    }

    /// Returns nil when `string` is not an address of either family.
    public init?(_ string: some StringProtocol) {
        guard let parsed = try? IPAddress(parsing: string) else { return nil }
        self = parsed
    }

    /// Builds an address of `family` from its integer value (truncated to the family's width).
    public init(family: IPFamily, integerValue: UInt128) {
        if family == .ipv6 {
            self = .v6(IPv6Address(integerValue))
        } else {
            self = .v4(IPv4Address(UInt32(truncatingIfNeeded: integerValue)))
        }
    }

    public var family: IPFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    /// The address as an unsigned integer, in the low bits for IPv4.
    public var integerValue: UInt128 {
        switch self {
        case .v4(let a): UInt128(a.value)
        case .v6(let a): a.value
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }

    /// Orders IPv4 before IPv6, then numerically.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    /// The address `distance` after this one, wrapping within the family's width.
    public func advanced(by distance: UInt128) -> IPAddress {
        IPAddress(family: family, integerValue: integerValue &+ distance)
    }
}
