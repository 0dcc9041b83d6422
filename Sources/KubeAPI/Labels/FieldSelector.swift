/// A parsed field selector (`?fieldSelector=metadata.name=web,status.phase!=Failed`): `=`, `==` or `!=` on named
/// fields, ANDed. Which fields exist depends on the resource (`APIObject.selectableFields`).
public struct FieldSelector: Hashable, Sendable, CustomStringConvertible {
    public struct Requirement: Hashable, Sendable {
        public var field: String
        public var negated: Bool
        public var value: String
    }

    /// Sorted by their text, as upstream sorts terms.
    public let requirements: [Requirement]

    public static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the string syntax, with upstream's messages. Values may escape `\`, `,` and `=` with a backslash.
    public init(parsing text: String) throws(SelectorError) {
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                current.append(c)
                escaped = true
            } else if c == "," {
                terms.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        terms.append(current)
        var requirements: [Requirement] = []
        for term in terms.filter({ !$0.isEmpty }).sorted() {
            requirements.append(try Self.parseTerm(term, whole: text))
        }
        self.requirements = requirements
    }

    private static func parseTerm(_ term: String, whole: String) throws(SelectorError) -> Requirement {
        let chars = Array(term)
        for i in chars.indices {
            for (op, negated) in [("!=", true), ("==", false), ("=", false)] {
                let opChars = Array(op)
                guard i + opChars.count <= chars.count, Array(chars[i..<(i + opChars.count)]) == opChars else { continue }
                let field = String(chars[..<i])
                let raw = String(chars[(i + opChars.count)...])
                return Requirement(field: field, negated: negated, value: try unescape(raw))
            }
        }
        throw SelectorError("invalid selector: '\(whole)'; can't understand '\(term)'")
    }

    private static func unescape(_ s: String) throws(SelectorError) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," || c == "=" {
                throw SelectorError("invalid field selector: unescaped character in value: \(c.unicodeScalars.first!.value)")
            } else {
                out.append(c)
            }
        }
        if escaped { throw SelectorError("invalid field selector: invalid escape sequence: \\") }
        return out
    }

    /// Throws when a requirement names a field the resource does not support.
    public func validate(supported fields: [String]) throws(SelectorError) {
        for r in requirements where !fields.contains(r.field) {
            throw SelectorError(
                "\(BadValue.goQuote(r.field)) is not a known field selector: only "
                    + fields.map(BadValue.goQuote).joined(separator: ", "))
        }
    }

    public var isEverything: Bool { requirements.isEmpty }

    /// True when every requirement holds; `value(field)` returns the object's value of a field.
    public func matches(_ value: (String) -> String?) -> Bool {
        for r in requirements {
            let v = value(r.field) ?? ""
            if r.negated ? v == r.value : v != r.value { return false }
        }
        return true
    }

    /// The value `metadata.name=` names, when the selector pins a single name (as `kubectl get NAME -w` does).
    public var exactName: String? { requirements.first { $0.field == "metadata.name" && !$0.negated }?.value }

    public var description: String {
        requirements.map { r in
            let escaped = r.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
                .replacingOccurrences(of: "=", with: "\\=")
            return r.field + (r.negated ? "!=" : "=") + escaped
        }.joined(separator: ",")
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
