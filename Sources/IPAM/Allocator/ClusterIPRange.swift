/// The ClusterIP allocator for one service CIDR: a bitmap over its usable addresses, as kube-apiserver's.
///
/// Usable addresses start at network+1 (slot 0). IPv4 also excludes the broadcast address; IPv6 ranges are capped
/// at 65,536 addresses, because a bitmap of a /64 would not fit in memory (and upstream caps it the same way).
///
/// The range is split in two bands (KEP-3070): the lower *static* band `[0, offset)` is where users should pick
/// addresses they hard-code, the upper *dynamic* band `[offset, size)` is where automatic allocation looks first,
/// from a random start, wrapping inside the band; only when it is full does it look in the static band.
///
/// Slot 0, the first address, is reserved for the `default/kubernetes` Service: dynamic allocation never returns
/// it, a request for it by address succeeds while it is free.
public struct ClusterIPRange: Sendable {
    public let cidr: CIDR
    /// Number of allocatable addresses.
    public let size: Int
    /// Size of the static band (slots `0..<offset`).
    public let offset: Int
    private var bitmap: AllocationBitmap
    private var random: SplitMix64

    /// The most addresses an IPv6 range is allowed to track.
    public static let ipv6Cap = 65_536

    public init(cidr: CIDR, seed: UInt64? = nil) {
        self.cidr = cidr
        self.size = Self.usableSize(cidr)
        self.offset = Self.staticBandSize(cidr)
        self.bitmap = AllocationBitmap(capacity: size)
        self.random = seed.map(SplitMix64.init(seed:)) ?? SplitMix64()
    }

    /// The number of allocatable addresses of `cidr` (upstream `NewAllocatorCIDRRange`).
    public static func usableSize(_ cidr: CIDR) -> Int {
        let count = cidr.addressCount
        var max: UInt128
        if cidr.family == .ipv6 {
            max = Swift.min(count, UInt128(ipv6Cap))
        } else {
            max = count == 0 ? 0 : count - 1 // no broadcast address
        }
        max = max == 0 ? 0 : max - 1 // no network address
        return Int(max)
    }

    /// The size of the static band (KEP-3070, upstream `calculateRangeOffset`):
    /// `min(max(16, cidrSize / 16), 256)`, or 0 when the CIDR has 16 addresses or fewer.
    public static func staticBandSize(_ cidr: CIDR) -> Int {
        let size = rangeSize(cidr)
        if size <= 16 { return 0 }
        return Int(Swift.min(Swift.max(16, size / 16), 256))
    }

    /// Upstream's `RangeSize`: addresses in the CIDR, 0 for the degenerate IPv4 /0–/1 and IPv6 /0–/1 cases it
    /// refuses, and saturated at Int64.max.
    static func rangeSize(_ cidr: CIDR) -> Int64 {
        let hostBits = cidr.hostBits
        if (cidr.family == .ipv4 && hostBits >= 31) || (cidr.family == .ipv6 && hostBits >= 127) { return 0 }
        if hostBits >= 63 { return Int64.max }
        return Int64(1) << Int64(hostBits)
    }

    public var family: IPFamily { cidr.family }

    /// Addresses currently allocated.
    public var used: Int { bitmap.count }

    /// Addresses still free (including the reserved first address when it is free).
    public var free: Int { size - bitmap.count }

    /// The first usable address, reserved for the `default/kubernetes` Service.
    public var firstAddress: IPAddress? { size > 0 ? address(ofSlot: 0) : nil }

    /// True when `ip` is one of this range's allocatable addresses.
    public func isAllocatable(_ ip: IPAddress) -> Bool { slot(of: ip) != nil }

    public func isAllocated(_ ip: IPAddress) -> Bool {
        guard let s = slot(of: ip) else { return false }
        return bitmap.contains(s)
    }

    /// Allocates `ip`. Throws `.notInRange` for an address outside the usable range and `.alreadyAllocated` for one
    /// that is taken.
    public mutating func allocate(_ ip: IPAddress) throws(ClusterIPAllocationError) {
        guard let s = slot(of: ip) else { throw .notInRange(ip, validRange: cidr) }
        guard bitmap.insert(s) else { throw .alreadyAllocated(ip) }
    }

    /// Allocates a free address: random in the dynamic band first, then the static band; never the first address.
    public mutating func allocateNext() throws(ClusterIPAllocationError) -> IPAddress {
        guard let s = nextFreeSlot() else { throw .rangeFull }
        bitmap.insert(s)
        return address(ofSlot: s)
    }

    /// The address `allocateNext` would pick now, without taking it (for dry runs and tests).
    public mutating func peekNext() -> IPAddress? {
        nextFreeSlot().map(address(ofSlot:))
    }

    /// Frees `ip`. Releasing an address that is free or outside the range does nothing, as upstream.
    public mutating func release(_ ip: IPAddress) {
        guard let s = slot(of: ip) else { return }
        bitmap.remove(s)
    }

    /// Allocated addresses in increasing order.
    public var allocated: [IPAddress] { bitmap.members.map(address(ofSlot:)) }

    private mutating func nextFreeSlot() -> Int? {
        // Slot 0 is reserved, so both bands start at 1 at the lowest.
        let dynamicStart = Swift.max(offset, 1)
        if dynamicStart < size, let s = randomScan(dynamicStart..<size) { return s }
        let staticEnd = Swift.min(offset, size)
        return staticEnd > 1 ? randomScan(1..<staticEnd) : nil
    }

    /// First free slot at or after a random start inside `band`, wrapping around to the band's start.
    private mutating func randomScan(_ band: Range<Int>) -> Int? {
        guard !band.isEmpty else { return nil }
        let start = band.lowerBound + Int(random.next(upperBound: UInt64(band.count)))
        return bitmap.firstFree(in: start..<band.upperBound) ?? bitmap.firstFree(in: band.lowerBound..<start)
    }

    private func slot(of ip: IPAddress) -> Int? {
        guard let off = cidr.offset(of: ip), off >= 1, off - 1 < UInt128(size) else { return nil }
        return Int(off - 1)
    }

    private func address(ofSlot slot: Int) -> IPAddress {
        cidr.network.advanced(by: UInt128(slot) + 1)
    }
}
