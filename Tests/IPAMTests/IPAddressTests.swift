import Testing
@testable import IPAM

@Suite struct IPv4AddressTests {
    @Test(arguments: ["0.0.0.0", "10.96.0.1", "255.255.255.255", "192.168.1.10"])
    func roundTrips(_ text: String) throws {
        #expect(try IPv4Address(parsing: text).description == text)
    }

    @Test func valueIsBigEndianNumber() throws {
        #expect(try IPv4Address(parsing: "10.96.0.1").value == 0x0A60_0001)
    }

    @Test(arguments: [
        ("10.0.0.256", "octet 256 is greater than 255"),
        ("010.0.0.1", "leading zero"),
        ("10.0.0", "expected 4 dot-separated octets, found 3"),
        ("10.0.0.1.2", "expected 4 dot-separated octets, found 5"),
        ("10..0.1", "empty octet"),
        ("a.b.c.d", "is not a decimal number"),
        ("", "empty string"),
        (" 10.0.0.1", "is not a decimal number"),
    ])
    func rejectsWithReason(_ text: String, _ reason: String) {
        #expect(throws: AddressParseError.self) { try IPv4Address(parsing: text) }
        do {
            _ = try IPv4Address(parsing: text)
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(error.description.contains("\"\(text)\""))
        }
    }
}

@Suite struct IPv6AddressTests {
    // RFC 5952 section 4 examples, and edge cases of "::".
    @Test(arguments: [
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:DB8::AB", "2001:db8::ab"),
        ("::", "::"),
        ("::1", "::1"),
        ("fd00::", "fd00::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("::ffff:a00:1", "::ffff:10.0.0.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
    ])
    func canonicalForm(_ input: String, _ canonical: String) throws {
        #expect(try IPv6Address(parsing: input).description == canonical)
    }

    @Test(arguments: [
        "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1:::2",
        "fe80::1%eth0", "g::", "::1.2.3", "1:2:3:4:5:6:7:8::", "", "::ffff:1.2.3.4:5",
    ])
    func rejects(_ input: String) {
        #expect(throws: AddressParseError.self) { try IPv6Address(parsing: input) }
    }

    @Test func errorNamesTheBadGroup() {
        do {
            _ = try IPv6Address(parsing: "fd00::xyz")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "invalid IPv6 address \"fd00::xyz\": group \"xyz\" is not 1 to 4 hex digits")
        }
    }
}

@Suite struct IPAddressTests {
    @Test func familyAndOrdering() throws {
        let a = try IPAddress(parsing: "10.0.0.2")
        let b = try IPAddress(parsing: "fd00::1")
        #expect(a.family == .ipv4)
        #expect(b.family == .ipv6)
        #expect(a < b)
        #expect(try IPAddress(parsing: "10.0.0.1") < a)
    }

    @Test func neitherFamily() {
        #expect(throws: AddressParseError.self) { try IPAddress(parsing: "localhost") }
        #expect(IPAddress("None") == nil)
    }

    @Test func advancedWrapsWithinFamily() throws {
        #expect(try IPAddress(parsing: "10.0.0.255").advanced(by: 1).description == "10.0.1.0")
        #expect(try IPAddress(parsing: "255.255.255.255").advanced(by: 1).description == "0.0.0.0")
    }
}

@Suite struct CIDRTests {
    @Test func parsesAndMasks() throws {
        let c = try CIDR(parsing: "10.96.0.1/12")
        #expect(c.description == "10.96.0.0/12")
        #expect(!CIDR.isCanonical("10.96.0.1/12"))
        #expect(CIDR.isCanonical("10.96.0.0/12"))
        #expect(c.addressCount == 1 << 20)
        #expect(c.lastAddress.description == "10.111.255.255")
    }

    @Test func containment() throws {
        let c = try CIDR(parsing: "10.96.0.0/12")
        #expect(c.contains(try IPAddress(parsing: "10.96.0.1")))
        #expect(c.contains(try IPAddress(parsing: "10.111.255.255")))
        #expect(!c.contains(try IPAddress(parsing: "10.112.0.0")))
        #expect(!c.contains(try IPAddress(parsing: "fd00::1")))
        #expect(c.contains(try CIDR(parsing: "10.100.0.0/16")))
        #expect(!c.contains(try CIDR(parsing: "10.0.0.0/8")))
        #expect(c.overlaps(try CIDR(parsing: "10.0.0.0/8")))
        #expect(!c.overlaps(try CIDR(parsing: "192.168.0.0/16")))
    }

    @Test func ipv6() throws {
        let c = try CIDR(parsing: "fd00:10:96::/112")
        #expect(c.description == "fd00:10:96::/112")
        #expect(c.lastAddress.description == "fd00:10:96::ffff")
        #expect(c.address(atOffset: 10)?.description == "fd00:10:96::a")
        #expect(c.address(atOffset: 65536) == nil)
        #expect(try CIDR(parsing: "::/0").addressCount == UInt128.max)
    }

    @Test func iteration() throws {
        let all = try CIDR(parsing: "192.168.0.4/30").addresses.map(\.description)
        #expect(all == ["192.168.0.4", "192.168.0.5", "192.168.0.6", "192.168.0.7"])
        #expect(try CIDR(parsing: "1.2.3.4/32").addresses.map(\.description) == ["1.2.3.4"])
        #expect(try CIDR(parsing: "fd00::/112").offset(of: IPAddress(parsing: "fd00::1:0")) == nil)
        #expect(try CIDR(parsing: "fd00::/112").offset(of: IPAddress(parsing: "fd00::ff")) == 255)
    }

    @Test(arguments: [
        ("10.0.0.0/33", "prefix length \"33\" is not a number from 0 to 32"),
        ("10.0.0.0", "expected ADDRESS/PREFIX-LENGTH"),
        ("10.0.0/8", "expected 4 dot-separated octets"),
        ("fd00::/129", "from 0 to 128"),
        ("10.0.0.0/-1", "is not a number"),
        ("10.0.0.0/8/8", "expected ADDRESS/PREFIX-LENGTH"),
    ])
    func rejects(_ text: String, _ reason: String) {
        do {
            _ = try CIDR(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.hasPrefix("invalid CIDR \"\(text)\""))
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }
}

@Suite struct AddressFuzzTests {
    /// Random text never traps the parsers; whatever parses formats back to something that parses to the same.
    @Test func randomTextNeverCrashes() throws {
        var rng = SplitMix64(seed: 0xF022)
        let alphabet = Array("0123456789abcdefABCDEF:./%-x ")
        for _ in 0..<20_000 {
            let length = Int(rng.next(upperBound: UInt64(48)))
            let text = String((0..<length).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
            if let ip = IPAddress(text) {
                #expect(IPAddress(ip.description) == ip, "\(text)")
            }
            if let cidr = CIDR(text) {
                #expect(CIDR(cidr.description) == cidr, "\(text)")
            }
            _ = try? ClusterIPAllocator.parseServiceCIDRs(text)
        }
    }

    @Test func everyIPv6RoundTrips() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            // Bias towards zero groups so that "::" compression is exercised.
            var value: UInt128 = 0
            for _ in 0..<8 {
                let group: UInt128 = rng.next() % 3 == 0 ? UInt128(rng.next() & 0xffff) : 0
                value = value << 16 | group
            }
            let address = IPv6Address(value)
            #expect(IPv6Address(address.description) == address, "\(address)")
        }
    }
}
