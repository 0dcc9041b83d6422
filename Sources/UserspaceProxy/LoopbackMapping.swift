import IPAM

/// Where a Service port listens when its ClusterIP cannot be bound.
///
/// A ClusterIP is usually not an address of any interface of the host (it exists only in the rules of a
/// kernel-mode proxy), so the userspace proxy cannot bind it. Every address of `127.0.0.0/8` is local on Linux,
/// so the ClusterIP's low 24 bits go under `127.`: `10.96.0.10` → `127.96.0.10`. The mapping is stable (the
/// same ClusterIP always lands on the same address, so clients and DNS can be told where it is), and distinct
/// for every ClusterIP of one /8 service range; two ClusterIPs that differ only in their first octet collide,
/// which a Service CIDR (at most a /12 in practice) never holds.
///
/// Ports stay, except a privileged port (below 1024) that the process may not bind: it moves up by
/// ``privilegedPortOffset`` (80 → 10080), out of the privileged range and below the ephemeral one.
public enum LoopbackMapping {
    /// What a privileged port is moved up by when it cannot be bound.
    public static let privilegedPortOffset = 10_000

    /// The loopback address for `clusterIP`: `127.` and its low 24 bits. Nil for IPv6: `::1` is the only
    /// loopback address there, too few for one per ClusterIP.
    public static func address(for clusterIP: IPAddress) -> IPAddress? {
        guard case .v4(let v4) = clusterIP else { return nil }
        return .v4(IPv4Address((127 << 24) | (v4.value & 0x00FF_FFFF)))
    }

    /// The port to listen on when binding `port` failed for want of privilege: `port + 10000` below 1024,
    /// `port` itself otherwise (binding an unprivileged port does not fail with EACCES).
    public static func unprivilegedPort(for port: Int) -> Int {
        port < 1024 ? port + privilegedPortOffset : port
    }

    /// Whether `port` needs a privilege (CAP_NET_BIND_SERVICE) to bind.
    public static func isPrivileged(_ port: Int) -> Bool { port < 1024 }
}
