import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One bound socket of a running `EchoServer`.
public struct EchoListener: Sendable, Hashable, CustomStringConvertible {
    public var transport: EchoTransport
    /// The address the kernel bound, with the real port when 0 was asked for.
    public var address: SocketAddress

    public init(transport: EchoTransport, address: SocketAddress) {
        self.transport = transport
        self.address = address
    }

    /// The bound port: the kernel's choice when 0 was asked for.
    public var port: Int { address.port ?? 0 }

    /// `0.0.0.0:8080`, `[::]:8080`.
    public var hostPort: String { EchoAnswer.clientText(address) }

    /// `tcp listening on 0.0.0.0:8080`.
    public var description: String { "\(transport) listening on \(hostPort)" }
}

/// The echo workload's servers: TCP, UDP and HTTP listeners that answer with the pod's name and the client
/// address they saw, so that a test can tell which endpoint answered and whether the source was masqueraded.
public final class EchoServer: Sendable {
    /// Every socket bound, in the order TCP, UDP, HTTP; IPv4 before IPv6 for an all-addresses listener.
    public let listeners: [EchoListener]
    /// The name in every answer.
    public let name: String
    private let channels: EchoChannelSet

    private init(listeners: [EchoListener], name: String, channels: EchoChannelSet) {
        self.listeners = listeners
        self.name = name
        self.channels = channels
    }

    /// Binds the listeners asked for (at least one should be) and starts answering.
    ///
    /// A listener without a host binds `0.0.0.0` and, when the host has IPv6, `[::]` on the same port.
    /// Throws `EchoError.cannotListen` and binds nothing when any listener fails.
    public static func start(
        tcp: EchoListenAddress? = nil, udp: EchoListenAddress? = nil, http: EchoListenAddress? = nil,
        name: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(EchoError) -> EchoServer {
        let channels = EchoChannelSet()
        var listeners: [EchoListener] = []
        let wanted: [(EchoTransport, EchoListenAddress)] = [(.tcp, tcp), (.udp, udp), (.http, http)].compactMap { transport, address in
            address.map { (transport, $0) }
        }
        do {
            for (transport, address) in wanted {
                let binder = EchoBinder(transport: transport, name: name, group: group, children: channels)
                for channel in try await binder.bind(address) {
                    channels.insert(channel)
                    if let local = channel.localAddress {
                        listeners.append(EchoListener(transport: transport, address: local))
                    }
                }
            }
        } catch {
            await channels.closeAll()
            throw error
        }
        return EchoServer(listeners: listeners, name: name, channels: channels)
    }

    /// Stops listening and closes every connection still open.
    public func close() async {
        await channels.closeAll()
    }
}

/// The listeners and accepted connections of one server, so that `close()` can end them all; a connection
/// accepted while closing is closed at once.
final class EchoChannelSet: Sendable {
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

    func closeAll() async {
        let open = state.withLock { state in
            state.closed = true
            return Array(state.open.values)
        }
        for channel in open {
            try? await channel.close()
        }
    }
}
