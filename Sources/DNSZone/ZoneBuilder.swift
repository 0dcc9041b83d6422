import IPAM
import KubeAPI

/// Accumulates the snapshot's storage. A value used once by `ClusterZoneSnapshot.build`.
///
/// It reads the API objects in place (`services[i].spec.x`, never `let service = services[i]`): copying a Service,
/// an EndpointSlice or an Endpoint retains every string and array in it, which was most of the build time.
struct ZoneBuilder {
    /// A Service's EndpointSlices are found by the `kubernetes.io/service-name` label.
    struct Owner: Hashable {
        let namespace: String
        let name: String
    }

    /// An address kept for the Service being built, before sorting by name.
    struct Candidate {
        let address: AddressKey
        let labelStart: UInt32
        let labelLength: UInt8
        let portStart: UInt32
        let portCount: UInt16
    }

    let options: ZoneOptions
    let zone: String
    var bytes: [UInt8] = []
    var keys: [NameTable.Entry] = []
    var services: [ServiceEntry] = []
    var ports: [PortEntry] = []
    var endpoints: [EndpointEntry] = []
    var reverse4: [UInt64] = []
    var reverse6: [Reverse6] = []
    var podAddresses: Set<PodAddressKey> = []
    var glue4: [IPv4Address] = []
    var glue6: [IPv6Address] = []
    var namespaceIndex: [String: UInt32] = [:]
    var lastNamespace: (name: String, index: UInt32)?

    // Scratch reused from Service to Service, so that a Service costs no allocation of its own.
    var scratch: [UInt8] = []
    var candidates: [Candidate] = []
    /// Addresses seen for the current Service: a list while short (most Services), a set beyond.
    var seenList: [AddressKey] = []
    var seenSet: Set<AddressKey> = []
    var serviceKey: [UInt8] = []
    var portScratch: [PortEntry] = []
    /// Port lists already in `ports`, to share them.
    var portLists: [[PortEntry]: UInt32] = [:]

    init(options: ZoneOptions) {
        self.options = options
        zone = options.zone
    }

    /// Registers the bytes from `start` to the end of the buffer as a key.
    mutating func addKey(start: Int, scope: UInt32 = NameTable.zoneScope, _ entry: NameEntry) {
        keys.append(NameTable.Entry(keyStart: UInt32(start), keyLength: UInt8(bytes.count - start), scope: scope, entry: entry))
    }

    /// The namespace's index, registering `<ns>.svc` and `<ns>.pod` the first time. Nil for a name that is no label.
    mutating func namespace(_ name: String) -> UInt32? {
        // Informers list objects namespace by namespace: the last one is the likely one.
        if let last = lastNamespace, last.name == name { return last.index }
        if let index = namespaceIndex[name] {
            lastNamespace = (name, index)
            return index
        }
        guard isLabel(name.utf8) else { return nil }
        let index = UInt32(namespaceIndex.count)
        namespaceIndex[name] = index
        lastNamespace = (name, index)
        for suffix in [".svc", ".pod"] {
            let start = bytes.count
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: suffix.utf8)
            addKey(start: start, .namespace(index))
        }
        return index
    }

    mutating func add(services list: [Service], slices: [EndpointSlice]) {
        // Owner → index into `groups`: the slices of one Service, and whether a Service has claimed them yet (the
        // same map finds a Service's slices and refuses a second Service of the same name).
        var owners: [Owner: Int] = [:]
        var groups: [(slices: [Int], claimed: Bool)] = []
        var addresses = 0
        for i in slices.indices {
            guard slices[i].addressType == .ipv4 || slices[i].addressType == .ipv6,
                  let owner = slices[i].metadata.labels?[EndpointSlice.serviceNameLabel],
                  let namespace = slices[i].metadata.namespace
            else { continue }
            let key = Owner(namespace: asciiLowercased(namespace), name: asciiLowercased(owner))
            if let group = owners[key] {
                groups[group].slices.append(i)
            } else {
                owners[key] = groups.count
                groups.append(([i], false))
            }
            addresses += slices[i].endpoints.count
        }
        // Growing these as we go would rehash and copy them a dozen times.
        services.reserveCapacity(list.count)
        endpoints.reserveCapacity(addresses)
        reverse4.reserveCapacity(addresses + list.count)
        keys.reserveCapacity(addresses + list.count + 64)
        bytes.reserveCapacity((addresses + list.count) * 28)

        let nameserver = options.nameserverService.map { text -> Owner in
            let parts = text.split(separator: "/", maxSplits: 1)
            return parts.count == 2
                ? Owner(namespace: asciiLowercased(String(parts[0])), name: asciiLowercased(String(parts[1])))
                : Owner(namespace: "", name: "")
        }
        for i in list.indices {
            guard let rawName = list[i].metadata.name, let rawNamespace = list[i].metadata.namespace else { continue }
            let owner = Owner(namespace: asciiLowercased(rawNamespace), name: asciiLowercased(rawName))
            // The namespace exists even when its Service cannot be named.
            guard namespace(owner.namespace) != nil, isLabel(owner.name.utf8) else { continue }
            var ownSlices: [Int] = []
            if let group = owners[owner] {
                guard !groups[group].claimed else { continue }
                groups[group].claimed = true
                ownSlices = groups[group].slices
            } else {
                owners[owner] = groups.count
                groups.append(([], true))
            }
            if let index = add(service: list, at: i, owner: owner, slices: ownSlices, all: slices),
               owner == nameserver {
                if let v4 = services[Int(index)].ipv4 { glue4.append(v4) }
                if let v6 = services[Int(index)].ipv6 { glue6.append(v6) }
            }
        }
        for address in options.nameserverAddresses {
            switch address {
            case .v4(let a): if !glue4.contains(a) { glue4.append(a) }
            case .v6(let a): if !glue6.contains(a) { glue6.append(a) }
            }
        }
    }

    /// Adds one Service and its endpoints; returns its index, or nil when the zone has no name for it.
    mutating func add(service list: [Service], at i: Int, owner: Owner, slices sliceIndices: [Int], all slices: [EndpointSlice])
        -> UInt32?
    {
        let index = UInt32(services.count)
        var kind = ServiceKind.clusterIP
        var externalName = ""
        var ipv4: IPv4Address?
        var ipv6: IPv6Address?
        if list[i].spec.type == .externalName {
            // Row D8: an IP literal is no DNS name, and CoreDNS does not serve it.
            guard let target = normalizedHostName(list[i].spec.externalName ?? ""), parseAddress(target) == nil else {
                return nil
            }
            kind = .externalName
            externalName = target
        } else if list[i].spec.clusterIP == "None" || list[i].spec.clusterIPs?.first == "None" {
            kind = .headless
        } else {
            let texts = list[i].spec.clusterIPs ?? list[i].spec.clusterIP.map { [$0] } ?? []
            for text in texts {
                switch parseAddress(text) {
                case .v4(let a)?: if ipv4 == nil { ipv4 = a }
                case .v6(let a)?: if ipv6 == nil { ipv6 = a }
                case nil: break
                }
            }
            // Not allocated yet (or garbage): nothing to answer with.
            guard ipv4 != nil || ipv6 != nil else { return nil }
        }

        let keyStart = bytes.count
        serviceKey.removeAll(keepingCapacity: true)
        serviceKey.append(contentsOf: owner.name.utf8)
        serviceKey.append(UInt8(ascii: "."))
        serviceKey.append(contentsOf: owner.namespace.utf8)
        serviceKey.append(contentsOf: ".svc".utf8)
        bytes.append(contentsOf: serviceKey)
        addKey(start: keyStart, .service(index))

        var servicePorts: (start: UInt32, count: UInt16) = (0, 0)
        if kind == .clusterIP, let declared = list[i].spec.ports {
            portScratch.removeAll(keepingCapacity: true)
            for port in declared where (1...65535).contains(port.port) {
                let name = asciiLowercased(port.name ?? "")
                portScratch.append(PortEntry(
                    name: isLabel(name.utf8) ? name : "", port: UInt16(port.port), transport: Transport(port.protocol?.rawValue)))
            }
            servicePorts = internPorts()
        }

        let endpointStart = UInt32(endpoints.count)
        var ready: UInt32 = 0
        if kind != .externalName {
            let store = kind == .headless || options.clusterIPEndpointNames
            if store || options.ignoreEmptyServices {
                ready = collectEndpoints(
                    publishNotReady: list[i].spec.publishNotReadyAddresses ?? false, serviceIndex: index,
                    slices: sliceIndices, all: slices, store: store)
            }
        }

        var target: (start: UInt32, length: UInt8, inZone: Bool)?
        if kind == .externalName {
            target = (UInt32(bytes.count), UInt8(externalName.utf8.count), externalName == zone || externalName.hasSuffix("." + zone))
            bytes.append(contentsOf: externalName.utf8)
        }
        services.append(ServiceEntry(
            kind: kind, keyStart: UInt32(keyStart), keyLength: UInt8(serviceKey.count), target: target, ipv4: ipv4, ipv6: ipv6, portStart: servicePorts.start, portCount: UInt32(servicePorts.count), endpointStart: endpointStart,
            endpointCount: UInt32(endpoints.count) - endpointStart, readyAddresses: ready))
        if let ipv4 { addReverse(.v4(ipv4), ReverseTarget.service(index)) }
        if let ipv6 { addReverse(.v6(ipv6), ReverseTarget.service(index)) }
        return index
    }

    /// True the first time the current Service sees `key`.
    mutating func firstSighting(_ key: AddressKey) -> Bool {
        if seenSet.isEmpty {
            if seenList.contains(key) { return false }
            if seenList.count < 32 {
                seenList.append(key)
                return true
            }
            seenSet.formUnion(seenList)
        }
        return seenSet.insert(key).inserted
    }

    /// Gathers the current Service's published addresses, deduplicated, names them, and (if `store`) stores them
    /// sorted by name so that addresses sharing a hostname are adjacent, each label a key in the Service's scope.
    /// Returns how many there are.
    mutating func collectEndpoints(
        publishNotReady: Bool, serviceIndex: UInt32, slices sliceIndices: [Int], all slices: [EndpointSlice], store: Bool
    ) -> UInt32 {
        if !seenList.isEmpty { seenList.removeAll(keepingCapacity: true) }
        if !seenSet.isEmpty { seenSet.removeAll(keepingCapacity: true) }
        if !candidates.isEmpty { candidates.removeAll(keepingCapacity: true) }
        if !scratch.isEmpty { scratch.removeAll(keepingCapacity: true) }
        // The first slice by name wins a duplicate, whatever order the informer listed them in.
        let ordered = sliceIndices.count < 2
            ? sliceIndices
            : sliceIndices.sorted { (slices[$0].metadata.name ?? "") < (slices[$1].metadata.name ?? "") }
        var count: UInt32 = 0
        for s in ordered {
            let wantV6 = slices[s].addressType == .ipv6
            var slicePorts: (start: UInt32, count: UInt16)?
            for e in slices[s].endpoints.indices {
                // Rows C12/C13: ready only (nil is ready), unless the Service publishes not-ready addresses.
                guard publishNotReady || (slices[s].endpoints[e].conditions.ready ?? true) else { continue }
                for text in slices[s].endpoints[e].addresses {
                    guard let address = parseAddress(text), address.isV6 == wantV6 else { continue }
                    let key = AddressKey(address)
                    guard firstSighting(key) else { continue }
                    count += 1
                    guard store else { continue }
                    if slicePorts == nil { slicePorts = addPorts(of: slices, s) }
                    let labelStart = scratch.count
                    writeLabel(of: slices, s, e, address: address)
                    candidates.append(Candidate(
                        address: key, labelStart: UInt32(labelStart), labelLength: UInt8(scratch.count - labelStart),
                        portStart: slicePorts!.start, portCount: slicePorts!.count))
                }
            }
        }
        guard store, !candidates.isEmpty else { return count }
        // Sorting and copying labels through one buffer pointer: slicing `scratch` per endpoint retains it each time.
        var sorted: [Candidate] = []
        swap(&sorted, &candidates)
        let labelBytes = scratch
        var groupStart = -1
        var groupKeyStart = 0
        labelBytes.withUnsafeBufferPointer { labels in
            if sorted.count > 1 {
                sorted.sort { a, b in
                    let order = compare(labels, a, b)
                    if order != 0 { return order < 0 }
                    if a.address.isV6 != b.address.isV6 { return !a.address.isV6 }
                    return (a.address.high, a.address.low) < (b.address.high, b.address.low)
                }
            }
            for i in sorted.indices {
                let candidate = sorted[i]
                if i == 0 || compare(labels, sorted[i - 1], candidate) != 0 {
                    if groupStart >= 0 {
                        keys.append(NameTable.Entry(
                            keyStart: UInt32(groupKeyStart), keyLength: sorted[i - 1].labelLength, scope: serviceIndex,
                            entry: .endpoints(start: UInt32(groupStart), count: UInt32(endpoints.count - groupStart))))
                    }
                    groupStart = endpoints.count
                    groupKeyStart = bytes.count
                    let label = Int(candidate.labelStart)..<Int(candidate.labelStart) + Int(candidate.labelLength)
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: labels[label]))
                }
                let endpointIndex = UInt32(endpoints.count)
                endpoints.append(EndpointEntry(
                    high: candidate.address.high, low: candidate.address.low, keyStart: UInt32(groupKeyStart),
                    portStart: candidate.portStart, service: serviceIndex, portCount: candidate.portCount,
                    labelLength: candidate.labelLength, isV6: candidate.address.isV6))
                if candidate.address.isV6 {
                    reverse6.append(Reverse6(
                        address: UInt128(candidate.address.high) << 64 | UInt128(candidate.address.low),
                        target: ReverseTarget.endpoint(endpointIndex)))
                } else {
                    reverse4.append(candidate.address.low << 32 | UInt64(ReverseTarget.endpoint(endpointIndex)))
                }
            }
        }
        swap(&sorted, &candidates)
        keys.append(NameTable.Entry(
            keyStart: UInt32(groupKeyStart), keyLength: candidates[candidates.count - 1].labelLength, scope: serviceIndex,
            entry: .endpoints(start: UInt32(groupStart), count: UInt32(endpoints.count - groupStart))))
        return count
    }

    /// The slice's ports with a number, named or not (a Service-name SRV lists unnamed ones too).
    mutating func addPorts(of slices: [EndpointSlice], _ s: Int) -> (start: UInt32, count: UInt16) {
        portScratch.removeAll(keepingCapacity: true)
        for port in slices[s].ports ?? [] {
            guard let number = port.port, (1...65535).contains(number), portScratch.count < Int(UInt16.max) else { continue }
            let name = asciiLowercased(port.name ?? "")
            portScratch.append(PortEntry(name: isLabel(name.utf8) ? name : "", port: UInt16(number), transport: Transport(port.protocol?.rawValue)))
        }
        return internPorts()
    }

    /// `portScratch`'s list in `ports`, stored once however many slices and Services share it (most do: `http`
    /// on 80 or 8080 and the like).
    mutating func internPorts() -> (start: UInt32, count: UInt16) {
        if portScratch.isEmpty { return (0, 0) }
        if let start = portLists[portScratch] { return (start, UInt16(portScratch.count)) }
        let start = UInt32(ports.count)
        ports.append(contentsOf: portScratch)
        portLists[portScratch] = start
        return (start, UInt16(portScratch.count))
    }

    /// Row C5: the hostname; or the pod's name with `endpointPodNames`; or CoreDNS's dashed IP (`10-244-2-12`,
    /// `fd00-244--20`, a trailing `-` completed with `0`).
    mutating func writeLabel(of slices: [EndpointSlice], _ s: Int, _ e: Int, address: IPAddress) {
        if let hostname = slices[s].endpoints[e].hostname, isLabel(hostname.utf8) {
            scratch.append(contentsOf: hostname.utf8.lazy.map(lowercasedASCII))
            return
        }
        if options.endpointPodNames, let ref = slices[s].endpoints[e].targetRef, ref.kind == nil || ref.kind == "Pod",
           let name = ref.name, isLabel(name.utf8) {
            scratch.append(contentsOf: name.utf8.lazy.map(lowercasedASCII))
            return
        }
        appendDashed(address, to: &scratch)
    }

    mutating func addReverse(_ address: IPAddress, _ target: UInt32) {
        switch address {
        case .v4(let a): reverse4.append(UInt64(a.value) << 32 | UInt64(target))
        case .v6(let a): reverse6.append(Reverse6(address: a.value, target: target))
        }
    }

    mutating func add(pods: [Pod]) {
        let verified = options.podsMode == .verified
        for i in pods.indices {
            guard let rawNamespace = pods[i].metadata.namespace, let namespace = namespace(asciiLowercased(rawNamespace))
            else { continue }
            // An IP that no longer belongs to the pod must not verify (its pod is gone or going).
            guard verified, pods[i].metadata.deletionTimestamp == nil, !(pods[i].status.phase?.isTerminal ?? false)
            else { continue }
            for text in pods[i].ips {
                guard let address = parseAddress(text) else { continue }
                podAddresses.insert(PodAddressKey(namespace: namespace, address: AddressKey(address)))
            }
        }
    }
}

/// `IPAddress(text)` looks for `:` by Character and parses through generic code, which together cost more than
/// the rest of a build's work per endpoint; addresses are ASCII, and dotted quads by far the most common.
func parseAddress(_ text: String) -> IPAddress? {
    var text = text
    return text.withUTF8 { bytes -> IPAddress? in
        if let v4 = parseIPv4(bytes) { return .v4(IPv4Address(v4)) }
        guard bytes.contains(UInt8(ascii: ":")) else { return nil }
        return IPv6Address(String(decoding: bytes, as: UTF8.self)).map(IPAddress.v6)
    }
}

/// Dotted-quad text by IPAM's rules: four decimal octets, no leading zeros.
func parseIPv4(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
    var result: UInt32 = 0
    var octet: UInt32 = 0
    var digits = 0
    var dots = 0
    var leadingZero = false
    for byte in bytes {
        if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            if digits == 0 { leadingZero = byte == UInt8(ascii: "0") } else if leadingZero { return nil }
            octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            if digits > 3 || octet > 255 { return nil }
        } else if byte == UInt8(ascii: "."), digits > 0, dots < 3 {
            result = result << 8 | octet
            octet = 0
            digits = 0
            dots += 1
        } else {
            return nil
        }
    }
    guard dots == 3, digits > 0 else { return nil }
    return result << 8 | octet
}

extension IPAddress {
    /// A pattern match: `family` compares strings.
    var isV6: Bool {
        if case .v6 = self { return true }
        return false
    }
}

/// Byte order of two candidates' labels: negative, zero or positive.
private func compare(_ labels: UnsafeBufferPointer<UInt8>, _ a: ZoneBuilder.Candidate, _ b: ZoneBuilder.Candidate) -> Int {
    let aStart = Int(a.labelStart)
    let bStart = Int(b.labelStart)
    let common = min(Int(a.labelLength), Int(b.labelLength))
    for i in 0..<common where labels[aStart + i] != labels[bStart + i] {
        return Int(labels[aStart + i]) - Int(labels[bStart + i])
    }
    return Int(a.labelLength) - Int(b.labelLength)
}

/// A label the zone can hold: 1 to 63 bytes, no dot (a dot would make it two labels in a text key).
func isLabel(_ bytes: some Collection<UInt8>) -> Bool {
    !bytes.isEmpty && bytes.count <= 63 && !bytes.contains(UInt8(ascii: "."))
}

/// A host name as a CNAME target: lowercase, without trailing dot; nil unless every label is 1 to 63 bytes and
/// the whole at most 253.
func normalizedHostName(_ text: String) -> String? {
    var name = asciiLowercased(text)
    if name.hasSuffix(".") { name.removeLast() }
    guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
    for label in name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
        guard !label.isEmpty, label.count <= 63 else { return nil }
    }
    return name
}

/// CoreDNS's label for an address: dots or colons become dashes, a trailing dash gets a `0` (so `fd00::` is
/// `fd00--0`, not a label ending in a dash).
func appendDashed(_ address: IPAddress, to out: inout [UInt8]) {
    switch address {
    case .v4(let a):
        let o = a.octets
        appendDecimal(o.0, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDecimal(o.1, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDecimal(o.2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDecimal(o.3, to: &out)
    case .v6(let a):
        for byte in a.description.utf8 {
            out.append(byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".") ? UInt8(ascii: "-") : byte)
        }
        if out.last == UInt8(ascii: "-") { out.append(UInt8(ascii: "0")) }
    }
}

func appendDecimal(_ value: UInt8, to out: inout [UInt8]) {
    if value >= 100 { out.append(UInt8(ascii: "0") + value / 100) }
    if value >= 10 { out.append(UInt8(ascii: "0") + value / 10 % 10) }
    out.append(UInt8(ascii: "0") + value % 10)
}
