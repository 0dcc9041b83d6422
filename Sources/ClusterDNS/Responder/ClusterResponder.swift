import DNSWire
import DNSZone
import IPAM

/// What to do with one packet that arrived.
public enum ResponderDecision: Sendable {
    /// Send these bytes back.
    case reply([UInt8])
    /// Not ours to answer: resolve `question` upstream and relay the answer (AA clear). `prefix` holds the
    /// records that go before the upstream's answer: an ExternalName's CNAME.
    case forward(query: DNSQueryView, question: DNSQuestion, prefix: [DNSResourceRecord])
    /// Say nothing: not a query (a response, a packet too short to carry an ID).
    case drop
}

/// Turns a query packet and the current zone snapshot into a reply, or into a question for the upstreams.
///
/// Pure: no sockets, no clock. The server calls it on the event loop that read the packet, with a writer that
/// lives on that loop, so an in-zone answer costs one parse, one lookup and one encode, and no allocation of
/// message arrays.
public struct ClusterResponder: Sendable {
    /// The payload size we announce in our OPT record (RFC 9715's recommendation, DNS flag day 2020).
    public static let ourPayloadSize: UInt16 = 1232

    public var forwardingEnabled: Bool
    /// The cluster domain, so that names outside it are forwarded even before the first sync.
    public var clusterDomain: DNSName

    public init(forwardingEnabled: Bool, clusterDomain: String = "cluster.local") {
        self.forwardingEnabled = forwardingEnabled
        self.clusterDomain = (try? DNSName(clusterDomain)) ?? .root
    }

    /// Whether `name` may be the zone's to answer: under the cluster domain, or a reverse name (which ones are
    /// ours only a snapshot knows).
    func mayBeInZone(_ name: DNSName) -> Bool {
        if name.isSubdomain(of: clusterDomain) { return true }
        let labels = name.labels
        guard let last = labels.last, labels.count >= 2 else { return false }
        return last.elementsEqual("arpa".utf8, by: { $0 | 0x20 == $1 })
    }

    /// Why a reply has its code: for metrics and query logs.
    public struct Outcome: Sendable {
        public var type: DNSRecordType?
        public var rcode: DNSResponseCode
        public var truncated: Bool
    }

    /// - Parameters:
    ///   - maxSize: nil for UDP (the query's limit applies), 65535 for TCP.
    ///   - snapshot: nil before the first sync with the API.
    public func respond(
        to packet: UnsafeRawBufferPointer, snapshot: ClusterZoneSnapshot?, tcp: Bool, writer: inout DNSMessageWriter
    ) -> (ResponderDecision, Outcome?) {
        let query: DNSQueryView
        do {
            query = try DNSQueryView(parsing: packet)
        } catch {
            // Unparseable: FORMERR with its ID when it has one and is a query; otherwise silence.
            guard let reply = DNSMessage.formatErrorReply(toQuery: packet) else { return (.drop, nil) }
            return (.reply(reply), Outcome(type: nil, rcode: .formErr, truncated: false))
        }
        if query.header.isResponse { return (.drop, nil) }
        let limit = tcp ? 65535 : query.responseSizeLimit
        func fail(_ rcode: DNSResponseCode, withQuestion: Bool = true) -> (ResponderDecision, Outcome?) {
            let bytes = encode(query, rcode: rcode, authoritative: false, answers: [], authority: [], additionals: [], limit: limit, withQuestion: withQuestion, writer: &writer)
            return (.reply(bytes), Outcome(type: query.question?.type, rcode: rcode, truncated: false))
        }
        guard query.header.opcode == .query else { return fail(.notImp, withQuestion: query.problem == nil) }
        guard query.problem == nil, let question = query.question else { return fail(.formErr, withQuestion: false) }
        if let edns = query.edns, edns.version != 0 { return fail(.badVers) }
        guard question.class == .in || question.class == .any else { return fail(.refused) }
        let type = question.type
        guard let snapshot else {
            // Before the first sync the zone is unknown: SERVFAIL for what may be in it, which clients do not
            // cache, rather than a negative answer they would. Other names do not depend on the API.
            if mayBeInZone(question.name) { return fail(.servFail) }
            guard forwardingEnabled else { return fail(.refused) }
            return (.forward(query: query, question: question, prefix: []), nil)
        }
        if type == .axfr || type == .ixfr {
            let answer = snapshot.answer(labels: question.name.labels, type: .other(type.rawValue))
            if case .notInZone = answer, forwardingEnabled { return (.forward(query: query, question: question, prefix: []), nil) }
            return fail(.refused)  // no zone transfers (row E12)
        }
        let zoneType = ZoneQueryType(code: type.rawValue)
        let answer = snapshot.answer(labels: question.name.labels, type: zoneType)
        switch answer {
        case .notInZone:
            guard forwardingEnabled else { return fail(.refused) }
            return (.forward(query: query, question: question, prefix: []), nil)
        case .records(let answers, let additionals):
            let records = answers.compactMap { Self.record($0, queryName: question.name) }
            if let target = snapshot.upstreamTarget(of: answer, type: zoneType), forwardingEnabled, let name = try? DNSName(target) {
                // An ExternalName outside the zone: its CNAME, then the target's records from upstream.
                return (.forward(query: query, question: DNSQuestion(name: name, type: type, class: question.class), prefix: records), nil)
            }
            let extra = additionals.compactMap { Self.record($0, queryName: question.name) }
            let bytes = encode(query, rcode: .noError, authoritative: true, answers: records, authority: [], additionals: extra, limit: limit, withQuestion: true, writer: &writer)
            return (.reply(bytes), Outcome(type: type, rcode: .noError, truncated: writer.isTruncated))
        case .noData, .nxdomain:
            let rcode: DNSResponseCode = answer == .nxdomain ? .nxDomain : .noError
            let soa = Self.record(snapshot.soa, queryName: question.name).map { [$0] } ?? []
            let bytes = encode(query, rcode: rcode, authoritative: true, answers: [], authority: soa, additionals: [], limit: limit, withQuestion: true, writer: &writer)
            return (.reply(bytes), Outcome(type: type, rcode: rcode, truncated: writer.isTruncated))
        }
    }

    /// A reply to `query` with these sections. The question is the query's own, byte for byte in spelling.
    public func encode(
        _ query: DNSQueryView, rcode: DNSResponseCode, authoritative: Bool, recursionAvailable: Bool? = nil, answers: [DNSResourceRecord],
        authority: [DNSResourceRecord], additionals: [DNSResourceRecord], limit: Int, withQuestion: Bool, writer: inout DNSMessageWriter
    ) -> [UInt8] {
        var header = query.header.responseHeader(rcode: rcode, authoritative: authoritative)
        header.recursionAvailable = recursionAvailable ?? forwardingEnabled
        let edns = query.edns.map { _ in EDNS(udpPayloadSize: Self.ourPayloadSize) }
        do {
            try writer.begin(header: header, edns: edns, maxSize: limit)
            if withQuestion, let question = query.question { _ = try writer.appendQuestion(question) }
            for record in answers where !(try writer.appendRecord(record, to: .answer)) { break }
            for record in authority where !(try writer.appendRecord(record, to: .authority)) { break }
            for record in additionals where !(try writer.appendRecord(record, to: .additional)) { break }
            writer.finish()
            return writer.bytes
        } catch {
            // Only a malformed record of ours could fail to encode: say so rather than send half a message.
            var failed = query.header.responseHeader(rcode: .servFail, authoritative: false)
            failed.recursionAvailable = forwardingEnabled
            return (try? DNSMessage(header: failed, questions: []).serialize(maxSize: 512)) ?? []
        }
    }

    /// A zone record on the wire. Records owned by the query name carry the query's spelling (0x20).
    static func record(_ record: ZoneRecord, queryName: DNSName) -> DNSResourceRecord? {
        let owner: DNSName
        if let parsed = try? DNSName(record.name) {
            owner = parsed == queryName ? queryName : parsed
        } else {
            return nil
        }
        let rdata: DNSResourceRecord.RData
        switch record.data {
        case .a(let address): rdata = .a(address.value)
        case .aaaa(let address): rdata = .aaaa(address.value)
        case .srv(let priority, let weight, let port, let target):
            guard let target = try? DNSName(target) else { return nil }
            rdata = .srv(priority: priority, weight: weight, port: port, target: target)
        case .ptr(let target):
            guard let target = try? DNSName(target) else { return nil }
            rdata = .ptr(target)
        case .cname(let target):
            guard let target = try? DNSName(target) else { return nil }
            rdata = .cname(target)
        case .ns(let target):
            guard let target = try? DNSName(target) else { return nil }
            rdata = .ns(target)
        case .txt(let strings): rdata = .txt(strings.map { Array($0.utf8) })
        case .soa(let soa):
            guard let mname = try? DNSName(soa.mname), let rname = try? DNSName(soa.rname) else { return nil }
            rdata = .soa(mname: mname, rname: rname, serial: soa.serial, refresh: soa.refresh, retry: soa.retry, expire: soa.expire, minimum: soa.minimum)
        }
        return DNSResourceRecord(name: owner, ttl: record.ttl, rdata: rdata)
    }
}
