import IPAM
import Logging
import NIOCore
import ProxyCore

/// How the userspace proxy picks an endpoint for a new connection or UDP flow.
public enum UserspaceBalancing: String, Sendable, CaseIterable {
    case roundRobin = "round-robin"
    case random
}

/// The userspace proxy's limits and choices.
public struct UserspaceProxyConfiguration: Sendable {
    public var balancing: UserspaceBalancing
    /// Per attempt: a connect to an endpoint that takes longer fails over to the next endpoint.
    public var connectTimeout: Duration
    /// Concurrent client TCP connections (each costs two descriptors); beyond it new clients are reset.
    public var maxConnections: Int
    /// Concurrent UDP flows (client address → endpoint, one socket each); beyond it new flows are dropped.
    public var maxUDPFlows: Int
    /// A UDP flow with no datagram in either direction for this long is forgotten (its socket closed).
    public var udpIdleTimeout: Duration
    /// Bytes read from one side and not yet written to the other above which reading from it pauses.
    public var bufferLimit: Int
    /// When a ClusterIP cannot be bound (not a local address; a privileged port without the right), listen on
    /// the loopback address it maps to instead (see ``LoopbackMapping``).
    public var loopbackFallback: Bool
    /// Clients served (nil: all): the netfilter modes' drop of outside traffic to ClusterIPs. A client on
    /// loopback, or connecting from the address it connects to (this host), is always served.
    public var allowedClients: [CIDR]?

    public init(
        balancing: UserspaceBalancing = .roundRobin, connectTimeout: Duration = .seconds(1), maxConnections: Int = 10_000,
        maxUDPFlows: Int = 10_000, udpIdleTimeout: Duration = .seconds(30), bufferLimit: Int = 256 * 1024, loopbackFallback: Bool = true
    ) {
        self.balancing = balancing
        self.connectTimeout = connectTimeout
        self.maxConnections = maxConnections
        self.maxUDPFlows = maxUDPFlows
        self.udpIdleTimeout = udpIdleTimeout
        self.bufferLimit = bufferLimit
        self.loopbackFallback = loopbackFallback
    }
}

/// Where one Service port is served.
public struct UserspaceListener: Sendable, Hashable {
    /// `ClusterIP/proto/port`.
    public var key: String
    /// The Service port's name (`namespace/name:port`).
    public var name: String
    /// `IP:port` (`[IPv6]:port`) the listener is bound to; nil when it could not be bound.
    public var boundAddress: String?
    /// Why it could not be bound.
    public var error: String?
}

/// Counters and gauges of the relay.
public struct UserspaceStatistics: Sendable, Hashable {
    public var activeConnections = 0
    public var activeUDPFlows = 0
    public var acceptedConnections = 0
    /// Clients reset because `maxConnections` was reached.
    public var rejectedByLimit = 0
    /// Connects to an endpoint that failed and were retried on another.
    public var retriedConnects = 0
    /// Clients reset because no endpoint accepted.
    public var failedConnects = 0
    public init() {}
}

/// The userspace proxy: one listener per Service port with endpoints, relaying to the port's endpoints.
public final class UserspaceProxy: Sendable {
    public let configuration: UserspaceProxyConfiguration

    public init(configuration: UserspaceProxyConfiguration, group: any EventLoopGroup, logger: Logger = Logger(label: "switchboard.userspace")) {
        self.configuration = configuration
    }

    /// Makes the listeners match `ports` (every family): opens listeners for new Service ports with endpoints,
    /// closes those of ports that are gone or have no endpoints (so that a client is refused by the kernel),
    /// and gives the others their new endpoints; connections already relayed are not touched.
    public func apply(_ ports: [ServicePortState]) async -> [UserspaceListener] { [] }

    /// The current listeners.
    public var listeners: [UserspaceListener] { [] }

    public var statistics: UserspaceStatistics { UserspaceStatistics() }

    /// Closes every listener and relayed connection.
    public func shutdown() async {}
}
