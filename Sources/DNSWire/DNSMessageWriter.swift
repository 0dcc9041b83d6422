/// Encodes DNS messages into a reusable buffer, with name compression and size-bounded truncation.
///
/// This is the DNS server's hot path, so it avoids per-message allocation once warm: the output buffer and
/// the compression table keep their capacity across messages (`begin` resets them), and compression keys
/// are hashes of already-written suffixes, verified against the output itself, instead of a dictionary of
/// suffix byte arrays that would allocate for every label.
///
/// Use it whole (`write(_:maxSize:)`) or incrementally: `begin`, then `appendQuestion` and `appendRecord`
/// in section order, then `finish`. A record that does not fit is rolled back and everything after it is
/// dropped ("drop from the end"), so the counts always match what was written. After a throw (an
/// unencodable record, sections out of order) the buffer holds a partial message: `begin` again.
///
/// Compression is case-insensitive, as RFC 1035 name matching is: a later name whose suffix matches an
/// earlier one in a different case points at the earlier spelling. The question is written first and so
/// keeps its exact spelling (the 0x20 echo), and answer owners, which are the query name, compress to it
/// and show the query's spelling too, as CoreDNS answers do.
public struct DNSMessageWriter: Sendable {
    private var buffer: [UInt8]
    private var table = CompressionTable()
    private var limit = 512
    private var optLength = 0
    private var edns: EDNS?
    private var extendedRCode: UInt8 = 0
    private var section = DNSSection.question
    private var counts: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
    private var stopped = false
    private var finished = false
    /// The last name written in full or in part and where it starts: answers usually repeat their owner,
    /// and one comparison then replaces hashing every suffix.
    private var lastName: [UInt8] = []
    private var lastNameOffset = -1

    /// True when a question, answer or authority record was dropped for size, so TC is set.
    public private(set) var isTruncated = false
    /// How many questions and records `maxSize` made the writer drop.
    public private(set) var droppedCount = 0

    public init(capacity: Int = 1232) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    /// The encoded message; complete once `finish()` has run.
    public var bytes: [UInt8] { buffer }

    /// The encoded message without copying it out of the writer.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = buffer.withUnsafeBytes { raw in Result { () throws(E) -> R in try body(raw) } }
        return try result.get()
    }

    /// Encodes a whole message. The returned array shares the writer's storage (no copy) until the next
    /// `begin`, which then allocates afresh if the caller still holds it.
    public mutating func write(_ message: DNSMessage, maxSize: Int) throws(DNSWireError) -> [UInt8] {
        try begin(header: message.header, edns: message.edns, maxSize: maxSize)
        for q in message.questions {
            if !(try appendQuestion(q)) { break }
        }
        func add(_ records: [DNSResourceRecord], to section: DNSSection) throws(DNSWireError) {
            for rr in records {
                if !(try appendRecord(rr, to: section)) { break }
            }
        }
        try add(message.answers, to: .answer)
        try add(message.authorities, to: .authority)
        try add(message.additionals, to: .additional)
        // The loops stop at the first record that does not fit; the ones never offered count as dropped too.
        let offered = message.questions.count + message.answers.count + message.authorities.count
            + message.additionals.count
        droppedCount = offered - (Int(counts.0) + Int(counts.1) + Int(counts.2) + Int(counts.3))
        finish()
        return buffer
    }

    /// Starts a message. `maxSize` is clamped to 512...65535; room for the OPT record (when `edns` is
    /// given) is reserved up front so truncation never has to drop it (RFC 6891 §7).
    public mutating func begin(header: DNSHeader, edns: EDNS?, maxSize: Int) throws(DNSWireError) {
        buffer.removeAll(keepingCapacity: true)
        table.reset()
        lastNameOffset = -1
        counts = (0, 0, 0, 0)
        section = .question
        stopped = false
        finished = false
        isTruncated = false
        droppedCount = 0
        limit = min(max(maxSize, 512), 65535)
        guard header.opcode.rawValue <= 15 else { throw .unencodable("opcode \(header.opcode.rawValue) above 15") }
        guard header.rcode.rawValue <= 0xFFF else { throw .unencodable("rcode \(header.rcode.rawValue) above 4095") }
        guard edns != nil || header.rcode.rawValue <= 15 else {
            throw .unencodable("rcode \(header.rcode) needs EDNS")
        }
        self.edns = edns
        extendedRCode = UInt8(header.rcode.rawValue >> 4)
        optLength = 0
        if let edns {
            optLength = edns.wireLength
            guard edns.options.allSatisfy({ $0.data.count <= 0xFFFF }), optLength - 11 <= 0xFFFF,
                  12 + optLength <= limit
            else { throw .unencodable("OPT record of \(optLength) bytes does not fit") }
        }
        append16(header.id)
        append16(header.flags)
        buffer.append(contentsOf: repeatElement(0, count: 8))  // counts, patched by finish()
    }

    /// Appends a question. False when it did not fit (the message is then truncated, TC set).
    @discardableResult
    public mutating func appendQuestion(_ question: DNSQuestion) throws(DNSWireError) -> Bool {
        guard section == .question else { throw .unencodable("question after records") }
        guard !stopped else { return drop(.question) }
        let mark = buffer.count
        writeName(question.name, compress: true)
        append16(question.type.rawValue)
        append16(question.class.rawValue)
        guard buffer.count + optLength <= limit else { return rollBack(to: mark, .question) }
        counts.0 += 1
        return true
    }

    /// Appends a record to `section` (answer, authority or additional; not earlier than the last one used).
    /// False when it did not fit: it and every later record are dropped.
    @discardableResult
    public mutating func appendRecord(_ record: DNSResourceRecord, to section: DNSSection) throws(DNSWireError)
        -> Bool
    {
        guard section != .question, section.rawValue >= self.section.rawValue else {
            throw .unencodable("\(section) record after the \(self.section) section")
        }
        self.section = section
        guard !stopped else { return drop(section) }
        let type = record.type
        guard type != .opt else { throw .unencodable("OPT records go in DNSMessage.edns") }
        let mark = buffer.count
        writeName(record.name, compress: true)
        append16(type.rawValue)
        append16(record.class.rawValue)
        append32(record.ttl)
        let lengthAt = buffer.count
        append16(0)
        try writeRData(record.rdata)
        let rdlength = buffer.count - lengthAt - 2
        guard rdlength <= 0xFFFF else { throw .unencodable("RDATA of \(rdlength) bytes") }
        buffer[lengthAt] = UInt8(rdlength >> 8)
        buffer[lengthAt + 1] = UInt8(rdlength & 0xFF)
        guard buffer.count + optLength <= limit else { return rollBack(to: mark, section) }
        switch section {
        case .answer: counts.1 += 1
        case .authority: counts.2 += 1
        default: counts.3 += 1
        }
        return true
    }

    /// Writes the OPT record and patches counts and TC into the header.
    public mutating func finish() {
        guard !finished, buffer.count >= 12 else { return }
        finished = true
        if let edns {
            buffer.append(0)  // root owner
            append16(DNSRecordType.opt.rawValue)
            append16(edns.udpPayloadSize)
            var ttl = UInt32(extendedRCode) << 24 | UInt32(edns.version) << 16 | UInt32(edns.reservedFlags & 0x7FFF)
            if edns.dnssecOK { ttl |= 0x8000 }
            append32(ttl)
            append16(UInt16(optLength - 11))
            for option in edns.options {
                append16(option.code)
                append16(UInt16(option.data.count))
                buffer.append(contentsOf: option.data)
            }
            counts.3 += 1
        }
        if isTruncated { buffer[2] |= 0x02 }
        buffer[4] = UInt8(counts.0 >> 8)
        buffer[5] = UInt8(counts.0 & 0xFF)
        buffer[6] = UInt8(counts.1 >> 8)
        buffer[7] = UInt8(counts.1 & 0xFF)
        buffer[8] = UInt8(counts.2 >> 8)
        buffer[9] = UInt8(counts.2 & 0xFF)
        buffer[10] = UInt8(counts.3 >> 8)
        buffer[11] = UInt8(counts.3 & 0xFF)
    }

    private mutating func rollBack(to mark: Int, _ section: DNSSection) -> Bool {
        // Compression entries written since `mark` now point past the end; nothing is written after this
        // (every later record is dropped), so they are never looked up.
        buffer.removeLast(buffer.count - mark)
        stopped = true
        return drop(section)
    }

    private mutating func drop(_ section: DNSSection) -> Bool {
        droppedCount += 1
        if section != .additional { isTruncated = true }
        return false
    }

    @inline(__always) private mutating func append16(_ v: UInt16) {
        buffer.append(UInt8(v >> 8))
        buffer.append(UInt8(v & 0xFF))
    }

    @inline(__always) private mutating func append32(_ v: UInt32) {
        append16(UInt16(v >> 16))
        append16(UInt16(v & 0xFFFF))
    }

    private mutating func writeRData(_ rdata: DNSResourceRecord.RData) throws(DNSWireError) {
        switch rdata {
        case .a(let v): append32(v)
        case .aaaa(let v):
            append32(UInt32(truncatingIfNeeded: v >> 96))
            append32(UInt32(truncatingIfNeeded: v >> 64))
            append32(UInt32(truncatingIfNeeded: v >> 32))
            append32(UInt32(truncatingIfNeeded: v))
        case .ns(let n), .cname(let n), .ptr(let n): writeName(n, compress: true)
        case .mx(let preference, let exchange):
            append16(preference)
            writeName(exchange, compress: true)
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            writeName(mname, compress: true)
            writeName(rname, compress: true)
            append32(serial)
            append32(refresh)
            append32(retry)
            append32(expire)
            append32(minimum)
        case .srv(let priority, let weight, let port, let target):
            append16(priority)
            append16(weight)
            append16(port)
            // RFC 2782: the target is not compressed (older resolvers cannot follow pointers there); it is
            // still registered, so later names may point into it.
            writeName(target, compress: false)
        case .txt(let strings):
            for s in strings {
                guard s.count <= 255 else { throw .unencodable("TXT string of \(s.count) bytes") }
                buffer.append(UInt8(s.count))
                buffer.append(contentsOf: s)
            }
        case .unknown(_, let data):
            guard data.count <= 0xFFFF else { throw .unencodable("RDATA of \(data.count) bytes") }
            buffer.append(contentsOf: data)
        }
    }

    /// Writes `name`, replacing its longest suffix already in the message by a pointer, and registers the
    /// suffixes it writes out (when their offset fits a pointer, below 0x4000).
    private mutating func writeName(_ name: DNSName, compress: Bool) {
        let wire = name.wire
        guard !wire.isEmpty else {
            buffer.append(0)
            return
        }
        if compress, lastNameOffset >= 0, DNSName(uncheckedWire: wire) == DNSName(uncheckedWire: lastName) {
            buffer.append(0xC0 | UInt8(lastNameOffset >> 8))
            buffer.append(UInt8(lastNameOffset & 0xFF))
            return
        }
        let nameOffset = buffer.count
        // At most 127 labels: label starts in the first half, suffix hashes in the second, on the stack.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 256) { scratch in
            wire.withUnsafeBufferPointer { src in
                var n = 0
                var i = 0
                while i < src.count {
                    scratch[n] = UInt64(i)
                    n += 1
                    i += 1 + Int(src[i])
                }
                var h: UInt64 = 0xCBF2_9CE4_8422_2325
                var j = n - 1
                while j >= 0 {
                    h = CompressionTable.hashLabel(h, src, Int(scratch[j]))
                    scratch[128 + j] = h
                    j -= 1
                }
                // The longest suffix already written. Looked up even when not compressing, so a suffix is
                // registered only once: with duplicates the choice of pointer would depend on the table's
                // layout, which carries over between messages, and encoding would stop being deterministic.
                var match = n
                var matchOffset = 0
                buffer.withUnsafeBufferPointer { out in
                    for k in 0..<n {
                        if let offset = table.find(scratch[128 + k], src, from: Int(scratch[k]), in: out) {
                            match = k
                            matchOffset = offset
                            return
                        }
                    }
                }
                for k in 0..<n {
                    if k >= match && compress { break }
                    let offset = buffer.count
                    if k < match, offset < 0x4000 { table.insert(scratch[128 + k], offset: offset) }
                    let s = Int(scratch[k])
                    let e = k + 1 < n ? Int(scratch[k + 1]) : src.count
                    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: src[s..<e]))
                }
                if compress, match < n {
                    buffer.append(0xC0 | UInt8(matchOffset >> 8))
                    buffer.append(UInt8(matchOffset & 0xFF))
                } else {
                    buffer.append(0)
                }
                lastName = wire
                if compress, match == 0 {
                    lastNameOffset = matchOffset  // entirely a pointer: the same name sits there
                } else {
                    lastNameOffset = nameOffset < 0x4000 ? nameOffset : -1
                }
            }
        }
    }
}

/// Open-addressing table from a suffix's hash to the offset where that suffix was written.
///
/// A slot packs the hash's upper 48 bits with offset + 1 (0 means empty). A hit is only a candidate: the
/// suffix is compared against the output buffer, following the writer's own pointers, so hash collisions
/// can cost a comparison but never a wrong pointer.
struct CompressionTable: Sendable {
    private var slots: [UInt64] = Array(repeating: 0, count: 64)
    private var used = 0
    private var shift = 58  // 64 - log2(capacity)

    static let hashMask: UInt64 = 0xFFFF_FFFF_FFFF_0000

    mutating func reset() {
        if slots.count > 1024 {
            // Do not keep clearing a huge table because one TCP response once needed it.
            slots = Array(repeating: 0, count: 64)
            shift = 58
        } else if used > 0 {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        used = 0
    }

    /// Folds one label (length byte and case-folded bytes) into the hash of the suffix after it (FNV-1a).
    @inline(__always)
    static func hashLabel(_ seed: UInt64, _ src: UnsafeBufferPointer<UInt8>, _ start: Int) -> UInt64 {
        var h = seed
        let length = Int(src[start])
        h = (h ^ UInt64(length)) &* 0x0000_0100_0000_01B3
        for k in 1...length { h = (h ^ UInt64(asciiLowercase(src[start + k]))) &* 0x0000_0100_0000_01B3 }
        return h
    }

    @inline(__always) private func index(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: ((hash & Self.hashMask) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    func find(_ hash: UInt64, _ src: UnsafeBufferPointer<UInt8>, from start: Int, in out: UnsafeBufferPointer<UInt8>)
        -> Int?
    {
        guard used > 0 else { return nil }
        let mask = slots.count - 1
        var i = index(hash)
        while true {
            let slot = slots[i]
            if slot == 0 { return nil }
            if slot & Self.hashMask == hash & Self.hashMask {
                let offset = Int(slot & 0xFFFF) - 1
                if Self.suffixMatches(src, from: start, out, at: offset) { return offset }
            }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ hash: UInt64, offset: Int) {
        if (used + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = index(hash)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = (hash & Self.hashMask) | UInt64(offset + 1)
        used += 1
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        shift -= 1
        let mask = slots.count - 1
        for slot in old where slot != 0 {
            var i = index(slot)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// Compares the name suffix starting at `start` in `src` with the name written at `offset`,
    /// case-insensitively. Pointers in `out` are the writer's own, so they are followed without checks.
    static func suffixMatches(
        _ src: UnsafeBufferPointer<UInt8>, from start: Int, _ out: UnsafeBufferPointer<UInt8>, at offset: Int
    ) -> Bool {
        var i = start
        var p = offset
        while true {
            var length = out[p]
            while length >= 0xC0 {
                p = Int(length & 0x3F) << 8 | Int(out[p + 1])
                length = out[p]
            }
            if i == src.count { return length == 0 }
            guard src[i] == length else { return false }
            let n = Int(length)
            for k in 1...n where asciiLowercase(src[i + k]) != asciiLowercase(out[p + k]) { return false }
            i += 1 + n
            p += 1 + n
        }
    }
}
