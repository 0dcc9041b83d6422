import IPAM

/// The pod addresses of one node: its pod CIDR less the network address, the gateway (the first host, the
/// node's bridge) and, for IPv4, the broadcast address. Lowest free address first, so that a released address
/// is the next one reused.
public struct PodIPPool: Sendable {
    public let cidr: CIDR
    public let gateway: IPAddress
    private var used: Set<IPAddress> = []
    private let size: Int

    public enum PoolError: Error, Equatable, CustomStringConvertible {
        case tooSmall(String)
        case exhausted(String)

        public var description: String {
            switch self {
            case .tooSmall(let cidr): "pod CIDR \(cidr) is too small: it needs room for a gateway and at least one pod"
            case .exhausted(let cidr): "no free pod IP left in \(cidr)"
            }
        }
    }

    public init(cidr: CIDR) throws(PoolError) {
        self.cidr = cidr
        let hostBits = cidr.hostBits
        // Cap the scan: a node never runs more pods than this, whatever its CIDR.
        let addresses = hostBits >= 16 ? 65536 : 1 << hostBits
        size = cidr.family == .ipv4 ? addresses - 1 : addresses
        guard size > 2, let gateway = cidr.address(atOffset: 1) else { throw .tooSmall(cidr.description) }
        self.gateway = gateway
    }

    /// The lowest free address.
    public mutating func allocate() throws(PoolError) -> IPAddress {
        for offset in 2..<size {
            guard let candidate = cidr.address(atOffset: UInt128(offset)) else { break }
            if !used.contains(candidate) {
                used.insert(candidate)
                return candidate
            }
        }
        throw .exhausted(cidr.description)
    }

    /// Marks an address in use (an address a running pod already has).
    public mutating func reserve(_ address: IPAddress) { if cidr.contains(address) { used.insert(address) } }

    public mutating func release(_ address: IPAddress) { used.remove(address) }

    public var inUse: Int { used.count }
}
