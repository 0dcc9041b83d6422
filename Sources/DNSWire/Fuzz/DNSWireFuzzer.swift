/// What happened to one fuzz input.
public enum DNSFuzzOutcome: Hashable, Sendable {
    /// Parsed, and every invariant held.
    case parsed
    /// Rejected with this error (which is fine: the parser's job is to refuse garbage without crashing).
    case rejected(DNSWireError)
    /// An invariant broke: a bug. The string says which.
    case mismatch(String)
}

/// One broken invariant, with the input that broke it so it can be replayed with `DNSWireFuzzer.check`.
public struct DNSFuzzFailure: Hashable, Sendable, CustomStringConvertible {
    public var iteration: Int
    public var reason: String
    public var input: [UInt8]

    public var description: String {
        "iteration \(iteration): \(reason); input (\(input.count) bytes): " + input.map(hexByte).joined()
    }
}

/// Totals of a fuzz run.
public struct DNSFuzzReport: Hashable, Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var iterations = 0
    /// Inputs that parsed (and then passed every round-trip check).
    public var parsed = 0
    /// Inputs the parser rejected, by error kind.
    public var rejected: [DNSWireError.Kind: Int] = [:]
    /// Broken invariants; anything above zero is a bug.
    public var mismatches = 0
    /// The first few failures, for replay.
    public var failures: [DNSFuzzFailure] = []
    /// Bytes of input fed to the parser.
    public var bytes = 0

    public init(seed: UInt64) { self.seed = seed }

    public var rejectedTotal: Int { rejected.values.reduce(0, +) }

    public var description: String {
        var lines = [
            "seed \(seed): \(iterations) inputs (\(bytes) bytes), \(parsed) parsed, \(rejectedTotal) rejected, "
                + "\(mismatches) mismatches"
        ]
        for (kind, n) in rejected.sorted(by: { $0.key < $1.key }) { lines.append("  rejected \(kind.rawValue): \(n)") }
        lines += failures.map { "  FAILURE \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// A deterministic, self-checking fuzzer for the codec: no I/O, no system randomness, the same report for
/// the same seed.
///
/// Inputs: valid messages from a generator (all RDATA types, shared suffixes in mixed case so compression
/// is exercised, EDNS, extended RCODEs, names up to 255 bytes), those messages mutated (bit flips, byte
/// overwrites, truncation, compression pointers to themselves, forward or into two-pointer cycles,
/// over-long labels and names, random section counts, inserted and deleted bytes, valid-but-odd backward
/// pointers), and random bytes behind plausible headers.
///
/// Invariants checked for every input (`check(_:)`): no crash; `headerTooShort` exactly when the input is
/// under 12 bytes; when the full parser accepts, the query view accepts with the same header, first
/// question (same spelling), counts and EDNS; the message re-encodes, re-parses equal and keeps its
/// question's spelling; encoding is a fixpoint (encode(parse(encode(m))) == encode(m)); a 512-byte
/// encoding fits, parses, keeps a prefix of every section and sets TC exactly when a question, answer
/// or authority record was dropped. Generated messages must also decode to exactly what was generated.
public enum DNSWireFuzzer {
    /// Runs `iterations` inputs derived from `seed`.
    public static func run(iterations: Int, seed: UInt64) -> DNSFuzzReport {
        var report = DNSFuzzReport(seed: seed)
        var rng = FuzzRandom(seed: seed)
        var checker = Checker()
        var generator = MessageGenerator()
        // A pool of valid encodings to mutate, refreshed as it goes: generating a fresh message for every
        // input would cost more than checking it.
        var pool: [[UInt8]] = []
        for _ in 0..<64 { pool.append(generator.encodedMessage(&rng, checker: &checker, report: &report, iteration: 0)) }
        for iteration in 0..<iterations {
            let input: [UInt8]
            switch rng.below(20) {
            case 0, 1:
                input = generator.encodedMessage(&rng, checker: &checker, report: &report, iteration: iteration)
                pool[rng.below(pool.count)] = input
            case 2:
                input = randomPacket(&rng)
            case 3:
                input = rng.bytes(rng.below(24))
            default:
                var bytes = pool[rng.below(pool.count)]
                for _ in 0..<(1 + rng.below(3)) { mutate(&bytes, &rng) }
                input = bytes
            }
            report.iterations += 1
            report.bytes += input.count
            switch checker.check(input) {
            case .parsed: report.parsed += 1
            case .rejected(let error): report.rejected[error.kind, default: 0] += 1
            case .mismatch(let reason): record(&report, iteration: iteration, reason: reason, input: input)
            }
        }
        return report
    }

    /// Checks one input against every invariant (for replaying a failure, or fuzzing a corpus).
    public static func check(_ input: [UInt8]) -> DNSFuzzOutcome {
        var checker = Checker()
        return checker.check(input)
    }

    static func record(_ report: inout DNSFuzzReport, iteration: Int, reason: String, input: [UInt8]) {
        report.mismatches += 1
        if report.failures.count < 10 {
            report.failures.append(DNSFuzzFailure(iteration: iteration, reason: reason, input: input))
        }
    }

    /// A header with small counts and a random body: gets further into the parser than pure noise.
    static func randomPacket(_ rng: inout FuzzRandom) -> [UInt8] {
        var bytes = rng.bytes(12)
        for i in 0..<4 {
            bytes[4 + 2 * i] = 0
            bytes[5 + 2 * i] = UInt8(rng.below(4))
        }
        bytes += rng.bytes(rng.below(200))
        return bytes
    }

    static func mutate(_ bytes: inout [UInt8], _ rng: inout FuzzRandom) {
        guard !bytes.isEmpty else {
            bytes = rng.bytes(rng.below(16))
            return
        }
        let body = bytes.count > 12 ? 12 + rng.below(bytes.count - 12) : rng.below(bytes.count)
        func writePointer(at p: Int, to target: Int) {
            guard p + 1 < bytes.count else { return }
            bytes[p] = 0xC0 | UInt8((target >> 8) & 0x3F)
            bytes[p + 1] = UInt8(target & 0xFF)
        }
        switch rng.below(13) {
        case 0, 1:  // bit flips
            for _ in 0..<(1 + rng.below(4)) { bytes[rng.below(bytes.count)] ^= 1 << UInt8(rng.below(8)) }
        case 2:  // byte overwrites
            for _ in 0..<(1 + rng.below(4)) { bytes[rng.below(bytes.count)] = rng.byte() }
        case 3:  // truncation
            bytes.removeLast(1 + rng.below(bytes.count))
        case 4:  // self-pointer
            writePointer(at: body, to: body)
        case 5:  // forward pointer
            writePointer(at: body, to: body + 2 + rng.below(40))
        case 6:  // two-pointer cycle
            let other = body + 2 + rng.below(30)
            writePointer(at: body, to: other)
            writePointer(at: other, to: body)
        case 7:  // backward pointer to somewhere arbitrary: valid form, odd content
            writePointer(at: body, to: rng.below(body + 1))
        case 8:  // over-long label: a length byte 64...191, or a real 64-byte label inserted
            if rng.oneIn(2) {
                bytes[body] = UInt8(64 + rng.below(128))
            } else {
                bytes.insert(contentsOf: [64] + rng.bytes(64), at: body)
            }
        case 9:  // over-long name: many maximal labels inserted
            var labels: [UInt8] = []
            for _ in 0..<(3 + rng.below(3)) { labels += [63] + [UInt8](repeating: UInt8(ascii: "x"), count: 63) }
            bytes.insert(contentsOf: labels, at: body)
        case 10:  // random section count
            if bytes.count >= 12 {
                let field = 4 + 2 * rng.below(4)
                let value: UInt16 = rng.oneIn(4) ? rng.u16() : UInt16(rng.below(5))
                bytes[field] = UInt8(value >> 8)
                bytes[field + 1] = UInt8(value & 0xFF)
            }
        case 11:  // insert random bytes
            bytes.insert(contentsOf: rng.bytes(1 + rng.below(8)), at: body)
        default:  // delete a range
            let n = min(1 + rng.below(8), bytes.count - body)
            bytes.removeSubrange(body..<(body + n))
        }
    }

    /// Runs the invariants, reusing one writer across inputs.
    struct Checker {
        var writer = DNSMessageWriter(capacity: 65535)

        mutating func check(_ input: [UInt8]) -> DNSFuzzOutcome {
            let message: DNSMessage
            do {
                message = try DNSMessage(parsing: input)
            } catch {
                if case .headerTooShort = error {
                    if input.count >= 12 { return .mismatch("headerTooShort for \(input.count) bytes") }
                } else if input.count < 12 {
                    return .mismatch("\(error) for a \(input.count)-byte input")
                }
                return .rejected(error)
            }
            if let problem = checkView(input, message) { return .mismatch(problem) }

            let encoded: [UInt8]
            let reparsed: DNSMessage
            do {
                encoded = try writer.write(message, maxSize: 65535)
            } catch {
                return .mismatch("writer rejected a parsed message: \(error)")
            }
            let dropped = writer.droppedCount
            do {
                reparsed = try DNSMessage(parsing: encoded)
            } catch {
                return .mismatch("own encoding does not parse: \(error)")
            }
            if dropped == 0 {
                guard reparsed == message else { return .mismatch("round trip changed the message") }
            } else if let problem = Self.checkPrefix(reparsed, of: message, truncated: writer.isTruncated) {
                return .mismatch("65535-byte round trip: \(problem)")
            }
            if let q = message.questions.first, !q.name.spellingEquals(reparsed.questions[0].name) {
                return .mismatch("question spelling not preserved")
            }
            do {
                let again = try writer.write(reparsed, maxSize: 65535)
                guard again == encoded else { return .mismatch("encoding is not a fixpoint") }
                let small = try writer.write(message, maxSize: 512)
                guard small.count <= 512 else { return .mismatch("512-byte encoding is \(small.count) bytes") }
                let truncated = writer.isTruncated
                let parsedSmall: DNSMessage
                do {
                    parsedSmall = try DNSMessage(parsing: small)
                } catch {
                    return .mismatch("512-byte encoding does not parse: \(error)")
                }
                if let problem = Self.checkPrefix(parsedSmall, of: message, truncated: truncated) {
                    return .mismatch("512-byte truncation: \(problem)")
                }
            } catch {
                return .mismatch("writer rejected a re-parsed message: \(error)")
            }
            return .parsed
        }

        func checkView(_ input: [UInt8], _ message: DNSMessage) -> String? {
            let view: DNSQueryView
            do {
                view = try DNSQueryView(parsing: input)
            } catch {
                return "query view rejected what the full parser accepted: \(error)"
            }
            guard view.header == message.header else { return "query view header differs" }
            guard view.questionCount == message.questions.count else { return "query view QDCOUNT differs" }
            guard view.question == message.questions.first else { return "query view question differs" }
            if let q = view.question, !q.name.spellingEquals(message.questions[0].name) {
                return "query view question spelling differs"
            }
            guard view.answerCount == message.answers.count, view.authorityCount == message.authorities.count,
                  view.additionalCount == message.additionals.count + (message.edns == nil ? 0 : 1)
            else { return "query view counts differ" }
            guard view.edns == message.edns else { return "query view EDNS differs" }
            guard (view.problem == nil) == (message.questions.count == 1) else { return "query view problem wrong" }
            return nil
        }

        /// `small` must be `full` with records dropped from the end, and TC set exactly when a question,
        /// answer or authority record went.
        static func checkPrefix(_ small: DNSMessage, of full: DNSMessage, truncated: Bool) -> String? {
            func isPrefix<T: Equatable>(_ a: [T], _ b: [T]) -> Bool { a.count <= b.count && Array(b.prefix(a.count)) == a }
            guard isPrefix(small.questions, full.questions), isPrefix(small.answers, full.answers),
                  isPrefix(small.authorities, full.authorities), isPrefix(small.additionals, full.additionals)
            else { return "sections are not prefixes" }
            let sections = [
                (small.questions.count, full.questions.count), (small.answers.count, full.answers.count),
                (small.authorities.count, full.authorities.count), (small.additionals.count, full.additionals.count),
            ]
            // Once a section lost a record, every later section must be empty.
            if let cut = sections.firstIndex(where: { $0.0 < $0.1 }),
               sections[(cut + 1)...].contains(where: { $0.0 > 0 })
            {
                return "records kept after the cut"
            }
            let lostEssential = sections[0..<3].contains { $0.0 < $0.1 }
            guard lostEssential == truncated else { return "writer's truncation flag is wrong" }
            guard small.header.isTruncated == (full.header.isTruncated || lostEssential) else { return "TC is wrong" }
            var expected = full.header
            expected.isTruncated = small.header.isTruncated
            guard small.header == expected else { return "header changed" }
            guard small.edns == full.edns else { return "EDNS lost" }
            return nil
        }
    }
}
