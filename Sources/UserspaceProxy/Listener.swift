import IPAM
import NIOCore
import NIOPosix
import ProxyCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One bound Service port: its socket and the endpoints its connections are relayed to.
final class Listener: Sendable {
    enum Transport: String, Sendable {
        case tcp, udp
    }

    let key: String
    let transport: Transport
    let channel: any Channel
    /// `IP:port` actually bound.
    let boundAddress: String
    let endpoints: ServicePortEndpoints

    init(key: String, transport: Transport, channel: any Channel, boundAddress: String, endpoints: ServicePortEndpoints) {
        self.key = key
        self.transport = transport
        self.channel = channel
        self.boundAddress = boundAddress
        self.endpoints = endpoints
    }

    var summary: UserspaceListener {
        UserspaceListener(key: key, name: endpoints.port.name, boundAddress: boundAddress, error: nil)
    }

    /// New endpoints for what comes next; relayed connections are untouched, UDP flows to endpoints that left end.
    func update(_ port: ServicePortState) {
        endpoints.update(port)
        if transport == .udp { channel.pipeline.fireUserInboundEventTriggered(UDPEndpointsChanged()) }
    }
}

/// Where a Service port got bound, and why there.
struct BindOutcome: Sendable {
    var channel: any Channel
    var address: SocketAddress
    /// Why the listener is not on the ClusterIP and port itself, nil when it is.
    var fallbackReason: String?
}

struct BindFailure: Error, CustomStringConvertible {
    var description: String
}

/// Binds a Service port's socket: the ClusterIP itself, else (``LoopbackMapping``) the loopback address it
/// maps to, on the port or, for a privileged port the process may not bind, the port moved up.
struct ListenerBinder: Sendable {
    let group: any EventLoopGroup
    let configuration: UserspaceProxyConfiguration
    let counters: UserspaceCounters
    let registry: ChannelRegistry

    /// `bindHook` (tests): called before each bind with the address tried; throwing stands for the kernel refusing.
    func bind(
        _ port: ServicePortState, transport: Listener.Transport, endpoints: ServicePortEndpoints,
        bindHook: (@Sendable (SocketAddress) throws -> Void)? = nil
    ) async throws(BindFailure) -> BindOutcome {
        let direct: SocketAddress
        do {
            direct = try SocketAddress(ipAddress: port.clusterIP.description, port: port.port)
        } catch {
            throw BindFailure(description: "\(port.clusterIP) is not a socket address: \(error)")
        }
        let firstErrno: CInt?
        do {
            return BindOutcome(channel: try await bindOnce(direct, transport: transport, endpoints: endpoints, hook: bindHook), address: direct)
        } catch {
            firstErrno = (error as? IOError)?.errnoCode
            guard configuration.loopbackFallback, let code = firstErrno, code == EADDRNOTAVAIL || code == EACCES else {
                throw BindFailure(description: "cannot bind \(Self.text(direct)): \(error)")
            }
            guard let loopback = LoopbackMapping.address(for: port.clusterIP) else {
                throw BindFailure(description: "cannot bind \(Self.text(direct)): \(error); an IPv6 ClusterIP has no loopback fallback")
            }
            let notLocal = code == EADDRNOTAVAIL
            // A privileged port that failed for want of privilege is moved up right away; one on an address
            // that was not local may still be bindable on loopback (as root, or with CAP_NET_BIND_SERVICE).
            var tries: [(port: Int, reason: String)] = []
            if notLocal { tries.append((port.port, "the ClusterIP is not a local address")) }
            if LoopbackMapping.isPrivileged(port.port) {
                let why = notLocal ? "the ClusterIP is not a local address; port \(port.port) is privileged" : "port \(port.port) is privileged"
                tries.append((LoopbackMapping.unprivilegedPort(for: port.port), why))
            }
            var lastError: any Error = error
            for attempt in tries {
                guard let address = try? SocketAddress(ipAddress: loopback.description, port: attempt.port) else { continue }
                do {
                    let channel = try await bindOnce(address, transport: transport, endpoints: endpoints, hook: bindHook)
                    return BindOutcome(channel: channel, address: address, fallbackReason: attempt.reason)
                } catch let failure {
                    lastError = failure
                    // Only a refusal for privilege makes the moved-up port worth trying.
                    guard (failure as? IOError)?.errnoCode == EACCES else { break }
                }
            }
            throw BindFailure(description: "cannot bind \(Self.text(direct)) (\(error)) nor its loopback fallback (\(lastError))")
        }
    }

    private func bindOnce(
        _ address: SocketAddress, transport: Listener.Transport, endpoints: ServicePortEndpoints, hook: (@Sendable (SocketAddress) throws -> Void)?
    ) async throws -> any Channel {
        try hook?(address)
        // IPv6 binds only addresses assigned to an interface, not those a `local` route covers (as IPv4 does):
        // IPV6_FREEBIND lets the listener take a ClusterIP that the service CIDR's local route delivers here.
        // IPv6 ClusterIPs have no loopback fallback, so nothing relies on the bind failing for them.
        let v6 = address.protocol == .inet6
        // IPV6_FREEBIND on an IPv6 socket; on an IPv4 one the harmless SO_REUSEADDR again (the option would be refused).
        let freebind = v6
            ? ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel.ipv6, name: NIOBSDSocket.Option(rawValue: 78))
            : ChannelOptions.socketOption(.so_reuseaddr)
        switch transport {
        case .tcp:
            let relay = TCPRelayContext(endpoints: endpoints, configuration: configuration, counters: counters, registry: registry)
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(freebind, value: 1)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.writeBufferWaterMark, value: relay.waterMark)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let clientSide = RelayHandler(counters: relay.counters)
                        try channel.pipeline.syncOperations.addHandler(TCPAcceptHandler(relay: relay, clientSide: clientSide))
                        try channel.pipeline.syncOperations.addHandler(clientSide)
                    }
                }
                .bind(to: address).get()
        case .udp:
            let relay = UDPRelayContext(endpoints: endpoints, configuration: configuration, counters: counters)
            return try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(freebind, value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPListenerHandler(relay: relay))
                    }
                }
                .bind(to: address).get()
        }
    }

    /// `10.96.0.10:80`, `[fd00::10]:80`.
    static func text(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return hostPort(ip, port)
    }

    static func hostPort(_ ip: String, _ port: Int) -> String {
        ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
