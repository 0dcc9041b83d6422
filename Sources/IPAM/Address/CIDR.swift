/// A network in CIDR notation: a base address and a prefix length. The base always has its host bits cleared.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address (host bits zero).
    public let network: IPAddress
    public let prefixLength: Int

    /// Builds the network containing `address` with the given prefix; host bits of `address` are cleared.
    public init(address: IPAddress, prefixLength: Int) {
        precondition(prefixLength >= 0 && prefixLength <= address.family.bitWidth, "prefix length out of range")
        self.prefixLength = prefixLength
        let mask = CIDR.mask(bits: address.family.bitWidth, prefixLength: prefixLength)
        self.network = IPAddress(family: address.family, integerValue: address.integerValue & mask)
    }

    /// Parses `address/prefix`. Host bits are cleared, as kube-apiserver does for `--service-cluster-ip-range`;
    /// `isCanonical(_:)` tells whether the input had them set.
    public init(parsing string: some StringProtocol) throws(AddressParseError) {
        let text = String(string)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw AddressParseError(input: text, expected: "CIDR", reason: "expected ADDRESS/PREFIX-LENGTH")
        }
        let address: IPAddress
        do {
            address = try IPAddress(parsing: parts[0])
        } catch {
            throw AddressParseError(input: text, expected: "CIDR", reason: error.description)
        }
        guard let prefix = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              prefix >= 0, prefix <= address.family.bitWidth
        else {
            throw AddressParseError(
                input: text, expected: "CIDR",
                reason: "prefix length \"\(parts[1])\" is not a number from 0 to \(address.family.bitWidth)")
        }
        self.init(address: address, prefixLength: prefix)
    }

    public init?(_ string: some StringProtocol) {
        guard let parsed = try? CIDR(parsing: string) else { return nil }
        self = parsed
    }

    /// True when `string` parses and already has its host bits cleared.
    public static func isCanonical(_ string: some StringProtocol) -> Bool {
        guard let cidr = CIDR(string) else { return false }
        return cidr.description == String(string)
    }

    public var family: IPFamily { network.family }

    /// Number of host bits (address width minus prefix length).
    public var hostBits: Int { family.bitWidth - prefixLength }

    /// Number of addresses in the network, saturating at `UInt128.max` for an IPv6 /0.
    public var addressCount: UInt128 {
        hostBits >= 128 ? UInt128.max : UInt128(1) << UInt128(hostBits)
    }

    public var description: String { "\(network)/\(prefixLength)" }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.family == family else { return false }
        let mask = CIDR.mask(bits: family.bitWidth, prefixLength: prefixLength)
        return address.integerValue & mask == network.integerValue
    }

    /// True when every address of `other` is in this network.
    public func contains(_ other: CIDR) -> Bool {
        other.family == family && other.prefixLength >= prefixLength && contains(other.network)
    }

    /// True when the two networks share at least one address.
    public func overlaps(_ other: CIDR) -> Bool { contains(other.network) || other.contains(network) }

    /// The address at `offset` from the network address, or nil when it lies outside the network.
    public func address(atOffset offset: UInt128) -> IPAddress? {
        guard hostBits >= 128 || offset < addressCount else { return nil }
        return network.advanced(by: offset)
    }

    /// The distance of `address` from the network address, or nil when it is outside the network.
    public func offset(of address: IPAddress) -> UInt128? {
        guard contains(address) else { return nil }
        return address.integerValue - network.integerValue
    }

    /// The last address of the network (the IPv4 broadcast address).
    public var lastAddress: IPAddress {
        let mask = CIDR.mask(bits: family.bitWidth, prefixLength: prefixLength)
        let widthMask: UInt128 = family.bitWidth == 128 ? .max : (UInt128(1) << UInt128(family.bitWidth)) - 1
        return IPAddress(family: family, integerValue: network.integerValue | (~mask & widthMask))
    }

    /// The addresses of the network in order, lazily.
    public var addresses: some Sequence<IPAddress> {
        let first = network.integerValue
        let last = lastAddress.integerValue
        let family = family
        return sequence(state: Optional(first)) { (next: inout UInt128?) -> IPAddress? in
            guard let current = next else { return nil }
            next = current == last ? nil : current + 1
            return IPAddress(family: family, integerValue: current)
        }
    }

    static func mask(bits: Int, prefixLength: Int) -> UInt128 {
        if prefixLength == 0 { return 0 }
        let widthMask: UInt128 = bits == 128 ? .max : (UInt128(1) << UInt128(bits)) - 1
        return (widthMask << UInt128(bits - prefixLength)) & widthMask
    }
}
