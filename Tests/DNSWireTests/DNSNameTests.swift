import Testing
@testable import DNSWire

@Suite struct DNSNameTests {
    @Test(arguments: [
        ("svc1.testns.svc.cluster.local", "svc1.testns.svc.cluster.local."),
        ("svc1.testns.svc.cluster.local.", "svc1.testns.svc.cluster.local."),
        (".", "."),
        ("a", "a."),
        ("a\\.b.c", "a\\.b.c."),
        ("a\\\\b.c", "a\\\\b.c."),
        ("\\032x.y", "\\032x.y."),
        ("\\065.b", "A.b."),
    ])
    func parsesAndDescribes(_ text: String, _ expected: String) throws {
        let n = try DNSName(text)
        #expect(n.description == expected)
        #expect(try DNSName(n.description).spellingEquals(n))
    }

    @Test func labelsAndLengths() throws {
        let n = try DNSName("www.Example.COM")
        #expect(n.labelCount == 3)
        #expect(n.labelStrings == ["www", "Example", "COM"])
        #expect(n.wireLength == 17)
        #expect(n.wireFormat == [3] + Array("www".utf8) + [7] + Array("Example".utf8) + [3] + Array("COM".utf8) + [0])
        #expect(DNSName.root.wireLength == 1)
        #expect(DNSName.root.isRoot)
        #expect(DNSName.root.labelCount == 0)
        #expect(n.parent == name("example.com"))
        #expect(DNSName.root.parent == nil)
        #expect(try n.prepending(label: Array("_http".utf8)).description == "_http.www.Example.COM.")
        #expect(try DNSName(labels: [Array("a".utf8), Array("b".utf8)]) == name("a.b"))
    }

    @Test func equalityAndHashIgnoreCaseButSpellingIsKept() throws {
        let mixed = try DNSName("SvC1.TeStNs.SvC.cLuStEr.LoCaL")
        let lower = try DNSName("svc1.testns.svc.cluster.local")
        #expect(mixed == lower)
        #expect(mixed.hashValue == lower.hashValue)
        #expect(Set([mixed, lower]).count == 1)
        #expect(!mixed.spellingEquals(lower))
        #expect(mixed.description == "SvC1.TeStNs.SvC.cLuStEr.LoCaL.")
        #expect(mixed.lowercased().spellingEquals(lower))
        #expect(mixed.lowercasedKey == lower.lowercasedKey)
        // Only ASCII letters fold: 0xC4 and 0xE4 stay different.
        #expect(try DNSName("\\196") != DNSName("\\228"))
        #expect(try DNSName("a-b") != DNSName("a.b"))
    }

    @Test func subdomains() {
        let zone = name("cluster.local")
        #expect(name("svc1.testns.svc.Cluster.Local").isSubdomain(of: zone))
        #expect(zone.isSubdomain(of: zone))
        #expect(zone.isSubdomain(of: .root))
        #expect(!name("xcluster.local").isSubdomain(of: zone))
        #expect(!name("local").isSubdomain(of: zone))
        #expect(!name("cluster.local.example").isSubdomain(of: zone))
    }

    @Test func limits() throws {
        let l63 = String(repeating: "a", count: 63)
        _ = try DNSName(l63)
        #expect(throws: DNSWireError.labelTooLong(offset: 0, length: 64)) {
            try DNSName(String(repeating: "a", count: 64))
        }
        #expect(throws: DNSWireError.labelTooLong(offset: 2, length: 64)) {
            try DNSName("b." + String(repeating: "a", count: 64))
        }
        // 63+63+63+61 bytes of labels + 4 length bytes + root = 255: the largest legal name.
        let max = [l63, l63, l63, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(try DNSName(max).wireLength == 255)
        #expect(throws: DNSWireError.nameTooLong(offset: 0, length: 256)) { try DNSName(max + "b") }
        #expect(throws: DNSWireError.emptyLabel(offset: 2)) { try DNSName("a..b") }
        #expect(throws: DNSWireError.emptyLabel(offset: 0)) { try DNSName(".a") }
        #expect(throws: DNSWireError.emptyLabel(offset: 0)) { try DNSName("") }
        #expect(throws: DNSWireError.invalidEscape(offset: 1)) { try DNSName("a\\") }
        #expect(throws: DNSWireError.invalidEscape(offset: 0)) { try DNSName("\\256") }
        #expect(throws: DNSWireError.invalidEscape(offset: 0)) { try DNSName("\\1") }
        #expect(throws: DNSWireError.labelTooLong(offset: 0, length: 64)) {
            try DNSName(labels: [[UInt8](repeating: 1, count: 64)])
        }
    }

    @Test func typeAndClassMnemonics() {
        #expect(DNSRecordType("aaaa") == .aaaa)
        #expect(DNSRecordType("TYPE65280") == DNSRecordType(65280))
        #expect(DNSRecordType(65280).description == "TYPE65280")
        #expect(DNSRecordType.srv.description == "SRV")
        #expect(DNSRecordType("bogus") == nil)
        #expect(DNSClass(42).description == "CLASS42")
        #expect(DNSClass.in.description == "IN")
    }
}
