/// Random valid messages for the fuzzer, shaped like cluster DNS traffic so the interesting paths run:
/// names share suffixes (compression), letters change case (0x20), every RDATA type appears.
struct MessageGenerator {
    private static let zones: [[[UInt8]]] = [
        ["cluster", "local"], ["svc", "cluster", "local"], ["testns", "svc", "cluster", "local"],
        ["example", "com"], ["in-addr", "arpa"], ["ip6", "arpa"], [],
    ].map { $0.map { Array($0.utf8) } }
    private static let words: [[UInt8]] = [
        "svc1", "hdls", "web-0", "dup", "_http", "_tcp", "_udp", "kube-dns", "10-244-1-10", "ns", "dns",
        "dns-version", "www", "11", "96", "10", "x",
    ].map { Array($0.utf8) }

    func name(_ rng: inout FuzzRandom) -> DNSName {
        if rng.oneIn(40) { return longName(&rng) }
        var labels: [[UInt8]] = []
        for _ in 0..<rng.below(4) {
            if rng.oneIn(12) {
                // Arbitrary bytes, dots and zeros included: labels are binary on the wire.
                labels.append(rng.bytes(1 + rng.below(63)))
            } else {
                labels.append(rng.pick(Self.words))
            }
        }
        labels += rng.pick(Self.zones)
        if rng.oneIn(3) {
            labels = labels.map { label in
                label.map { b in (b | 0x20) &- 0x61 < 26 && rng.oneIn(2) ? b ^ 0x20 : b }
            }
        }
        var wire: [UInt8] = []
        for label in labels where wire.count + label.count + 2 <= 255 {
            wire.append(UInt8(label.count))
            wire += label
        }
        return DNSName(uncheckedWire: wire)
    }

    /// Names at and near the 255-byte limit.
    func longName(_ rng: inout FuzzRandom) -> DNSName {
        let target = 200 + rng.below(55)  // wire length without the root byte: at most 254
        var wire: [UInt8] = []
        while wire.count < target - 1 {
            let n = min(1 + rng.below(63), target - wire.count - 1)
            wire.append(UInt8(n))
            wire += [UInt8](repeating: UInt8(ascii: "a") + UInt8(rng.below(26)), count: n)
        }
        return DNSName(uncheckedWire: wire)
    }

    func rdata(_ rng: inout FuzzRandom) -> (DNSResourceRecord.RData, DNSClass) {
        switch rng.below(11) {
        case 0: return (.a(rng.u32()), .in)
        case 1: return (.aaaa(UInt128(rng.next()) << 64 | UInt128(rng.next())), .in)
        case 2: return (.ns(name(&rng)), .in)
        case 3: return (.cname(name(&rng)), .in)
        case 4: return (.ptr(name(&rng)), .in)
        case 5: return (.mx(preference: rng.u16(), exchange: name(&rng)), .in)
        case 6:
            return (
                .soa(
                    mname: name(&rng), rname: name(&rng), serial: rng.u32(), refresh: rng.u32(), retry: rng.u32(),
                    expire: rng.u32(), minimum: rng.u32()), .in
            )
        case 7: return (.srv(priority: rng.u16(), weight: rng.u16(), port: rng.u16(), target: name(&rng)), .in)
        case 8:
            let strings = (0..<rng.below(4)).map { _ in rng.bytes(rng.oneIn(10) ? 255 : rng.below(40)) }
            return (.txt(strings), rng.oneIn(8) ? .ch : .in)
        default:
            // Types the parser keeps raw, in any class.
            let type = DNSRecordType(rng.pick([13, 35, 43, 46, 64, 65, 99, 257, 0xFF00, 65535]))
            let cls = rng.oneIn(4) ? DNSClass(rng.u16()) : .in
            return (.unknown(type: type, data: rng.bytes(rng.below(30))), cls)
        }
    }

    func message(_ rng: inout FuzzRandom) -> DNSMessage {
        let hasEDNS = rng.oneIn(2)
        var header = DNSHeader(id: rng.u16(), flags: rng.u16())
        if hasEDNS, rng.oneIn(4) { header.rcode = DNSResponseCode(rawValue: UInt16(rng.below(4096))) }
        var edns: EDNS?
        if hasEDNS {
            let options = (0..<rng.below(3)).map { _ in EDNSOption(code: rng.u16(), data: rng.bytes(rng.below(12))) }
            edns = EDNS(
                udpPayloadSize: rng.pick([0, 512, 1232, 4096, rng.u16()]), version: rng.oneIn(8) ? rng.byte() : 0,
                dnssecOK: rng.oneIn(2), reservedFlags: rng.oneIn(8) ? rng.u16() : 0, options: options)
        }
        func records(_ n: Int, _ rng: inout FuzzRandom) -> [DNSResourceRecord] {
            (0..<n).map { _ in
                let (rdata, cls) = self.rdata(&rng)
                return DNSResourceRecord(name: name(&rng), class: cls, ttl: rng.u32(), rdata: rdata)
            }
        }
        let questions = (0..<(rng.oneIn(6) ? rng.below(3) : 1)).map { _ in
            DNSQuestion(name: name(&rng), type: DNSRecordType(UInt16(rng.below(300))), class: rng.oneIn(10) ? .any : .in)
        }
        return DNSMessage(
            header: header, questions: questions, answers: records(rng.below(8), &rng),
            authorities: records(rng.below(3), &rng), additionals: records(rng.below(4), &rng), edns: edns)
    }

    /// A generated message, encoded (sometimes with a small size limit, so truncated encodings get mutated
    /// too), after checking it decodes to exactly what was generated.
    mutating func encodedMessage(
        _ rng: inout FuzzRandom, checker: inout DNSWireFuzzer.Checker, report: inout DNSFuzzReport, iteration: Int
    ) -> [UInt8] {
        let m = message(&rng)
        let maxSize = rng.pick([512, 700, 1232, 65535])
        let bytes: [UInt8]
        do {
            bytes = try checker.writer.write(m, maxSize: maxSize)
        } catch {
            DNSWireFuzzer.record(&report, iteration: iteration, reason: "writer rejected a generated message: \(error)", input: [])
            return []
        }
        let dropped = checker.writer.droppedCount > 0
        let truncated = checker.writer.isTruncated
        do {
            let decoded = try DNSMessage(parsing: bytes)
            let problem: String? =
                dropped
                ? DNSWireFuzzer.Checker.checkPrefix(decoded, of: m, truncated: truncated)
                : (decoded == m ? nil : "decodes to a different message")
            if let problem {
                DNSWireFuzzer.record(&report, iteration: iteration, reason: "generated message: \(problem)", input: bytes)
            }
        } catch {
            DNSWireFuzzer.record(&report, iteration: iteration, reason: "generated message does not parse: \(error)", input: bytes)
        }
        return bytes
    }
}
