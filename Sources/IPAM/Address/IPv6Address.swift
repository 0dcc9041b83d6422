/// An IPv6 address as a 128-bit integer in host order.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt128

    public init(_ value: UInt128) { self.value = value }

    /// Parses RFC 4291 text: eight hex groups, at most one `::`, and an optional dotted-quad tail. Zones are refused.
    public init(parsing string: some StringProtocol) throws(AddressParseError) {
        switch Self.parse(String(string)) {
        case .success(let v): value = v
        case .failure(let reason): throw AddressParseError(input: String(string), expected: "IPv6 address", reason: reason.text)
        }
    }

    public init?(_ string: some StringProtocol) {
        guard case .success(let v) = Self.parse(String(string)) else { return nil }
        value = v
    }

    struct Reason: Error { var text: String }

    static func parse(_ string: String) -> Result<UInt128, Reason> {
        if string.isEmpty { return .failure(Reason(text: "empty string")) }
        if string.contains("%") { return .failure(Reason(text: "zones are not allowed")) }
        let halves = string.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        if halves.count > 2 { return .failure(Reason(text: "\"::\" may appear only once")) }
        let compressed = halves.count == 2

        func groups(_ part: String, allowIPv4Tail: Bool) -> Result<[UInt16], Reason> {
            if part.isEmpty { return .success([]) }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (i, field) in fields.enumerated() {
                if field.isEmpty { return .failure(Reason(text: "empty group")) }
                if i == fields.count - 1 && allowIPv4Tail && field.contains(".") {
                    guard let v4 = IPv4Address(field) else {
                        return .failure(Reason(text: "bad embedded IPv4 address \"\(field)\""))
                    }
                    out.append(UInt16(v4.value >> 16))
                    out.append(UInt16(v4.value & 0xffff))
                    continue
                }
                guard field.utf8.count <= 4, let g = UInt16(field, radix: 16),
                      field.allSatisfy({ $0.isHexDigit })
                else { return .failure(Reason(text: "group \"\(field)\" is not 1 to 4 hex digits")) }
                out.append(g)
            }
            return .success(out)
        }

        let head: [UInt16]
        let tail: [UInt16]
        switch groups(halves[0], allowIPv4Tail: !compressed) {
        case .success(let g): head = g
        case .failure(let r): return .failure(r)
        }
        if compressed {
            switch groups(halves[1], allowIPv4Tail: true) {
            case .success(let g): tail = g
            case .failure(let r): return .failure(r)
            }
            if head.count + tail.count > 7 {
                return .failure(Reason(text: "too many groups for \"::\" to stand for any"))
            }
        } else {
            tail = []
            if head.count != 8 { return .failure(Reason(text: "expected 8 groups, found \(head.count)")) }
        }
        var all = head
        all.append(contentsOf: repeatElement(0, count: 8 - head.count - tail.count))
        all.append(contentsOf: tail)
        var v: UInt128 = 0
        for g in all { v = v << 16 | UInt128(g) }
        return .success(v)
    }

    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] {
        (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(112 - 16 * $0)) }
    }

    /// True for `::ffff:a.b.c.d`.
    public var isIPv4Mapped: Bool { value >> 32 == 0xffff }

    /// RFC 5952 canonical text: lower-case hex, no leading zeros, the longest run (two or more, leftmost on a tie)
    /// of zero groups as `::`, and IPv4-mapped addresses with a dotted-quad tail.
    public var description: String {
        if isIPv4Mapped {
            return "::ffff:" + IPv4Address(UInt32(truncatingIfNeeded: value)).description
        }
        let g = groups
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(g[$0], radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { lhs.value < rhs.value }
}
