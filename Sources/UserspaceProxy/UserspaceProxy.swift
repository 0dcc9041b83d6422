import IPAM
import Logging
import NIOCore
import ProxyCore
import Synchronization

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
    /// loopback, or connecting from the address it connects to (this host), is always served; any other is
    /// reset (TCP) or ignored (UDP).
    public var allowedClients: [CIDR]?

    /// Whether `client`, connecting to `local`, is served: in `allowedClients`, or this host (loopback, the
    /// address it connects to, any address of an interface here).
    func admits(_ client: SocketAddress?, local: SocketAddress?) -> Bool {
        guard let allowedClients else { return true }
        guard let text = client?.ipAddress, let address = IPAddress(text) else { return false }
        if text == local?.ipAddress || text.hasPrefix("127.") || text == "::1" { return true }
        if allowedClients.contains(where: { $0.contains(address) }) { return true }
        return HostAddresses.shared.contains(text)
    }

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

/// Counters and gauges of the relay, and the limits it runs under.
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
    /// The most client connections open at once since the start.
    public var peakConnections = 0
    /// Connections reset because their other side failed (a backend's RST, a client's RST).
    public var resetConnections = 0
    /// Payload bytes relayed, both directions, TCP and UDP.
    public var bytesRelayed = 0
    /// Bytes read from one side and not yet written to the other, over all connections now: what the relay
    /// holds in memory. Bounded by about `2 × bufferLimit` per connection.
    public var bufferedBytes = 0
    /// UDP flows opened since the start.
    public var udpFlowsOpened = 0
    /// UDP datagrams relayed, both directions.
    public var datagramsRelayed = 0
    /// UDP datagrams dropped: no flow could be opened (`maxUDPFlows`, no endpoint) or a send queue was full.
    public var droppedDatagrams = 0
    /// Listeners bound now.
    public var listeners = 0
    /// Clients outside `allowedClients`, reset (TCP) or ignored (UDP).
    public var notAdmitted = 0
    public var maxConnections = 0
    public var maxUDPFlows = 0
    /// RLIMIT_NOFILE's soft limit as the proxy found it after raising it.
    public var descriptorLimit = 0
    public init() {}
}

/// The userspace proxy: one listener per Service port with endpoints, relaying to the port's endpoints.
///
/// Thread-safe; `apply` calls are serialized in the order they are made.
public final class UserspaceProxy: Sendable {
    public let configuration: UserspaceProxyConfiguration
    let group: any EventLoopGroup
    let logger: Logger
    let counters = UserspaceCounters()
    let registry = ChannelRegistry()
    let descriptorLimit: Int
    /// Tests: sees every address about to be bound; throwing stands for the kernel refusing it.
    let bindHook: (@Sendable (SocketAddress) throws -> Void)?

    private struct Table {
        var listeners: [String: Listener] = [:]
        /// Ports with endpoints that could not be bound, retried on every `apply`.
        var failures: [String: UserspaceListener] = [:]
        var skippedLogged: Set<String> = []
        var shutDown = false
    }
    private let table = Mutex(Table())
    private let lastApply = Mutex<Task<[UserspaceListener], Never>?>(nil)

    /// Raises RLIMIT_NOFILE as far as the limits need (see ``raiseFileDescriptorLimit(toAtLeast:)``) and logs the limits
    /// the proxy runs under.
    public convenience init(configuration: UserspaceProxyConfiguration, group: any EventLoopGroup, logger: Logger = Logger(label: "switchboard.userspace")) {
        self.init(configuration: configuration, group: group, logger: logger, bindHook: nil)
    }

    init(
        configuration: UserspaceProxyConfiguration, group: any EventLoopGroup, logger: Logger, bindHook: (@Sendable (SocketAddress) throws -> Void)?
    ) {
        self.group = group
        self.logger = logger
        self.bindHook = bindHook
        descriptorLimit = Self.raiseFileDescriptorLimit(toAtLeast: Self.descriptorsNeeded(configuration)).soft
        let needed = Self.descriptorsNeeded(configuration)
        // Limits the descriptors cannot hold are lowered to what they can (in proportion), so that a full proxy
        // resets new clients itself instead of failing accepts and connects with EMFILE.
        self.configuration = Self.fitted(configuration, descriptorLimit: descriptorLimit)
        if needed > descriptorLimit {
            logger.warning(
                "userspace proxy: --max-connections \(configuration.maxConnections) and --max-udp-flows \(configuration.maxUDPFlows) need up to \(needed) descriptors (2 per connection, 1 per flow, 64 spare), more than the limit of \(descriptorLimit): lowered to \(self.configuration.maxConnections) and \(self.configuration.maxUDPFlows) (raise RLIMIT_NOFILE's hard limit to keep them)"
            )
        }
        logger.info(
            "userspace proxy: at most \(self.configuration.maxConnections) TCP connections, \(self.configuration.maxUDPFlows) UDP flows; descriptor limit \(descriptorLimit)"
        )
    }

    /// `configuration` with its connection and flow limits lowered, in proportion, until they fit in
    /// `descriptorLimit` (unchanged when they fit).
    static func fitted(_ configuration: UserspaceProxyConfiguration, descriptorLimit: Int) -> UserspaceProxyConfiguration {
        let needed = descriptorsNeeded(configuration)
        guard needed > descriptorLimit, descriptorLimit > 64 else { return configuration }
        var fitted = configuration
        let available = Double(descriptorLimit - 64)
        let wanted = Double(needed - 64)
        fitted.maxConnections = max(1, Int(Double(configuration.maxConnections) * available / wanted))
        fitted.maxUDPFlows = max(1, Int(Double(configuration.maxUDPFlows) * available / wanted))
        while descriptorsNeeded(fitted) > descriptorLimit, fitted.maxConnections > 1 { fitted.maxConnections -= 1 }
        return fitted
    }

    /// Descriptors the limits can take at once: a client and a backend socket per connection, one socket per
    /// UDP flow, and some for listeners and everything else in the process.
    static func descriptorsNeeded(_ configuration: UserspaceProxyConfiguration) -> Int {
        2 * configuration.maxConnections + configuration.maxUDPFlows + 64
    }

    /// Raises the process's RLIMIT_NOFILE towards `needed` (the hard limit only where the process may, as root
    /// with CAP_SYS_RESOURCE), then its soft limit to its hard limit, and returns both as they are afterwards.
    /// Called by `init`; harmless to call again.
    @discardableResult
    public static func raiseFileDescriptorLimit(toAtLeast needed: Int = 0) -> (soft: Int, hard: Int) {
        FileDescriptorLimit.raise(toAtLeast: needed)
    }

    /// Makes the listeners match `ports` (every family): opens listeners for new Service ports with endpoints,
    /// closes those of ports that are gone or have no endpoints (so that a client is refused by the kernel),
    /// and gives the others their new endpoints; connections already relayed are not touched.
    ///
    /// A port with `dropWhenEmpty` and no endpoints is closed too: without packet filtering, a refusal is the
    /// nearest the relay can come to silence. SCTP ports are skipped (logged once). Ports that could not be
    /// bound are reported with their error and tried again on the next call.
    public func apply(_ ports: [ServicePortState]) async -> [UserspaceListener] {
        let task = lastApply.withLock { last in
            let previous = last
            let task = Task { [self] in
                _ = await previous?.value
                return await applyNow(ports)
            }
            last = task
            return task
        }
        return await task.value
    }

    private func applyNow(_ ports: [ServicePortState]) async -> [UserspaceListener] {
        var desired: [String: (ServicePortState, Listener.Transport)] = [:]
        var skipped: [(String, String)] = []
        for port in ports {
            let proto = port.transport.lowercased()
            let key = "\(port.clusterIP)/\(proto)/\(port.port)"
            guard let transport = Listener.Transport(rawValue: proto) else {
                skipped.append((key, "\(port.name) \(key): \(proto) is not relayed in userspace mode; skipped"))
                continue
            }
            desired[key] = (port, transport)
        }
        let (toClose, toUpdate, toOpen) = table.withLock { table -> ([Listener], [(Listener, ServicePortState)], [(String, ServicePortState, Listener.Transport)]) in
            for (key, line) in skipped where table.skippedLogged.insert(key).inserted { logger.info("\(line)") }
            guard !table.shutDown else { return ([], [], []) }
            var toClose: [Listener] = []
            var toUpdate: [(Listener, ServicePortState)] = []
            for (key, listener) in table.listeners {
                if let (port, _) = desired[key], !port.endpoints.isEmpty {
                    toUpdate.append((listener, port))
                } else {
                    toClose.append(listener)
                    table.listeners[key] = nil
                }
            }
            for key in table.failures.keys where desired[key].map({ $0.0.endpoints.isEmpty }) ?? true {
                table.failures[key] = nil
            }
            let toOpen = desired.filter { !$0.value.0.endpoints.isEmpty && table.listeners[$0.key] == nil }
                .sorted { $0.key < $1.key }
                .map { ($0.key, $0.value.0, $0.value.1) }
            return (toClose, toUpdate, toOpen)
        }
        for listener in toClose {
            let port = listener.endpoints.port
            let why = desired[listener.key] == nil ? "the Service port is gone" : "no endpoints"
            logger.info("\(port.name) \(Self.serviceText(port)) → closed \(listener.boundAddress) (\(why))")
            try? await listener.channel.close()
        }
        for (listener, port) in toUpdate { listener.update(port) }

        let binder = ListenerBinder(group: group, configuration: configuration, counters: counters, registry: registry)
        var opened: [Listener] = []
        var failed: [String: UserspaceListener] = [:]
        for (key, port, transport) in toOpen {
            let endpoints = ServicePortEndpoints(port: port, balancing: configuration.balancing)
            do {
                let outcome = try await binder.bind(port, transport: transport, endpoints: endpoints, bindHook: bindHook)
                let bound = ListenerBinder.text(outcome.channel.localAddress ?? outcome.address)
                let listener = Listener(key: key, transport: transport, channel: outcome.channel, boundAddress: bound, endpoints: endpoints)
                opened.append(listener)
                logger.info("\(port.name) \(Self.serviceText(port)) → listening on \(bound)\(outcome.fallbackReason.map { " (\($0))" } ?? "")")
            } catch {
                failed[key] = UserspaceListener(key: key, name: port.name, boundAddress: nil, error: error.description)
            }
        }
        let (late, newlyFailed, summary) = table.withLock { table -> ([Listener], [(String, String)], [UserspaceListener]) in
            guard !table.shutDown else { return (opened, [], []) }
            var newlyFailed: [(String, String)] = []
            for listener in opened { table.listeners[listener.key] = listener }
            for (key, failure) in failed {
                if table.failures[key]?.error != failure.error { newlyFailed.append((failure.name, failure.error ?? "")) }
                table.failures[key] = failure
            }
            counters.setListeners(table.listeners.count)
            return ([], newlyFailed, Self.summary(table))
        }
        for (name, error) in newlyFailed { logger.error("\(name): not listening: \(error)") }
        for listener in late { try? await listener.channel.close() }
        return summary
    }

    private static func summary(_ table: Table) -> [UserspaceListener] {
        (table.listeners.values.map(\.summary) + table.failures.values).sorted { $0.key < $1.key }
    }

    /// `10.96.0.20:80/tcp`.
    static func serviceText(_ port: ServicePortState) -> String {
        "\(ListenerBinder.hostPort(port.clusterIP.description, port.port))/\(port.transport.lowercased())"
    }

    /// The current listeners, bound or not, by key.
    public var listeners: [UserspaceListener] { table.withLock { Self.summary($0) } }

    public var statistics: UserspaceStatistics {
        var s = UserspaceStatistics()
        s.activeConnections = counters.activeConnections.load(ordering: .relaxed)
        s.activeUDPFlows = counters.activeUDPFlows.load(ordering: .relaxed)
        s.acceptedConnections = counters.acceptedConnections.load(ordering: .relaxed)
        s.rejectedByLimit = counters.rejectedByLimit.load(ordering: .relaxed)
        s.retriedConnects = counters.retriedConnects.load(ordering: .relaxed)
        s.failedConnects = counters.failedConnects.load(ordering: .relaxed)
        s.peakConnections = counters.peakConnections.load(ordering: .relaxed)
        s.resetConnections = counters.resetConnections.load(ordering: .relaxed)
        s.bytesRelayed = counters.bytesRelayed.load(ordering: .relaxed)
        s.bufferedBytes = counters.bufferedBytes.load(ordering: .relaxed)
        s.udpFlowsOpened = counters.udpFlowsOpened.load(ordering: .relaxed)
        s.datagramsRelayed = counters.datagramsRelayed.load(ordering: .relaxed)
        s.droppedDatagrams = counters.droppedDatagrams.load(ordering: .relaxed)
        s.listeners = counters.listeners.load(ordering: .relaxed)
        s.notAdmitted = counters.notAdmitted.load(ordering: .relaxed)
        s.maxConnections = configuration.maxConnections
        s.maxUDPFlows = configuration.maxUDPFlows
        s.descriptorLimit = descriptorLimit
        return s
    }

    /// Closes every listener and relayed connection; `apply` does nothing afterwards.
    public func shutdown() async {
        let listeners = table.withLock { table in
            table.shutDown = true
            defer { table.listeners.removeAll() }
            return Array(table.listeners.values)
        }
        for listener in listeners { try? await listener.channel.close() }
        await registry.closeAll()
        counters.setListeners(0)
    }
}

/// This host's interface addresses, read again at most once a second: asked only for clients that are not
/// pods, so the cost of reading them stays off the common path.
final class HostAddresses: Sendable {
    static let shared = HostAddresses()
    private let state = Mutex<(addresses: Set<String>, read: ContinuousClock.Instant?)>(([], nil))

    func contains(_ address: String) -> Bool {
        let now = ContinuousClock.now
        if let known = state.withLock({ s -> Set<String>? in s.read.map { now - $0 < .seconds(1) } == true ? s.addresses : nil }) {
            return known.contains(address)
        }
        let addresses = Set(((try? System.enumerateDevices()) ?? []).compactMap { $0.address?.ipAddress })
        state.withLock { $0 = (addresses, now) }
        return addresses.contains(address)
    }
}
