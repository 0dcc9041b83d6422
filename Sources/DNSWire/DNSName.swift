/// A domain name as a sequence of labels of raw bytes.
///
/// The name keeps the exact spelling it was parsed or built with, because a server must echo the query's
/// case (DNS 0x20: clients randomise letter case and check the answer carries it back). Equality and hashing
/// ignore ASCII case, as RFC 1035 name matching does, so a name can key a dictionary of cluster records
/// directly; `spellingEquals(_:)` compares the exact bytes.
///
/// Limits are enforced at construction: labels 1...63 bytes, at most 255 bytes in wire form (length bytes
/// and the root's zero byte included). Names are always absolute.
public struct DNSName: Sendable, CustomStringConvertible {
    /// Length-prefixed labels without the terminating zero byte (`3 www 7 example 3 com`); empty for the root.
    /// Kept in wire form so the encoder copies whole runs of labels instead of rebuilding them.
    @usableFromInline internal let wire: [UInt8]

    /// Trusts `wire` to be well-formed; only the parser and the checked initialisers call it.
    @inlinable internal init(uncheckedWire wire: [UInt8]) { self.wire = wire }

    /// The root name, `.`.
    public static let root = DNSName(uncheckedWire: [])

    /// Parses presentation format: dot-separated labels, an optional trailing dot, `.` for the root.
    /// `\.` and `\\` escape a literal dot or backslash, `\DDD` is a byte in decimal. Other bytes (including
    /// UTF-8) are taken as they are: this is no IDNA converter.
    public init(_ string: String) throws(DNSWireError) {
        let utf8 = Array(string.utf8)
        if utf8 == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        guard !utf8.isEmpty else { throw .emptyLabel(offset: 0) }
        var wire: [UInt8] = []
        wire.reserveCapacity(utf8.count + 1)
        var labelStart = 0  // index of the current label's length byte in `wire`
        var labelTextStart = 0  // the same label's first character in the text, for error offsets
        var labelOpen = true
        wire.append(0)
        func closeLabel(at textOffset: Int) throws(DNSWireError) {
            let length = wire.count - labelStart - 1
            guard length > 0 else { throw .emptyLabel(offset: textOffset) }
            guard length <= 63 else { throw .labelTooLong(offset: labelTextStart, length: length) }
            wire[labelStart] = UInt8(length)
        }
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            if !labelOpen {
                labelStart = wire.count
                labelTextStart = i
                wire.append(0)
                labelOpen = true
            }
            switch c {
            case UInt8(ascii: "."):
                try closeLabel(at: i)
                labelOpen = false  // a final dot just makes the name absolute
                i += 1
            case UInt8(ascii: "\\"):
                guard i + 1 < utf8.count else { throw .invalidEscape(offset: i) }
                let d0 = utf8[i + 1]
                if d0 >= UInt8(ascii: "0"), d0 <= UInt8(ascii: "9") {
                    guard i + 3 < utf8.count else { throw .invalidEscape(offset: i) }
                    var value = 0
                    for k in 1...3 {
                        let d = utf8[i + k]
                        guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { throw .invalidEscape(offset: i) }
                        value = value * 10 + Int(d - UInt8(ascii: "0"))
                    }
                    guard value <= 255 else { throw .invalidEscape(offset: i) }
                    wire.append(UInt8(value))
                    i += 4
                } else {
                    wire.append(d0)
                    i += 2
                }
            default:
                wire.append(c)
                i += 1
            }
        }
        if labelOpen { try closeLabel(at: utf8.count) }
        guard wire.count + 1 <= 255 else { throw .nameTooLong(offset: 0, length: wire.count + 1) }
        self.wire = wire
    }

    /// Builds a name from labels, leftmost first. Each label is 1...63 bytes, the whole at most 255.
    public init<Label: Collection<UInt8>>(labels: some Sequence<Label>) throws(DNSWireError) {
        var wire: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel(offset: wire.count) }
            guard label.count <= 63 else { throw .labelTooLong(offset: wire.count, length: label.count) }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
        }
        guard wire.count + 1 <= 255 else { throw .nameTooLong(offset: 0, length: wire.count + 1) }
        self.wire = wire
    }

    public var isRoot: Bool { wire.isEmpty }

    /// Length in uncompressed wire form, including the root's zero byte (1 for the root, at most 255).
    public var wireLength: Int { wire.count + 1 }

    /// The uncompressed wire form, terminating zero included.
    public var wireFormat: [UInt8] { wire + [0] }

    public var labelCount: Int {
        var n = 0
        var i = 0
        while i < wire.count {
            n += 1
            i += 1 + Int(wire[i])
        }
        return n
    }

    /// The labels, leftmost first, in their original spelling.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = 0
        while i < wire.count {
            let length = Int(wire[i])
            result.append(wire[(i + 1)..<(i + 1 + length)])
            i += 1 + length
        }
        return result
    }

    /// The labels as strings (for display and tests; a server should match on bytes).
    public var labelStrings: [String] { labels.map { String(decoding: $0, as: UTF8.self) } }

    /// The name with ASCII letters folded to lower case.
    public func lowercased() -> DNSName { DNSName(uncheckedWire: lowercasedKey) }

    /// The case-folded wire form (labels without the root byte): the key equality and hashing use.
    public var lowercasedKey: [UInt8] { wire.map(asciiLowercase) }

    /// True when both names have exactly the same bytes, case included.
    public func spellingEquals(_ other: DNSName) -> Bool { wire == other.wire }

    /// True when `self` is `zone` or a name below it (case-insensitively, on label boundaries).
    public func isSubdomain(of zone: DNSName) -> Bool {
        let start = wire.count - zone.wire.count
        guard start >= 0 else { return false }
        var i = 0
        while i < start { i += 1 + Int(wire[i]) }
        guard i == start else { return false }
        for k in 0..<zone.wire.count where asciiLowercase(wire[start + k]) != asciiLowercase(zone.wire[k]) {
            return false
        }
        return true
    }

    /// The name without its leftmost label; nil for the root.
    public var parent: DNSName? {
        guard !wire.isEmpty else { return nil }
        return DNSName(uncheckedWire: Array(wire[(1 + Int(wire[0]))...]))
    }

    /// `label.self`. Throws when the label is empty, over 63 bytes, or the result over 255 bytes.
    public func prepending(label: some Collection<UInt8>) throws(DNSWireError) -> DNSName {
        guard !label.isEmpty else { throw .emptyLabel(offset: 0) }
        guard label.count <= 63 else { throw .labelTooLong(offset: 0, length: label.count) }
        guard wire.count + label.count + 2 <= 255 else {
            throw .nameTooLong(offset: 0, length: wire.count + label.count + 2)
        }
        var w: [UInt8] = [UInt8(label.count)]
        w.reserveCapacity(wire.count + label.count + 1)
        w.append(contentsOf: label)
        w.append(contentsOf: wire)
        return DNSName(uncheckedWire: w)
    }

    /// Dotted absolute presentation form (`www.example.com.`, `.` for the root). Dots and backslashes inside
    /// labels are escaped with `\`, bytes outside printable ASCII as `\DDD`, so the text parses back to the
    /// same name.
    public var description: String {
        if wire.isEmpty { return "." }
        var out: [UInt8] = []
        out.reserveCapacity(wire.count + 1)
        var i = 0
        while i < wire.count {
            let length = Int(wire[i])
            for b in wire[(i + 1)..<(i + 1 + length)] {
                if b == UInt8(ascii: ".") || b == UInt8(ascii: "\\") {
                    out.append(UInt8(ascii: "\\"))
                    out.append(b)
                } else if b > 0x20, b < 0x7F {
                    out.append(b)
                } else {
                    out.append(UInt8(ascii: "\\"))
                    out.append(UInt8(ascii: "0") + b / 100)
                    out.append(UInt8(ascii: "0") + (b / 10) % 10)
                    out.append(UInt8(ascii: "0") + b % 10)
                }
            }
            out.append(UInt8(ascii: "."))
            i += 1 + length
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension DNSName: Hashable {
    /// Case-insensitive (ASCII only, as RFC 4343 says): `SvC1.TeStNs` equals `svc1.testns`.
    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        return lhs.wire.withUnsafeBufferPointer { a in
            rhs.wire.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i] != b[i] && asciiLowercase(a[i]) != asciiLowercase(b[i]) {
                    return false
                }
                return true
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        // Eight folded bytes per combine: per-byte combines would dominate lookups of long names.
        hasher.combine(wire.count)
        wire.withUnsafeBufferPointer { bytes in
            var word: UInt64 = 0
            var n = 0
            for b in bytes {
                word = word << 8 | UInt64(asciiLowercase(b))
                n += 1
                if n == 8 {
                    hasher.combine(word)
                    word = 0
                    n = 0
                }
            }
            if n > 0 { hasher.combine(word) }
        }
    }
}

/// A-Z to a-z; every other byte unchanged (RFC 4343: only ASCII letters are case-insensitive).
@inline(__always) @usableFromInline
func asciiLowercase(_ b: UInt8) -> UInt8 {
    b &- 0x41 < 26 ? b | 0x20 : b
}
