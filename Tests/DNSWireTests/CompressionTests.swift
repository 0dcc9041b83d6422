import Testing
@testable import DNSWire

@Suite struct CompressionTests {
    static let qname = name("hdls.testns.svc.cluster.local")

    /// A headless-service answer: owners repeat the query name, SRV-ish targets share its suffix.
    static func headlessAnswer(_ n: Int, owner: DNSName = qname) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(id: 1, isResponse: true, isAuthoritative: true),
            questions: [DNSQuestion(name: qname, type: .a)],
            answers: (0..<n).map { DNSResourceRecord(name: owner, ttl: 30, rdata: .ipv4(10, 244, 1, UInt8($0))) },
            authorities: [
                DNSResourceRecord(
                    name: name("cluster.local"), ttl: 30,
                    rdata: .soa(
                        mname: name("ns.dns.cluster.local"), rname: name("hostmaster.cluster.local"), serial: 1,
                        refresh: 7200, retry: 1800, expire: 86400, minimum: 30))
            ])
    }

    /// What the message would take without compression.
    static func uncompressedSize(_ m: DNSMessage) -> Int {
        let names = m.questions.map { $0.name.wireLength + 4 }.reduce(0, +)
        let rrs = (m.answers + m.authorities + m.additionals).map { rr -> Int in
            let rdata: Int
            switch rr.rdata {
            case .a: rdata = 4
            case .soa(let mname, let rname, _, _, _, _, _): rdata = mname.wireLength + rname.wireLength + 20
            case .cname(let n): rdata = n.wireLength
            default: rdata = 0
            }
            return rr.name.wireLength + 10 + rdata
        }.reduce(0, +)
        return 12 + names + rrs
    }

    @Test func compressionShrinksAndDecodes() throws {
        let m = Self.headlessAnswer(5)
        let bytes = try m.serialize()
        #expect(bytes.count < Self.uncompressedSize(m))
        // Every answer owner is a 2-byte pointer to the question name at offset 12.
        let firstAnswer = 12 + Self.qname.wireLength + 4
        #expect(Array(bytes[firstAnswer..<(firstAnswer + 2)]) == [0xC0, 0x0C])
        #expect(bytes.count == 12 + 31 + 4 + 5 * (2 + 10 + 4) + soaSize(bytes))
        #expect(try DNSMessage(parsing: bytes) == m)
    }

    /// The SOA record's size: owner pointer, fixed fields, `ns.dns` + pointer, `hostmaster` + pointer, 20.
    func soaSize(_ bytes: [UInt8]) -> Int { 2 + 10 + (1 + 2 + 1 + 3 + 2) + (1 + 10 + 2) + 20 }

    @Test func suffixesOfRDataNamesAreShared() throws {
        let m = DNSMessage(
            header: DNSHeader(id: 2, isResponse: true),
            questions: [DNSQuestion(name: name("ext-in.testns.svc.cluster.local"), type: .a)],
            answers: [
                DNSResourceRecord(
                    name: name("ext-in.testns.svc.cluster.local"), ttl: 30, rdata: .cname(name("svc1.testns.svc.cluster.local"))),
                DNSResourceRecord(name: name("svc1.testns.svc.cluster.local"), ttl: 30, rdata: .ipv4(10, 96, 0, 11)),
            ])
        let bytes = try m.serialize()
        // CNAME target is `svc1` + pointer to `testns...`; the A owner is one pointer to that target.
        #expect(bytes.count == 12 + (33 + 4) + (2 + 10 + 5 + 2) + (2 + 10 + 4))
        #expect(try DNSMessage(parsing: bytes) == m)
    }

    @Test func queryCaseIsEchoedAndLaterNamesCompressCaseInsensitively() throws {
        let asked = name("SvC1.TeStNs.SvC.cLuStEr.LoCaL")
        let m = DNSMessage(
            header: DNSHeader(id: 3, isResponse: true),
            questions: [DNSQuestion(name: asked, type: .a)],
            answers: [DNSResourceRecord(name: name("svc1.testns.svc.cluster.local"), ttl: 30, rdata: .ipv4(10, 96, 0, 11))])
        let parsed = try DNSMessage(parsing: try m.serialize())
        #expect(parsed.questions[0].name.spellingEquals(asked))
        // The owner was written as a pointer to the question, so the client sees its own spelling (0x20).
        #expect(parsed.answers[0].name.spellingEquals(asked))
        #expect(parsed == m)
    }

    @Test func srvTargetsAreNotCompressed() throws {
        let target = name("web-0.hdls.testns.svc.cluster.local")
        let m = DNSMessage(
            header: DNSHeader(id: 4, isResponse: true),
            questions: [DNSQuestion(name: name("_http._tcp.hdls.testns.svc.cluster.local"), type: .srv)],
            answers: [
                DNSResourceRecord(
                    name: name("_http._tcp.hdls.testns.svc.cluster.local"), ttl: 30,
                    rdata: .srv(priority: 0, weight: 100, port: 80, target: target))
            ],
            additionals: [DNSResourceRecord(name: target, ttl: 30, rdata: .ipv4(10, 244, 1, 10))])
        let bytes = try m.serialize()
        let srvRDataStart = 12 + (42 + 4) + 2 + 10 + 6
        #expect(Array(bytes[srvRDataStart..<(srvRDataStart + target.wireLength)]) == target.wireFormat)
        // ...but a later name may still point into it.
        #expect(bytes.count == srvRDataStart + target.wireLength + 2 + 10 + 4)
        #expect(try DNSMessage(parsing: bytes) == m)
    }

    @Test func noPointersAtOrBeyond0x4000() throws {
        // Push distinct names past 16 KiB; names written there cannot be pointer targets.
        var m = DNSMessage(header: DNSHeader(id: 5, isResponse: true))
        for i in 0..<1000 {
            m.answers.append(
                DNSResourceRecord(name: name("host-\(i).zone-\(i % 3).example"), ttl: 1, rdata: .cname(name("t\(i).zone-\(i % 3).example"))))
        }
        let bytes = try m.serialize()
        #expect(bytes.count > 0x4000)
        var i = 12
        var pointers = 0
        // Walk every record's owner and CNAME target, checking pointer targets.
        func walkName() {
            while true {
                let b = bytes[i]
                if b == 0 {
                    i += 1
                    return
                }
                if b >= 0xC0 {
                    let target = Int(b & 0x3F) << 8 | Int(bytes[i + 1])
                    #expect(target < 0x4000)
                    pointers += 1
                    i += 2
                    return
                }
                i += 1 + Int(b)
            }
        }
        for _ in 0..<1000 {
            walkName()
            i += 10
            walkName()
        }
        #expect(i == bytes.count)
        #expect(pointers > 1000)
        #expect(try DNSMessage(parsing: bytes) == m)
    }

    @Test func encodingDoesNotDependOnTheWritersHistory() throws {
        let target = name("web-0.hdls.testns.svc.cluster.local")
        let m = DNSMessage(
            header: DNSHeader(id: 6, isResponse: true),
            questions: [DNSQuestion(name: name("_http._tcp.hdls.testns.svc.cluster.local"), type: .srv)],
            answers: [
                DNSResourceRecord(
                    name: name("_http._tcp.hdls.testns.svc.cluster.local"), ttl: 30,
                    rdata: .srv(priority: 0, weight: 100, port: 80, target: target))
            ],
            additionals: [
                DNSResourceRecord(name: name("x.hdls.testns.svc.cluster.local"), ttl: 30, rdata: .ipv4(10, 244, 1, 10)),
                DNSResourceRecord(name: name("y.web-0.hdls.testns.svc.cluster.local"), ttl: 30, rdata: .ipv4(10, 244, 1, 11)),
            ])
        let fresh = try m.serialize()
        // A writer whose compression table grew on a message with many distinct names.
        var used = DNSMessageWriter()
        var big = DNSMessage(header: DNSHeader())
        big.answers = (0..<300).map { DNSResourceRecord(name: name("n\($0).example"), ttl: 1, rdata: .ipv4(1, 2, 3, 4)) }
        _ = try used.write(big, maxSize: 65535)
        #expect(try used.write(m, maxSize: 65535) == fresh)
        // The additional owner's suffix points at the question's copy, not the SRV target's.
        #expect(try DNSMessage(parsing: fresh) == m)
    }

    @Test func writerIsReusableAcrossMessages() throws {
        var writer = DNSMessageWriter()
        let a = try writer.write(Self.headlessAnswer(3), maxSize: 512)
        let b = try writer.write(Self.headlessAnswer(7, owner: name("other.testns.svc.cluster.local")), maxSize: 512)
        let c = try writer.write(Self.headlessAnswer(3), maxSize: 512)
        #expect(a == c)
        #expect(try DNSMessage(parsing: b) == Self.headlessAnswer(7, owner: name("other.testns.svc.cluster.local")))
    }
}
