/// Bounds-checked reads over one message in contiguous memory.
///
/// Every read checks against the buffer's end before touching it, whatever counts and lengths claim; the
/// buffer is only borrowed for the duration of a parse.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.position = 0
    }

    var count: Int { bytes.count }

    /// Legitimate names need one pointer per label at most; 127 labels fill 255 bytes.
    static let maxPointerHops = 127

    @inline(__always) func u8(_ at: Int) -> UInt8 { bytes[at] }
    @inline(__always) func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    @inline(__always) func u32(_ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    @inline(__always) mutating func need(_ n: Int, _ section: DNSSection, limit: Int) throws(DNSWireError) {
        guard position + n <= limit else { throw .truncated(section: section, offset: position) }
    }

    /// Reads the name at `position` and moves past its in-place part (up to the root byte or the first
    /// pointer), which must end by `limit` (RDLENGTH's end inside RDATA).
    ///
    /// Loop guard: each pointer must target an offset after the header and strictly before the start of the
    /// segment it is read from (the name itself, then the previous pointer's target). Segment starts thus
    /// strictly decrease, which rules out every cycle; the hop limit bounds chains of pointers to pointers.
    mutating func readName(_ section: DNSSection, limit: Int) throws(DNSWireError) -> DNSName {
        let start = position
        var pos = start
        var bound = limit
        var segmentStart = start
        var end = -1
        var hops = 0
        var length = 1  // wire length, root byte included
        // Pass 1: validate and measure, so pass 2 can allocate exactly once.
        while true {
            guard pos < bound else { throw .truncated(section: section, offset: pos) }
            let b = bytes[pos]
            if b == 0 {
                if end < 0 { end = pos + 1 }
                break
            }
            switch b & 0xC0 {
            case 0:
                let l = Int(b)
                guard pos + 1 + l <= bound else { throw .truncated(section: section, offset: pos) }
                length += l + 1
                guard length <= 255 else { throw .nameTooLong(offset: start, length: length) }
                pos += 1 + l
            case 0xC0:
                guard pos + 2 <= bound else { throw .truncated(section: section, offset: pos) }
                let target = Int(b & 0x3F) << 8 | Int(bytes[pos + 1])
                guard target >= 12, target < segmentStart else {
                    throw .badCompressionPointer(offset: pos, target: target)
                }
                hops += 1
                guard hops <= Self.maxPointerHops else { throw .compressionHopLimit(offset: start) }
                if end < 0 { end = pos + 2 }
                pos = target
                segmentStart = target
                bound = count
            default:
                throw .reservedLabelType(offset: pos, byte: b)
            }
        }
        position = end
        if length == 1 { return .root }
        if hops == 0 {
            // Uncompressed (the question, usually): one copy of the contiguous labels.
            return DNSName(uncheckedWire: Array(UnsafeRawBufferPointer(rebasing: bytes[start..<(end - 1)])))
        }
        let wire = [UInt8](unsafeUninitializedCapacity: length - 1) { out, initialized in
            var p = start
            var o = 0
            while true {
                let b = bytes[p]
                if b == 0 { break }
                if b >= 0xC0 {
                    p = Int(b & 0x3F) << 8 | Int(bytes[p + 1])
                    continue
                }
                let n = Int(b) + 1
                for k in 0..<n { out[o + k] = bytes[p + k] }
                o += n
                p += n
            }
            initialized = o
        }
        return DNSName(uncheckedWire: wire)
    }

    /// Moves past a name without building it, checking what the in-place part shows: label types, bounds,
    /// and that a pointer targets the message before the name. The server's query path uses it for records
    /// it does not need; every name `readName` accepts, this accepts.
    mutating func skipName(_ section: DNSSection, limit: Int) throws(DNSWireError) {
        let start = position
        var pos = start
        while true {
            guard pos < limit else { throw .truncated(section: section, offset: pos) }
            let b = bytes[pos]
            if b == 0 {
                position = pos + 1
                return
            }
            switch b & 0xC0 {
            case 0:
                let l = Int(b)
                guard pos + 1 + l <= limit else { throw .truncated(section: section, offset: pos) }
                pos += 1 + l
            case 0xC0:
                guard pos + 2 <= limit else { throw .truncated(section: section, offset: pos) }
                let target = Int(b & 0x3F) << 8 | Int(bytes[pos + 1])
                guard target >= 12, target < start else { throw .badCompressionPointer(offset: pos, target: target) }
                position = pos + 2
                return
            default:
                throw .reservedLabelType(offset: pos, byte: b)
            }
        }
    }

    mutating func readQuestion() throws(DNSWireError) -> DNSQuestion {
        let name = try readName(.question, limit: count)
        try need(4, .question, limit: count)
        let q = DNSQuestion(
            name: name, type: DNSRecordType(u16(position)), class: DNSClass(u16(position + 2)))
        position += 4
        return q
    }

    enum Record {
        case rr(DNSResourceRecord)
        case opt(EDNS, extendedRCode: UInt8)
    }

    /// Reads one RR; an OPT comes back decoded as EDNS and it is the caller's job to place it.
    mutating func readRecord(_ section: DNSSection) throws(DNSWireError) -> Record {
        let start = position
        let name = try readName(section, limit: count)
        try need(10, section, limit: count)
        let type = DNSRecordType(u16(position))
        let cls = DNSClass(u16(position + 2))
        let ttl = u32(position + 4)
        let rdlength = Int(u16(position + 8))
        position += 10
        try need(rdlength, section, limit: count)
        let rdEnd = position + rdlength
        if type == .opt {
            guard section == .additional else { throw .badOPT(offset: start, problem: .outsideAdditional) }
            guard name.isRoot else { throw .badOPT(offset: start, problem: .ownerNotRoot) }
            let edns = try readOPTData(start: start, payload: cls.rawValue, ttl: ttl, end: rdEnd)
            return .opt(edns, extendedRCode: UInt8(ttl >> 24))
        }
        let rdata = try readRData(type: type, class: cls, end: rdEnd)
        return .rr(DNSResourceRecord(name: name, class: cls, ttl: ttl, rdata: rdata))
    }

    mutating func readOPTData(start: Int, payload: UInt16, ttl: UInt32, end: Int) throws(DNSWireError) -> EDNS {
        var options: [EDNSOption] = []
        while position < end {
            guard position + 4 <= end else { throw .badOPT(offset: start, problem: .malformedOptions) }
            let code = u16(position)
            let length = Int(u16(position + 2))
            position += 4
            guard position + length <= end else { throw .badOPT(offset: start, problem: .malformedOptions) }
            options.append(
                EDNSOption(code: code, data: Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))))
            position += length
        }
        return EDNS(
            udpPayloadSize: payload, version: UInt8((ttl >> 16) & 0xFF), dnssecOK: ttl & 0x8000 != 0,
            reservedFlags: UInt16(ttl & 0x7FFF), options: options)
    }

    mutating func readRData(type: DNSRecordType, class cls: DNSClass, end: Int) throws(DNSWireError)
        -> DNSResourceRecord.RData
    {
        let start = position
        let length = end - start
        func raw() -> DNSResourceRecord.RData {
            .unknown(type: type, data: Array(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
        }
        if length == 0, cls == .any || cls == .none {
            position = end
            return raw()
        }
        let rdata: DNSResourceRecord.RData
        do throws(DNSWireError) {
            switch type {
            case .a:
                guard cls == .in else { position = end; return raw() }
                guard length == 4 else { throw DNSWireError.badRData(type: type, offset: start) }
                rdata = .a(u32(start))
                position = end
            case .aaaa:
                guard cls == .in else { position = end; return raw() }
                guard length == 16 else { throw DNSWireError.badRData(type: type, offset: start) }
                rdata = .aaaa(UInt128(u32(start)) << 96 | UInt128(u32(start + 4)) << 64
                    | UInt128(u32(start + 8)) << 32 | UInt128(u32(start + 12)))
                position = end
            case .ns: rdata = .ns(try readName(.answer, limit: end))
            case .cname: rdata = .cname(try readName(.answer, limit: end))
            case .ptr: rdata = .ptr(try readName(.answer, limit: end))
            case .mx:
                try need(2, .answer, limit: end)
                let preference = u16(position)
                position += 2
                rdata = .mx(preference: preference, exchange: try readName(.answer, limit: end))
            case .soa:
                let mname = try readName(.answer, limit: end)
                let rname = try readName(.answer, limit: end)
                try need(20, .answer, limit: end)
                let p = position
                rdata = .soa(
                    mname: mname, rname: rname, serial: u32(p), refresh: u32(p + 4), retry: u32(p + 8),
                    expire: u32(p + 12), minimum: u32(p + 16))
                position += 20
            case .srv:
                try need(6, .answer, limit: end)
                let p = position
                position += 6
                rdata = .srv(
                    priority: u16(p), weight: u16(p + 2), port: u16(p + 4), target: try readName(.answer, limit: end))
            case .txt:
                var strings: [[UInt8]] = []
                while position < end {
                    let n = Int(bytes[position])
                    guard position + 1 + n <= end else { throw DNSWireError.badRData(type: type, offset: start) }
                    strings.append(Array(UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<(position + 1 + n)])))
                    position += 1 + n
                }
                rdata = .txt(strings)
            default:
                position = end
                return raw()
            }
        } catch {
            // A name inside RDATA that runs past RDLENGTH is an RDATA problem, not a truncated message;
            // pointer and label errors keep their own, more precise kind.
            if case .truncated = error { throw .badRData(type: type, offset: start) }
            throw error
        }
        guard position == end else { throw .badRData(type: type, offset: start) }
        return rdata
    }
}
