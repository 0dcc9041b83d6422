import KubeAPI
import Testing

/// `k8s.io/apimachinery/pkg/util/validation` texts (k8s-service-validation.md §3.1).
@Suite struct NameValidationTests {
    @Test func helperMessagesHaveTheDoubleSpaceBeforeOr() {
        #expect(Msg.dns1123Label.contains("(e.g. 'my-name',  or '123-abc', regex"))
        #expect(Msg.dns1035.contains("(e.g. 'my-name',  or 'abc-123', regex"))
        #expect(NameValidation.inclusiveRange(1, 65535) == "must be between 1 and 65535, inclusive")
        #expect(NameValidation.ipMessage == Msg.ip)
        #expect(NameValidation.cidrMessage == Msg.cidr)
    }

    // MARK: DNS-1035 label (Service names)

    @Test(arguments: ["a", "web", "my-svc-1", "a1", String(repeating: "z", count: 63)])
    func validDNS1035Labels(_ s: String) {
        #expect(NameValidation.dns1035Label(s) == [])
    }

    @Test(arguments: ["", "1abc", "My-Svc", "a.b", "-a", "a-", "a_b", "ábc", "a b"])
    func invalidDNS1035Labels(_ s: String) {
        #expect(NameValidation.dns1035Label(s) == [Msg.dns1035])
    }

    @Test func dns1035TooLong() {
        #expect(NameValidation.dns1035Label(String(repeating: "a", count: 64)) == [Msg.maxLen(63)])
        #expect(NameValidation.dns1035Label("9" + String(repeating: "a", count: 63)) == [Msg.maxLen(63), Msg.dns1035])
    }

    // MARK: DNS-1123 label

    @Test(arguments: ["a", "0", "123-abc", "my-name", String(repeating: "0", count: 63)])
    func validDNS1123Labels(_ s: String) {
        #expect(NameValidation.dns1123Label(s) == [])
    }

    @Test(arguments: ["a.b", "example.com", "a.b.c"])
    func dotsGetTheirOwnMessage(_ s: String) {
        #expect(NameValidation.dns1123Label(s) == ["must not contain dots"])
    }

    @Test(arguments: ["", "A", "-a", "a-", "a_b", "a..b", ".a", "a.", "a.-b"])
    func invalidDNS1123Labels(_ s: String) {
        #expect(NameValidation.dns1123Label(s) == [Msg.dns1123Label])
    }

    @Test func dns1123LabelTooLong() {
        #expect(NameValidation.dns1123Label(String(repeating: "a", count: 64)) == [Msg.maxLen(63)])
        #expect(NameValidation.dns1123Label(String(repeating: "a", count: 63) + "-") == [Msg.maxLen(63), Msg.dns1123Label])
        #expect(NameValidation.dns1123Label(String(repeating: "a", count: 62) + ".b") == [Msg.maxLen(63), "must not contain dots"])
    }

    // MARK: DNS-1123 subdomain

    @Test(arguments: ["a", "example.com", "web-0.web.default.svc", "1.2.3.4"])
    func validSubdomains(_ s: String) {
        #expect(NameValidation.dns1123Subdomain(s) == [])
    }

    @Test(arguments: ["", "Foo.com", "a..b", ".a", "a.", "-a.b", "a.b-", "a_b.c"])
    func invalidSubdomains(_ s: String) {
        #expect(NameValidation.dns1123Subdomain(s) == [Msg.dns1123Subdomain])
    }

    @Test func subdomainTooLong() {
        let ok = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")  // 255
        #expect(NameValidation.dns1123Subdomain(String(ok.prefix(253))) == [])
        #expect(NameValidation.dns1123Subdomain(String(repeating: "a", count: 254)) == [Msg.maxLen(253)])
    }

    // MARK: Qualified names

    @Test(arguments: ["a", "MyName", "my.name", "123-abc", "a_b", "example.com/MyName", "kubernetes.io/h2c", "a/b"])
    func validQualifiedNames(_ s: String) {
        #expect(NameValidation.qualifiedName(s) == [])
    }

    @Test(arguments: [
        ("a/b/c", [Msg.qualifiedNameTooManySlashes]),
        ("/a", ["prefix part must be non-empty"]),
        ("example.com/", ["name part must be non-empty", Msg.qualifiedNamePart]),
        ("", ["name part must be non-empty", Msg.qualifiedNamePart]),
        ("-a", [Msg.qualifiedNamePart]),
        ("a-", [Msg.qualifiedNamePart]),
        ("a b", [Msg.qualifiedNamePart]),
        ("Example.com/a", ["prefix part " + Msg.dns1123Subdomain]),
        ("bad_prefix/a", ["prefix part " + Msg.dns1123Subdomain]),
        ("Bad_Prefix/-a", ["prefix part " + Msg.dns1123Subdomain, Msg.qualifiedNamePart]),
        ("/", ["prefix part must be non-empty", "name part must be non-empty", Msg.qualifiedNamePart]),
    ])
    func invalidQualifiedNames(_ s: String, _ expected: [String]) {
        #expect(NameValidation.qualifiedName(s) == expected)
    }

    @Test func qualifiedNameLengths() {
        #expect(NameValidation.qualifiedName(String(repeating: "a", count: 63)) == [])
        #expect(NameValidation.qualifiedName(String(repeating: "a", count: 64)) == ["name part " + Msg.maxLen(63)])
        #expect(NameValidation.qualifiedName("example.com/" + String(repeating: "a", count: 64)) == ["name part " + Msg.maxLen(63)])
        #expect(NameValidation.qualifiedName(String(repeating: "a", count: 254) + "/a") == ["prefix part " + Msg.maxLen(253)])
    }

    // MARK: Label values

    @Test(arguments: ["", "a", "MyValue", "my_value", "12345", "a.b-c_d", String(repeating: "x", count: 63)])
    func validLabelValues(_ s: String) {
        #expect(NameValidation.labelValue(s) == [])
    }

    @Test(arguments: ["-x", "x-", "_x", "a b", "a/b", "é"])
    func invalidLabelValues(_ s: String) {
        #expect(NameValidation.labelValue(s) == [Msg.labelValue])
    }

    @Test func labelValueTooLong() {
        #expect(NameValidation.labelValue(String(repeating: "x", count: 64)) == [Msg.maxLen(63)])
        #expect(NameValidation.labelValue(String(repeating: "x", count: 63) + "-") == [Msg.maxLen(63), Msg.labelValue])
    }

    // MARK: IANA service names (port names)

    @Test(arguments: ["http", "web-8080", "a", "h2c", "abcdefghijklmno", "1a"])
    func validPortNames(_ s: String) {
        #expect(NameValidation.portName(s) == [])
    }

    @Test(arguments: [
        ("80", [Msg.portLetter]),
        ("", [Msg.portCharset, Msg.portLetter]),
        ("HTTP", [Msg.portCharset, Msg.portLetter]),
        ("Http", [Msg.portCharset]),
        ("my_port", [Msg.portCharset]),
        ("a.b", [Msg.portCharset]),
        ("a--b", [Msg.portConsecutiveHyphens]),
        ("-http", [Msg.portHyphenEnds]),
        ("http-", [Msg.portHyphenEnds]),
        ("-", [Msg.portLetter, Msg.portHyphenEnds]),
        ("abcdefghijklmnop", [Msg.maxLen(15)]),
        ("-abcdefghijklmn--", [Msg.maxLen(15), Msg.portConsecutiveHyphens, Msg.portHyphenEnds]),
        ("1234567890123456", [Msg.maxLen(15), Msg.portLetter]),
    ])
    func invalidPortNames(_ s: String, _ expected: [String]) {
        #expect(NameValidation.portName(s) == expected)
    }

    // MARK: Port numbers

    @Test(arguments: [1, 80, 65535] as [Int64])
    func validPortNumbers(_ n: Int64) {
        #expect(NameValidation.portNumber(n) == [])
    }

    @Test(arguments: [0, -1, 65536, Int64(Int32.max), Int64.min] as [Int64])
    func invalidPortNumbers(_ n: Int64) {
        #expect(NameValidation.portNumber(n) == [Msg.portRange])
    }

    @Test func portNumOrName() {
        #expect(messages(NameValidation.portNumOrName(.int(0), at: "spec.ports[0].targetPort"))
            == ["spec.ports[0].targetPort: Invalid value: 0: \(Msg.portRange)"])
        #expect(messages(NameValidation.portNumOrName(.string("80"), at: "p")) == ["p: Invalid value: \"80\": \(Msg.portLetter)"])
        #expect(NameValidation.portNumOrName(.string("http"), at: "p").isEmpty)
        #expect(NameValidation.portNumOrName(.int(8080), at: "p").isEmpty)
    }

    // MARK: Label maps

    @Test func labelMapErrorsUseThePathWithoutKeyAndSortedKeys() {
        let errors = NameValidation.labels(["b": "-1", "-a": "ok", "good": "fine"], at: "metadata.labels")
        #expect(messages(errors) == [
            "metadata.labels: Invalid value: \"-a\": \(Msg.qualifiedNamePart)",
            "metadata.labels: Invalid value: \"-1\": \(Msg.labelValue)",
        ])
        #expect(NameValidation.labels(nil, at: "x").isEmpty)
        #expect(NameValidation.labels([:], at: "x").isEmpty)
    }
}
