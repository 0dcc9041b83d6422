/// An IPv4 address as a 32-bit integer in host order.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad notation. Leading zeros are refused ("010.0.0.1" is ambiguous: octal to some tools).
    public init(parsing string: some StringProtocol) throws(AddressParseError) {
        guard let parsed = Self.parse(Substring(string).utf8) else {
            throw AddressParseError(input: String(string), expected: "IPv4 address", reason: Self.explain(String(string)))
        }
        value = parsed
    }

    /// Returns nil when `string` is not a valid dotted quad.
    public init?(_ string: some StringProtocol) {
        guard let parsed = Self.parse(Substring(string).utf8) else { return nil }
        value = parsed
    }

    static func parse(_ bytes: Substring.UTF8View) -> UInt32? {
        var result: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var firstDigitIsZero = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 0 { firstDigitIsZero = byte == UInt8(ascii: "0") } else if firstDigitIsZero { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || octet > 255 { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, dots < 3 else { return nil }
                result = result << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            default:
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return result << 8 | octet
    }

    private static func explain(_ string: String) -> String {
        if string.isEmpty { return "empty string" }
        let parts = string.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count != 4 { return "expected 4 dot-separated octets, found \(parts.count)" }
        for part in parts {
            if part.isEmpty { return "empty octet" }
            if !part.allSatisfy({ $0.isASCII && $0.isNumber }) { return "octet \"\(part)\" is not a decimal number" }
            if part.count > 1 && part.first == "0" { return "octet \"\(part)\" has a leading zero" }
            if part.count > 3 || Int(part)! > 255 { return "octet \(part) is greater than 255" }
        }
        return "not a dotted quad"
    }

    public var octets: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    public var description: String {
        let o = octets
        return "\(o.0).\(o.1).\(o.2).\(o.3)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}
