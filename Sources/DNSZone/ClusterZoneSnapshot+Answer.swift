import IPAM

private let dot = UInt8(ascii: ".")
private let underscore = UInt8(ascii: "_")
/// How many in-zone CNAMEs an answer follows (ExternalName to ExternalName), so that a loop ends.
private let maxChase = 8

extension ClusterZoneSnapshot {
    /// Answers a question.
    ///
    /// - Parameter name: the absolute query name in text form, with or without the trailing dot
    ///   (`web.default.svc.cluster.local` or `web.default.svc.cluster.local.`). Matching ignores ASCII case; records
    ///   owned by the query name carry `name`'s spelling, without the dot.
    public func answer(name: String, type: ZoneQueryType) -> ZoneAnswer {
        var bytes = Array(name.utf8)
        if bytes.last == dot { bytes.removeLast() }
        lowercase(&bytes)
        return resolve(QueryName(bytes: bytes, spelling: .text(name), ambiguousEnd: 0), type, depth: 0)
    }

    /// Answers a question whose name is dotted text as bytes (the form of `answer(name:type:)`), which saves
    /// making a `String` from a packet.
    public func answer(nameBytes: some Collection<UInt8>, type: ZoneQueryType) -> ZoneAnswer {
        var bytes = Array(nameBytes)
        if bytes.last == dot { bytes.removeLast() }
        let spelling = bytes
        let changed = lowercase(&bytes)
        return resolve(QueryName(bytes: bytes, spelling: changed ? .bytes(spelling) : .lowered, ambiguousEnd: 0), type, depth: 0)
    }

    /// Answers a question whose name is a list of wire labels, most specific first, without the root label.
    /// A label holding a `.` byte cannot be a cluster name: such a name under the cluster domain is NXDOMAIN.
    public func answer<Labels: Sequence>(labels: Labels, type: ZoneQueryType) -> ZoneAnswer
    where Labels.Element: Collection<UInt8> {
        answerLabels(labels, type: type)
    }

    /// The labels as the wire codec gives them (`DNSName.labels`): the server's hot path, specialized here
    /// because a generic call from another module runs unspecialized (a profile showed it as a fifth of the
    /// server's time, most of it in `contains` on an unknown collection).
    public func answer(labels: [ArraySlice<UInt8>], type: ZoneQueryType) -> ZoneAnswer {
        answerLabels(labels, type: type)
    }

    @inline(__always)
    func answerLabels<Labels: Sequence>(_ labels: Labels, type: ZoneQueryType) -> ZoneAnswer
    where Labels.Element: Collection<UInt8> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        var ambiguousEnd = 0
        for label in labels {
            if !bytes.isEmpty { bytes.append(dot) }
            bytes.append(contentsOf: label)
            if label.contains(dot) { ambiguousEnd = bytes.count }
        }
        let spelling = bytes
        let changed = lowercase(&bytes)
        return resolve(
            QueryName(bytes: bytes, spelling: changed ? .bytes(spelling) : .lowered, ambiguousEnd: ambiguousEnd), type,
            depth: 0)
    }

    /// The name the server still has to resolve upstream for this answer: the target of an ExternalName outside
    /// the zone (rows D2, D3), whose records go after the CNAME. Nil when nothing is left to chase: not a CNAME
    /// answer, a CNAME question, or a target in the zone (already followed: row D4).
    public func upstreamTarget(of answer: ZoneAnswer, type: ZoneQueryType) -> String? {
        guard type != .cname, case .records(let answers, _) = answer, let last = answers.last,
              case .cname(let target) = last.data
        else { return nil }
        let bytes = Array(target.utf8)
        let inZone = bytes == zone || (bytes.count > zone.count && bytes[bytes.count - zone.count - 1] == dot
            && bytes[(bytes.count - zone.count)...].elementsEqual(zone))
        return inZone ? nil : target
    }
}

/// A question's name, lowercased for matching, with the spelling to echo.
struct QueryName {
    enum Spelling {
        case text(String)
        case bytes([UInt8])
        /// Already lowercase: `bytes` is the spelling.
        case lowered
    }

    /// Lowercase, without the trailing dot.
    let bytes: [UInt8]
    let spelling: Spelling
    /// Where the last wire label holding a dot ends in `bytes` (0: none); the text before it cannot be split.
    let ambiguousEnd: Int

    /// The owner name of records at the query name.
    func owner() -> String {
        switch spelling {
        case .text(let text): text.utf8.last == dot ? String(text.dropLast()) : text
        case .bytes(let spelled): String(decoding: spelled, as: UTF8.self)
        case .lowered: String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// Returns whether anything changed.
@discardableResult
private func lowercase(_ bytes: inout [UInt8]) -> Bool {
    var changed = false
    for i in bytes.indices where bytes[i] >= UInt8(ascii: "A") && bytes[i] <= UInt8(ascii: "Z") {
        bytes[i] |= 0x20
        changed = true
    }
    return changed
}

/// Up to five dot positions: more labels than `_port._proto.svc.ns.svc` never name anything.
private struct Dots {
    var count = 0
    var d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0

    subscript(i: Int) -> Int {
        switch i {
        case 0: d0
        case 1: d1
        case 2: d2
        case 3: d3
        default: d4
        }
    }

    /// False when full.
    mutating func append(_ position: Int) -> Bool {
        switch count {
        case 0: d0 = position
        case 1: d1 = position
        case 2: d2 = position
        case 3: d3 = position
        case 4: d4 = position
        default: return false
        }
        count += 1
        return true
    }
}

extension ClusterZoneSnapshot {
    func resolve(_ q: QueryName, _ type: ZoneQueryType, depth: Int) -> ZoneAnswer {
        let b = q.bytes
        let z = zone.count
        if b.count == z, q.ambiguousEnd == 0, b == zone { return apex(q, type) }
        if b.count > z + 1, b[b.count - z - 1] == dot, q.ambiguousEnd <= b.count - z - 1,
           b[(b.count - z)...].elementsEqual(zone) {
            // Row E11 and friends: a label with a dot in it is no Kubernetes name.
            if q.ambiguousEnd > 0 { return .nxdomain }
            return inZone(q, relativeEnd: b.count - z - 1, type, depth: depth)
        }
        if q.ambiguousEnd == 0, let address = reverseAddress(b) { return reverse(q, address, type) }
        return .notInZone
    }

    // MARK: The zone's own names

    /// Rows E6, E7, E8: SOA and NS at the apex, NODATA for the rest.
    func apex(_ q: QueryName, _ type: ZoneQueryType) -> ZoneAnswer {
        let owner = q.owner()
        var soa = self.soa
        soa.name = owner
        var ns = nameserver
        ns.name = owner
        switch type {
        case .soa: return .records(answers: [soa], additionals: [])
        case .ns: return .records(answers: [ns], additionals: glue(owner: nameserverName, type: .any))
        case .any: return .records(answers: [soa, ns], additionals: glue(owner: nameserverName, type: .any))
        default: return .noData
        }
    }

    func glue(owner: String, type: ZoneQueryType) -> [ZoneRecord] {
        var out: [ZoneRecord] = []
        if type == .a || type == .any { out += glue4.map { ZoneRecord(name: owner, ttl: ttl, data: .a($0)) } }
        if type == .aaaa || type == .any { out += glue6.map { ZoneRecord(name: owner, ttl: ttl, data: .aaaa($0)) } }
        return out
    }

    /// Everything below the apex. `relativeEnd` is where the name's part in front of `.<zone>` ends.
    func inZone(_ q: QueryName, relativeEnd end: Int, _ type: ZoneQueryType, depth: Int) -> ZoneAnswer {
        let b = q.bytes
        var dots = Dots()
        // Empty labels (`a..b`, a leading dot) name nothing.
        if b[0] == dot || b[end - 1] == dot { return .nxdomain }
        for i in 0..<end where b[i] == dot {
            if b[i - 1] == dot { return .nxdomain }
            // Rows E10, E14, G2: deeper than any Kubernetes name.
            guard dots.append(i) else { return .nxdomain }
        }
        let n = dots.count + 1
        let top = b[(n == 1 ? 0 : dots[n - 2] + 1)..<end]
        let relative = b[0..<end]

        if top.elementsEqual("svc".utf8) {
            switch n {
            case 1:
                return .noData  // Row E5.
            case 2:
                // Rows E3, E4.
                if case .namespace? = names[relative] { return .noData }
                return .nxdomain
            case 3:
                guard case .service(let index)? = names[relative] else { return .nxdomain }  // Rows E1, E2, E11.
                return serviceAnswer(q, services[Int(index)], type, depth: depth)
            case 4:
                guard case .service(let index)? = names[b[(dots[0] + 1)..<end]] else { return .nxdomain }
                if case .endpoints(let start, let count)? = names[index, b[0..<dots[0]]] {
                    return endpointAnswer(q, start: start, count: count, type)
                }
                // `_<proto>.<svc>.<ns>.svc` exists when `_<port>._<proto>` below it does (RFC 8020).
                guard b[0] == underscore else { return .nxdomain }  // Rows C8, D5.
                return protocolNode(services[Int(index)], protocol: b[1..<dots[0]])
            case 5:
                guard b[0] == underscore, b[dots[0] + 1] == underscore,
                      case .service(let index)? = names[b[(dots[1] + 1)..<end]]
                else { return .nxdomain }
                return srvAnswer(
                    q, services[Int(index)], port: b[1..<dots[0]],
                    transport: Transport(label: b[(dots[0] + 2)..<dots[1]]), type)
            default:
                return .nxdomain
            }
        }
        if top.elementsEqual("pod".utf8) {
            switch n {
            case 1:
                return .noData  // Row E5.
            case 2:
                if case .namespace? = names[relative] { return .noData }  // Row P5.
                return .nxdomain
            case 3:
                return podAnswer(q, label: b[0..<dots[0]], namespace: b[(dots[0] + 1)..<end], type)
            default:
                return .nxdomain
            }
        }
        if n == 1, top.elementsEqual("dns-version".utf8) {
            // Rows V1, V2.
            guard type == .txt || type == .any else { return .noData }
            return .records(answers: [ZoneRecord(name: q.owner(), ttl: dnsVersionTTL, data: .txt([dnsSchemaVersion]))], additionals: [])
        }
        if top.elementsEqual("dns".utf8) {
            // Row E7: the NS target and its glue.
            if n == 1 { return .noData }
            guard n == 2, b[0..<dots[0]].elementsEqual("ns".utf8) else { return .nxdomain }
            let records = glue(owner: q.owner(), type: type)
            return records.isEmpty ? .noData : .records(answers: records, additionals: [])
        }
        return .nxdomain  // Row E9.
    }

    func serviceAnswer(_ q: QueryName, _ service: ServiceEntry, _ type: ZoneQueryType, depth: Int) -> ZoneAnswer {
        switch service.kind {
        case .externalName:
            // Rows D1–D4: the CNAME answers every type (RFC 1034 §3.6.2); an in-zone target is followed here.
            let targetName = externalName(service)
            let cname = ZoneRecord(name: q.owner(), ttl: ttl, data: .cname(targetName))
            guard type != .cname, type != .any, service.externalNameInZone, depth < maxChase else {
                return .records(answers: [cname], additionals: [])
            }
            let target = QueryName(bytes: Array(targetName.utf8), spelling: .lowered, ambiguousEnd: 0)
            if case .records(let answers, let additionals) = resolve(target, type, depth: depth + 1) {
                return .records(answers: [cname] + answers, additionals: additionals)
            }
            // The target has no such record: the CNAME alone, NOERROR (CoreDNS does the same).
            return .records(answers: [cname], additionals: [])
        case .clusterIP:
            if options.ignoreEmptyServices && service.readyAddresses == 0 { return .nxdomain }
            switch type {
            case .a, .aaaa, .any:
                // Rows B1–B4, B10: the ClusterIP of each family, endpoints or not.
                let records = addressRecords(owner: q.owner(), ipv4: service.ipv4, ipv6: service.ipv6, type)
                return records.isEmpty ? .noData : .records(answers: records, additionals: [])
            case .srv where options.serviceNameSRV:
                return clusterIPSRV(q, service, port: nil, transport: .other) ?? .noData  // Row B13.
            default:
                return .noData  // Row B16.
            }
        case .headless:
            // Row C7: no published endpoint, no name.
            guard service.endpointCount > 0 else { return .nxdomain }
            switch type {
            case .a, .aaaa, .any:
                // Rows C1, C2, C13, C15.
                return endpointAnswer(q, start: service.endpointStart, count: service.endpointCount, type)
            case .srv where options.serviceNameSRV:
                return headlessSRV(q, service, port: nil, transport: .other) ?? .noData
            default:
                return .noData
            }
        }
    }

    /// Rows C3, C4, C5, B15: the addresses at an endpoint name.
    func endpointAnswer(_ q: QueryName, start: UInt32, count: UInt32, _ type: ZoneQueryType) -> ZoneAnswer {
        let wantV4 = type == .a || type == .any
        let wantV6 = type == .aaaa || type == .any
        guard wantV4 || wantV6 else { return .noData }
        let owner = q.owner()
        var records: [ZoneRecord] = []
        for endpoint in endpoints[Int(start)..<Int(start + count)] {
            if endpoint.isV6 {
                if wantV6 { records.append(ZoneRecord(name: owner, ttl: ttl, data: .aaaa(endpoint.ipv6))) }
            } else if wantV4 {
                records.append(ZoneRecord(name: owner, ttl: ttl, data: .a(endpoint.ipv4)))
            }
        }
        return records.isEmpty ? .noData : .records(answers: records, additionals: [])
    }

    func addressRecords(owner: String, ipv4: IPv4Address?, ipv6: IPv6Address?, _ type: ZoneQueryType) -> [ZoneRecord] {
        var records: [ZoneRecord] = []
        if let ipv4, type == .a || type == .any { records.append(ZoneRecord(name: owner, ttl: ttl, data: .a(ipv4))) }
        if let ipv6, type == .aaaa || type == .any { records.append(ZoneRecord(name: owner, ttl: ttl, data: .aaaa(ipv6))) }
        return records
    }

    /// `_<port>._<proto>.<svc>.<ns>.svc`: rows B5–B9, C6, C15, D7.
    func srvAnswer(
        _ q: QueryName, _ service: ServiceEntry, port: ArraySlice<UInt8>, transport: Transport, _ type: ZoneQueryType
    ) -> ZoneAnswer {
        // An unnamed port has no SRV name (row B8); nor has an unknown protocol.
        guard !port.isEmpty, transport != .other else { return .nxdomain }
        let found: ZoneAnswer?
        switch service.kind {
        case .externalName: return .nxdomain
        case .clusterIP:
            if options.ignoreEmptyServices && service.readyAddresses == 0 { return .nxdomain }
            found = clusterIPSRV(q, service, port: port, transport: transport)
        case .headless:
            found = headlessSRV(q, service, port: port, transport: transport)
        }
        guard let found else { return .nxdomain }
        // Row B14: the SRV name holds SRV records only (CoreDNS's A answer there is a quirk).
        return type == .srv || type == .any ? found : .noData
    }

    /// SRV records pointing at the Service name, one per port (matching `port`/`transport` when given), with the
    /// ClusterIPs as additionals. Nil when no port matches.
    func clusterIPSRV(_ q: QueryName, _ service: ServiceEntry, port: ArraySlice<UInt8>?, transport: Transport) -> ZoneAnswer? {
        var numbers: [UInt16] = []
        for entry in ports[Int(service.portStart)..<Int(service.portStart + service.portCount)] {
            if let port {
                guard entry.transport == transport, !entry.name.isEmpty, entry.name.utf8.elementsEqual(port) else { continue }
            }
            if !numbers.contains(entry.port) { numbers.append(entry.port) }
        }
        guard !numbers.isEmpty else { return nil }
        let owner = q.owner()
        let target = serviceName(service)
        let weight = srvWeight(numbers.count)
        let answers = numbers.map {
            ZoneRecord(name: owner, ttl: ttl, data: .srv(priority: 0, weight: weight, port: $0, target: target))
        }
        return .records(
            answers: answers, additionals: addressRecords(owner: target, ipv4: service.ipv4, ipv6: service.ipv6, .any))
    }

    /// SRV records pointing at the endpoint names, one per (name, port), ports as the EndpointSlices give them;
    /// every address of a target as additionals. Nil when no endpoint has a matching port.
    func headlessSRV(_ q: QueryName, _ service: ServiceEntry, port: ArraySlice<UInt8>?, transport: Transport) -> ZoneAnswer? {
        var targets: [(target: String, port: UInt16)] = []
        var additionals: [ZoneRecord] = []
        var seen: Set<UInt64> = []
        var lastKey = UInt32.max
        var target = ""
        for endpoint in endpoints[Int(service.endpointStart)..<Int(service.endpointStart + service.endpointCount)] {
            var matched = false
            for entry in ports[Int(endpoint.portStart)..<Int(endpoint.portStart) + Int(endpoint.portCount)] {
                if let port {
                    guard entry.transport == transport, !entry.name.isEmpty, entry.name.utf8.elementsEqual(port) else { continue }
                }
                if endpoint.keyStart != lastKey {
                    target = endpointName(endpoint, service)
                    lastKey = endpoint.keyStart
                }
                matched = true
                // Row C6: CoreDNS lists a (target, port) once, so two addresses of one hostname give one SRV.
                if seen.insert(UInt64(endpoint.keyStart) << 16 | UInt64(entry.port)).inserted {
                    targets.append((target, entry.port))
                }
            }
            if matched {
                additionals.append(ZoneRecord(
                    name: target, ttl: ttl, data: endpoint.isV6 ? .aaaa(endpoint.ipv6) : .a(endpoint.ipv4)))
            }
        }
        guard !targets.isEmpty else { return nil }
        let owner = q.owner()
        let weight = srvWeight(targets.count)
        let answers = targets.map {
            ZoneRecord(name: owner, ttl: ttl, data: .srv(priority: 0, weight: weight, port: $0.port, target: $0.target))
        }
        return .records(answers: answers, additionals: additionals)
    }

    /// `_<proto>.<svc>.<ns>.svc`: NODATA when some SRV name lies below it, else NXDOMAIN.
    func protocolNode(_ service: ServiceEntry, protocol label: ArraySlice<UInt8>) -> ZoneAnswer {
        let transport = Transport(label: label)
        guard transport != .other else { return .nxdomain }
        let named = { (entry: PortEntry) in entry.transport == transport && !entry.name.isEmpty }
        switch service.kind {
        case .externalName:
            return .nxdomain
        case .clusterIP:
            if options.ignoreEmptyServices && service.readyAddresses == 0 { return .nxdomain }
            return ports[Int(service.portStart)..<Int(service.portStart + service.portCount)].contains(where: named)
                ? .noData : .nxdomain
        case .headless:
            let list = endpoints[Int(service.endpointStart)..<Int(service.endpointStart + service.endpointCount)]
            return list.contains { ports[Int($0.portStart)..<Int($0.portStart) + Int($0.portCount)].contains(where: named) }
                ? .noData : .nxdomain
        }
    }

    /// An ExternalName's target.
    func externalName(_ service: ServiceEntry) -> String {
        let start = Int(service.targetStart)
        return String(decoding: names.bytes[start..<start + Int(service.targetLength)], as: UTF8.self)
    }

    /// `<svc>.<ns>.svc.<zone>`.
    func serviceName(_ service: ServiceEntry) -> String {
        absoluteName(start: Int(service.keyStart), length: Int(service.keyLength))
    }

    /// `<label>.<svc>.<ns>.svc.<zone>`.
    func endpointName(_ endpoint: EndpointEntry, _ service: ServiceEntry) -> String {
        absoluteName(
            label: Int(endpoint.keyStart)..<Int(endpoint.keyStart) + Int(endpoint.labelLength),
            start: Int(service.keyStart), length: Int(service.keyLength))
    }

    /// `<label>.` (if any) + a key of the name buffer + `.<zone>`, in one allocation.
    func absoluteName(label: Range<Int>? = nil, start: Int, length: Int) -> String {
        let prefix = label.map { $0.count + 1 } ?? 0
        let total = prefix + length + 1 + zone.count
        return String(unsafeUninitializedCapacity: total) { out in
            names.bytes.withUnsafeBufferPointer { buffer in
                if let label {
                    _ = out.initialize(fromContentsOf: buffer[label])
                    out[label.count] = dot
                }
                _ = UnsafeMutableBufferPointer(rebasing: out[prefix...]).initialize(fromContentsOf: buffer[start..<start + length])
            }
            out[prefix + length] = dot
            _ = UnsafeMutableBufferPointer(rebasing: out[(prefix + length + 1)...]).initialize(fromContentsOf: zone)
            return total
        }
    }

    /// Rows P1–P5.
    func podAnswer(_ q: QueryName, label: ArraySlice<UInt8>, namespace: ArraySlice<UInt8>, _ type: ZoneQueryType) -> ZoneAnswer {
        guard options.podsMode != .disabled, case .namespace(let index)? = names[namespace],
              let address = podAddress(label)
        else { return .nxdomain }
        if options.podsMode == .verified {
            guard podAddresses.contains(PodAddressKey(namespace: index, address: AddressKey(address))) else { return .nxdomain }
        }
        switch address {
        case .v4(let a):
            guard type == .a || type == .any else { return .noData }
            return .records(answers: [ZoneRecord(name: q.owner(), ttl: ttl, data: .a(a))], additionals: [])
        case .v6(let a):
            guard type == .aaaa || type == .any else { return .noData }
            return .records(answers: [ZoneRecord(name: q.owner(), ttl: ttl, data: .aaaa(a))], additionals: [])
        }
    }

    /// CoreDNS's reading of a pod label: exactly three dashes and no `--` is IPv4, anything else IPv6.
    func podAddress(_ label: ArraySlice<UInt8>) -> IPAddress? {
        var dashes = 0
        var doubled = false
        var previous: UInt8 = 0
        for byte in label {
            if byte == UInt8(ascii: "-") {
                dashes += 1
                if previous == byte { doubled = true }
            }
            previous = byte
        }
        if dashes == 3 && !doubled {
            let text = String(decoding: label.map { $0 == UInt8(ascii: "-") ? dot : $0 }, as: UTF8.self)
            return IPv4Address(text).map(IPAddress.v4)
        }
        let text = String(decoding: label.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: ":") : $0 }, as: UTF8.self)
        return IPv6Address(text).map(IPAddress.v6)
    }

    // MARK: Reverse names

    /// The address of a complete reverse name: four decimal labels under `in-addr.arpa`, 32 nibbles under
    /// `ip6.arpa`. Nil for anything else, partial names included (those are forwarded).
    func reverseAddress(_ b: [UInt8]) -> IPAddress? {
        let v4Suffix = ".in-addr.arpa".utf8
        let v6Suffix = ".ip6.arpa".utf8
        if b.count > v4Suffix.count, b[(b.count - v4Suffix.count)...].elementsEqual(v4Suffix) {
            var value: UInt32 = 0
            var octets = 0
            for label in b[..<(b.count - v4Suffix.count)].split(separator: dot, omittingEmptySubsequences: false) {
                guard octets < 4, (1...3).contains(label.count), label.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                      label.count == 1 || label.first != UInt8(ascii: "0")
                else { return nil }
                let octet = label.reduce(0) { $0 * 10 + UInt32($1 - 48) }
                guard octet <= 255 else { return nil }
                value |= octet << (8 * UInt32(octets))
                octets += 1
            }
            return octets == 4 ? .v4(IPv4Address(value)) : nil
        }
        if b.count == 63 + v6Suffix.count, b[(b.count - v6Suffix.count)...].elementsEqual(v6Suffix) {
            var value: UInt128 = 0
            for i in 0..<32 {
                guard i == 31 || b[2 * i + 1] == dot else { return nil }
                let nibble: UInt8
                switch b[2 * i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = b[2 * i] - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = b[2 * i] - UInt8(ascii: "a") + 10
                default: return nil
                }
                value |= UInt128(nibble) << UInt128(4 * i)
            }
            return .v6(IPv6Address(value))
        }
        return nil
    }

    /// Rows B11, B12, C9–C12, E13.
    func reverse(_ q: QueryName, _ address: IPAddress, _ type: ZoneQueryType) -> ZoneAnswer {
        let targets: [UInt32]
        switch address {
        case .v4(let a): targets = reverse.targets(a.value)
        case .v6(let a): targets = reverse.targets(a.value)
        }
        guard !targets.isEmpty, type == .ptr || type == .any else { return .notInZone }
        let owner = q.owner()
        let records = targets.map { target -> ZoneRecord in
            let index = Int(target & ~ReverseTarget.endpointBit)
            let name = target & ReverseTarget.endpointBit == 0
                ? serviceName(services[index])
                : endpointName(endpoints[index], services[Int(endpoints[index].service)])
            return ZoneRecord(name: owner, ttl: ttl, data: .ptr(name))
        }
        return .records(answers: records, additionals: [])
    }
}

/// CoreDNS spreads the weight over the records of one priority: floor(100 / count), at least 1.
private func srvWeight(_ count: Int) -> UInt16 {
    UInt16(max(1, 100 / max(count, 1)))
}
