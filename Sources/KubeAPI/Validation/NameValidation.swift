import IPAM

/// The name and value formats of `k8s.io/apimachinery/pkg/util/validation`, with its exact messages.
/// Each function returns the problems found, empty when the value is valid.
public enum NameValidation {
    static let dns1035LabelMessage =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123LabelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let qualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    /// The message for a bad IP address.
    public static let ipMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    /// The message for a bad CIDR.
    public static let cidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"

    static func maxLength(_ n: Int) -> String { "must be no more than \(n) characters" }
    public static func inclusiveRange(_ lo: Int, _ hi: Int) -> String { "must be between \(lo) and \(hi), inclusive" }

    private static func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isAlnum(_ c: UInt8) -> Bool { isLower(c) || isDigit(c) || (c >= 65 && c <= 90) }
    private static func isLowerAlnum(_ c: UInt8) -> Bool { isLower(c) || isDigit(c) }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func matchesDNS1123Label(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return s.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func matchesDNS1123Subdomain(_ s: String) -> Bool {
        let labels = s.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { matchesDNS1123Label(Substring($0).utf8) }
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    static func matchesQualifiedNamePart(_ s: String) -> Bool {
        let u = s.utf8
        guard let first = u.first, let last = u.last, isAlnum(first), isAlnum(last) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Service names.
    public static func dns1035Label(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 63 { errs.append(maxLength(63)) }
        let u = s.utf8
        let ok = u.first.map(isLower) == true && u.last.map(isLowerAlnum) == true
            && u.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        if !ok { errs.append(dns1035LabelMessage) }
        return errs
    }

    /// Namespace names, port names, container names, hostnames.
    public static func dns1123Label(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 63 { errs.append(maxLength(63)) }
        if !matchesDNS1123Label(Substring(s).utf8) {
            errs.append(matchesDNS1123Subdomain(s) ? "must not contain dots" : dns1123LabelMessage)
        }
        return errs
    }

    /// Pod names, externalName, label key prefixes.
    public static func dns1123Subdomain(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 253 { errs.append(maxLength(253)) }
        if !matchesDNS1123Subdomain(s) { errs.append(dns1123SubdomainMessage) }
        return errs
    }

    /// Label keys, annotation keys, `appProtocol`: an optional DNS subdomain prefix and `/`, then a name.
    public static func qualifiedName(_ s: String) -> [String] {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        var errs: [String] = []
        let name: String
        switch parts.count {
        case 1:
            name = s
        case 2:
            let prefix = String(parts[0])
            name = String(parts[1])
            if prefix.isEmpty {
                errs.append("prefix part must be non-empty")
            } else {
                errs += dns1123Subdomain(prefix).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + qualifiedNameMessage
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errs.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errs.append("name part " + maxLength(63))
        }
        if !matchesQualifiedNamePart(name) { errs.append("name part " + qualifiedNameMessage) }
        return errs
    }

    public static func labelValue(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 63 { errs.append(maxLength(63)) }
        if !s.isEmpty && !matchesQualifiedNamePart(s) { errs.append(labelValueMessage) }
        return errs
    }

    /// IANA_SVC_NAME: a named port (`targetPort`, container port names).
    public static func portName(_ s: String) -> [String] {
        var errs: [String] = []
        let u = s.utf8
        if u.count > 15 { errs.append(maxLength(15)) }
        if u.isEmpty || !u.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }) {
            errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !u.contains(where: isLower) { errs.append("must contain at least one letter (a-z)") }
        if s.contains("--") { errs.append("must not contain consecutive hyphens") }
        if s.hasPrefix("-") || s.hasSuffix("-") { errs.append("must not begin or end with a hyphen") }
        return errs
    }

    public static func portNumber(_ n: Int64) -> [String] {
        (1...65535).contains(n) ? [] : [inclusiveRange(1, 65535)]
    }

    /// A label map at `path` (no key subscript, as upstream).
    public static func labels(_ labels: [String: String]?, at path: FieldPath) -> [FieldError] {
        var errs: [FieldError] = []
        for key in (labels ?? [:]).keys.sorted() {
            for msg in qualifiedName(key) { errs.append(.invalid(path, .string(key), msg)) }
            for msg in labelValue(labels![key]!) { errs.append(.invalid(path, .string(labels![key]!), msg)) }
        }
        return errs
    }

    /// Checks a `number or IANA name` port (`targetPort`, probe ports).
    public static func portNumOrName(_ port: IntOrString, at path: FieldPath) -> [FieldError] {
        switch port {
        case .int(let n): portNumber(Int64(n)).map { .invalid(path, .int(Int64(n)), $0) }
        case .string(let s): portName(s).map { .invalid(path, .string(s), $0) }
        }
    }
}

