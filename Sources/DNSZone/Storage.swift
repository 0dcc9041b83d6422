import IPAM

// The snapshot's storage. What it keeps per object is what DNS answers need and no more (the reference's
// suggestion 9): addresses as fixed-width integers, names as bytes in one shared buffer, indices as UInt32.

/// The one name dictionary: lowercase names → what they are. Namespaces and Services are keyed by their name
/// relative to the zone (`testns.svc`, `svc1.testns.svc`); endpoint names by their label within their Service
/// (scope: the Service's index), so that 50,000 endpoint keys do not each repeat their Service's name.
///
/// An open-addressing table over one byte buffer rather than a `Dictionary` of slices: 4 bytes per slot and 20 per
/// entry instead of 44 per bucket, and no reference count to touch per key.
struct NameTable: Sendable {
    /// The scope of names relative to the zone.
    static let zoneScope = UInt32.max

    /// `NameEntry` flattened, since the enum's tag would pad the entry.
    struct Entry: Sendable {
        let keyStart: UInt32
        let scope: UInt32
        let a: UInt32
        let b: UInt32
        let keyLength: UInt8
        let kind: UInt8

        init(keyStart: UInt32, keyLength: UInt8, scope: UInt32, entry: NameEntry) {
            self.keyStart = keyStart
            self.keyLength = keyLength
            self.scope = scope
            switch entry {
            case .namespace(let index): (kind, a, b) = (0, index, 0)
            case .service(let index): (kind, a, b) = (1, index, 0)
            case .endpoints(let start, let count): (kind, a, b) = (2, start, count)
            }
        }

        var entry: NameEntry {
            switch kind {
            case 0: .namespace(a)
            case 1: .service(a)
            default: .endpoints(start: a, count: b)
            }
        }
    }

    /// Entry index + 1; 0 is empty. A power of two, at most half full.
    let slots: [UInt32]
    let entries: [Entry]
    let bytes: [UInt8]

    /// Builds the table; a key seen twice keeps its first entry.
    init(bytes: [UInt8], keys: [Entry]) {
        var capacity = 16
        while capacity < keys.count * 2 { capacity *= 2 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var entries: [Entry] = []
        entries.reserveCapacity(keys.count)
        let mask = capacity - 1
        bytes.withUnsafeBufferPointer { buffer in
            for key in keys {
                let start = Int(key.keyStart)
                let name = UnsafeBufferPointer(rebasing: buffer[start..<start + Int(key.keyLength)])
                var slot = Self.hash(scope: key.scope, name) & mask
                var duplicate = false
                while slots[slot] != 0 {
                    let other = entries[Int(slots[slot] - 1)]
                    let otherStart = Int(other.keyStart)
                    if other.scope == key.scope,
                       UnsafeBufferPointer(rebasing: buffer[otherStart..<otherStart + Int(other.keyLength)]).elementsEqual(name) {
                        duplicate = true
                        break
                    }
                    slot = (slot + 1) & mask
                }
                if duplicate { continue }
                entries.append(key)
                slots[slot] = UInt32(entries.count)
            }
        }
        self.slots = slots
        self.entries = entries
        self.bytes = bytes
    }

    /// Per-process seeded (SipHash): names come from users, and a fixed hash would let them collide on purpose.
    static func hash(scope: UInt32, _ name: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(scope)
        hasher.combine(bytes: UnsafeRawBufferPointer(name))
        return hasher.finalize()
    }

    /// A name relative to the zone.
    subscript(name: ArraySlice<UInt8>) -> NameEntry? { self[Self.zoneScope, name] }

    subscript(scope: UInt32, name: ArraySlice<UInt8>) -> NameEntry? {
        guard name.count <= Int(UInt8.max) else { return nil }
        return name.withUnsafeBufferPointer { key in
            bytes.withUnsafeBufferPointer { buffer in
                let mask = slots.count - 1
                var slot = Self.hash(scope: scope, key) & mask
                while slots[slot] != 0 {
                    let entry = entries[Int(slots[slot] - 1)]
                    let start = Int(entry.keyStart)
                    if entry.scope == scope, Int(entry.keyLength) == key.count,
                       UnsafeBufferPointer(rebasing: buffer[start..<start + key.count]).elementsEqual(key) {
                        return entry.entry
                    }
                    slot = (slot + 1) & mask
                }
                return nil
            }
        }
    }

    var count: Int { entries.count }
}

/// What a name in the one dictionary is.
enum NameEntry: Sendable {
    /// `<ns>.svc` or `<ns>.pod`: an empty non-terminal (zone scope).
    case namespace(UInt32)
    /// `<svc>.<ns>.svc` (zone scope).
    case service(UInt32)
    /// `<endpoint>` in its Service's scope: `count` endpoints from `start`, more than one when several addresses
    /// share a hostname (row C4).
    case endpoints(start: UInt32, count: UInt32)
}

enum ServiceKind: UInt8, Sendable {
    case clusterIP, headless, externalName
}

/// 56 bytes: addresses as integers with presence flags, the ExternalName target in the name buffer, since
/// optionals of IPv6Address and a String would take 96.
struct ServiceEntry: Sendable {
    let ipv6High: UInt64
    let ipv6Low: UInt64
    /// Where `<svc>.<ns>.svc` is in the name buffer: SRV and PTR targets are made from it when asked for.
    let keyStart: UInt32
    /// The Service's ports (ClusterIP Services only: a headless SRV takes its ports from the EndpointSlices).
    let portStart: UInt32
    let portCount: UInt32
    let endpointStart: UInt32
    let endpointCount: UInt32
    /// Ready addresses, also when they are not stored (for `ignoreEmptyServices`).
    let readyAddresses: UInt32
    let ipv4Value: UInt32
    /// An ExternalName's CNAME target (normalised) in the name buffer.
    let targetStart: UInt32
    let keyLength: UInt8
    let targetLength: UInt8
    let kind: ServiceKind
    let flags: UInt8

    static let hasIPv4: UInt8 = 1
    static let hasIPv6: UInt8 = 2
    static let targetInZone: UInt8 = 4

    init(
        kind: ServiceKind, keyStart: UInt32, keyLength: UInt8, target: (start: UInt32, length: UInt8, inZone: Bool)?,
        ipv4: IPv4Address?, ipv6: IPv6Address?, portStart: UInt32, portCount: UInt32, endpointStart: UInt32,
        endpointCount: UInt32, readyAddresses: UInt32
    ) {
        self.kind = kind
        self.keyStart = keyStart
        self.keyLength = keyLength
        targetStart = target?.start ?? 0
        targetLength = target?.length ?? 0
        ipv4Value = ipv4?.value ?? 0
        ipv6High = UInt64(truncatingIfNeeded: (ipv6?.value ?? 0) >> 64)
        ipv6Low = UInt64(truncatingIfNeeded: ipv6?.value ?? 0)
        flags = (ipv4 == nil ? 0 : Self.hasIPv4) | (ipv6 == nil ? 0 : Self.hasIPv6)
            | (target?.inZone == true ? Self.targetInZone : 0)
        self.portStart = portStart
        self.portCount = portCount
        self.endpointStart = endpointStart
        self.endpointCount = endpointCount
        self.readyAddresses = readyAddresses
    }

    var ipv4: IPv4Address? { flags & Self.hasIPv4 == 0 ? nil : IPv4Address(ipv4Value) }
    var ipv6: IPv6Address? { flags & Self.hasIPv6 == 0 ? nil : IPv6Address(UInt128(ipv6High) << 64 | UInt128(ipv6Low)) }
    var externalNameInZone: Bool { flags & Self.targetInZone != 0 }
}

enum Transport: UInt8, Sendable, Hashable {
    case tcp, udp, sctp, other

    init(_ text: String?) {
        switch text {
        case nil, "TCP"?: self = .tcp
        case "UDP"?: self = .udp
        case "SCTP"?: self = .sctp
        default: self.init(lowercased: asciiLowercased(text!))
        }
    }

    private init(lowercased text: String) {
        switch text {
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "sctp": self = .sctp
        default: self = .other
        }
    }

    /// From the `_<proto>` label, without the underscore.
    init(label: ArraySlice<UInt8>) {
        if label.elementsEqual("tcp".utf8) {
            self = .tcp
        } else if label.elementsEqual("udp".utf8) {
            self = .udp
        } else if label.elementsEqual("sctp".utf8) {
            self = .sctp
        } else {
            self = .other
        }
    }
}

struct PortEntry: Sendable, Hashable {
    /// Lowercase; empty for an unnamed port, which has no SRV name of its own (row B8).
    let name: String
    let port: UInt16
    let transport: Transport
}

/// One published address of a Service. 32 bytes.
struct EndpointEntry: Sendable {
    /// IPv6: the high 64 bits; IPv4: 0.
    let high: UInt64
    /// IPv6: the low 64 bits; IPv4: the address.
    let low: UInt64
    /// Where this endpoint's label (its key in its Service's scope) is in the name buffer.
    let keyStart: UInt32
    let portStart: UInt32
    let service: UInt32
    let portCount: UInt16
    let labelLength: UInt8
    let isV6: Bool

    var ipv4: IPv4Address { IPv4Address(UInt32(truncatingIfNeeded: low)) }
    var ipv6: IPv6Address { IPv6Address(UInt128(high) << 64 | UInt128(low)) }
}

/// An address as a key, family included.
struct AddressKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64
    let isV6: Bool

    init(_ address: IPAddress) {
        switch address {
        case .v4(let a):
            high = 0
            low = UInt64(a.value)
            isV6 = false
        case .v6(let a):
            high = UInt64(truncatingIfNeeded: a.value >> 64)
            low = UInt64(truncatingIfNeeded: a.value)
            isV6 = true
        }
    }
}

/// A pod's address in a namespace (`pods verified`).
struct PodAddressKey: Hashable, Sendable {
    let namespace: UInt32
    let address: AddressKey
}

/// Who a PTR name points at, packed in 32 bits: the high bit set for an endpoint index, clear for a Service index.
enum ReverseTarget {
    static let endpointBit: UInt32 = 1 << 31

    static func service(_ index: UInt32) -> UInt32 { index }
    static func endpoint(_ index: UInt32) -> UInt32 { index | endpointBit }
}

/// An IPv6 PTR: the address and a packed `ReverseTarget`.
struct Reverse6: Sendable, Comparable {
    let address: UInt128
    let target: UInt32

    static func < (a: Reverse6, b: Reverse6) -> Bool { (a.address, a.target) < (b.address, b.target) }
}

/// The PTRs, sorted by address so that a lookup is a binary search and an address behind several Services (row
/// C11) is a run of entries: 8 bytes per IPv4 PTR (`address << 32 | target`), where a dictionary spends 12 per
/// bucket at up to twice as many buckets.
struct ReverseIndex: Sendable {
    let v4: [UInt64]
    let v6: [Reverse6]
    /// Distinct addresses.
    let count: Int

    init(v4: [UInt64], v6: [Reverse6]) {
        var v4 = v4
        var v6 = v6
        v4.sort()
        v6.sort()
        Self.removeAdjacentDuplicates(&v4)
        Self.removeAdjacentDuplicates(&v6)
        var count = 0
        for i in v4.indices where i == 0 || v4[i - 1] >> 32 != v4[i] >> 32 { count += 1 }
        for i in v6.indices where i == 0 || v6[i - 1].address != v6[i].address { count += 1 }
        self.v4 = v4
        self.v6 = v6
        self.count = count
    }

    static func removeAdjacentDuplicates<T: Equatable>(_ list: inout [T]) {
        guard list.count > 1 else { return }
        var kept = 1
        for i in 1..<list.count where list[i] != list[kept - 1] {
            list[kept] = list[i]
            kept += 1
        }
        list.removeLast(list.count - kept)
    }

    func targets(_ address: UInt32) -> [UInt32] {
        let key = UInt64(address) << 32
        var low = 0
        var high = v4.count
        while low < high {
            let mid = (low + high) / 2
            if v4[mid] < key { low = mid + 1 } else { high = mid }
        }
        var out: [UInt32] = []
        while low < v4.count, v4[low] >> 32 == UInt64(address) {
            out.append(UInt32(truncatingIfNeeded: v4[low]))
            low += 1
        }
        return out
    }

    func targets(_ address: UInt128) -> [UInt32] {
        var low = 0
        var high = v6.count
        while low < high {
            let mid = (low + high) / 2
            if v6[mid].address < address { low = mid + 1 } else { high = mid }
        }
        var out: [UInt32] = []
        while low < v6.count, v6[low].address == address {
            out.append(v6[low].target)
            low += 1
        }
        return out
    }
}
