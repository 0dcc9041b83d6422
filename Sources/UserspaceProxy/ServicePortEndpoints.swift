import IPAM
import NIOCore
import ProxyCore
import Synchronization

/// The endpoints of one Service port as its listener's connections see them: swapped in place by `apply`,
/// read by every event loop that accepts a connection or starts a UDP flow.
final class ServicePortEndpoints: Sendable {
    /// One endpoint to try, with the socket address built once per change rather than per connection.
    struct Attempt: Sendable, Hashable {
        var target: EndpointTarget
        var address: SocketAddress
    }

    private struct State {
        var port: ServicePortState
        var chooser: EndpointChooser
        var addresses: [EndpointTarget: SocketAddress]
    }

    private let state: Mutex<State>

    init(port: ServicePortState, balancing: UserspaceBalancing) {
        state = Mutex(
            State(
                port: port,
                chooser: EndpointChooser(endpoints: Self.usable(port.endpoints), balancing: balancing, affinityTimeout: Self.timeout(port)),
                addresses: Self.addresses(port.endpoints)))
    }

    var port: ServicePortState { state.withLock { $0.port } }

    /// New endpoints for new connections and flows; the ones already relayed keep theirs.
    func update(_ port: ServicePortState) {
        let addresses = Self.addresses(port.endpoints)
        state.withLock { state in
            state.port = port
            state.addresses = addresses
            state.chooser.update(endpoints: Self.usable(port.endpoints), affinityTimeout: Self.timeout(port))
        }
    }

    /// The endpoints to try for a new connection from `client` (an IP address), the chosen one first.
    func attemptOrder(client: String?, now: ContinuousClock.Instant = .now) -> [Attempt] {
        state.withLock { state in
            state.chooser.attemptOrder(client: client, now: now).compactMap { target in
                state.addresses[target].map { Attempt(target: target, address: $0) }
            }
        }
    }

    /// `client` reached `target`: pins it there under session affinity.
    func connected(client: String?, to target: EndpointTarget, now: ContinuousClock.Instant = .now) {
        guard client != nil else { return }
        state.withLock { $0.chooser.connected(client: client, to: target, now: now) }
    }

    func contains(_ target: EndpointTarget) -> Bool {
        state.withLock { $0.addresses[target] != nil }
    }

    private static func timeout(_ port: ServicePortState) -> Duration? {
        port.affinityTimeout.map { .seconds(max(1, $0)) }
    }

    private static func addresses(_ endpoints: [EndpointTarget]) -> [EndpointTarget: SocketAddress] {
        var addresses: [EndpointTarget: SocketAddress] = [:]
        for endpoint in endpoints {
            if let address = try? SocketAddress(ipAddress: endpoint.address.description, port: endpoint.port) {
                addresses[endpoint] = address
            }
        }
        return addresses
    }

    /// Endpoints with a port a socket can reach; de-duplicated, in the port's order.
    private static func usable(_ endpoints: [EndpointTarget]) -> [EndpointTarget] {
        var seen = Set<EndpointTarget>()
        return endpoints.filter { (1...65535).contains($0.port) && seen.insert($0).inserted }
    }
}

/// Every relayed channel, so that `shutdown()` can close them all; a channel added after it is closed at once.
final class ChannelRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    func insert(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.open[id] = channel
            return true
        }
        guard accepted else { return channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { _ = $0.open.removeValue(forKey: id) }
        }
    }

    var count: Int { state.withLock { $0.open.count } }

    func closeAll() async {
        let open = state.withLock { state in
            state.closed = true
            return Array(state.open.values)
        }
        for channel in open { try? await channel.close() }
    }
}
