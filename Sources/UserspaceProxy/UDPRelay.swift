import NIOCore
import NIOPosix
import ProxyCore
import Synchronization

/// Sent down a UDP listener's pipeline when its Service port's endpoints changed: flows to an endpoint that
/// left are closed, so that the client's next datagram starts a flow to one that is there.
struct UDPEndpointsChanged: Sendable {}

/// What a UDP listener's flows share.
struct UDPRelayContext: Sendable {
    let endpoints: ServicePortEndpoints
    let configuration: UserspaceProxyConfiguration
    let counters: UserspaceCounters
}

/// The UDP side of one listener. Each client address (IP and port) is a flow with its own connected socket to
/// the endpoint chosen for it; the endpoint's replies go back out of the listener's socket, so the client
/// sees them come from the address it sent to. All of a listener's flows live on its event loop.
final class UDPListenerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Datagrams held for a flow whose socket is still being set up; beyond it they are dropped.
    static let pendingLimit = 64

    final class Flow {
        let client: SocketAddress
        let endpoint: EndpointTarget
        var channel: (any Channel)?
        var pending: [ByteBuffer] = []
        var lastActivity: NIODeadline
        var closed = false

        init(client: SocketAddress, endpoint: EndpointTarget, now: NIODeadline) {
            self.client = client
            self.endpoint = endpoint
            self.lastActivity = now
        }
    }

    private let relay: UDPRelayContext
    private var flows: [SocketAddress: Flow] = [:]
    private var context: ChannelHandlerContext?
    private var sweeper: Scheduled<Void>?

    init(relay: UDPRelayContext) {
        self.relay = relay
    }

    var flowCount: Int { flows.count }

    /// How often idle flows are looked for: often enough that a flow outlives its timeout by a fraction of it.
    private var sweepInterval: TimeAmount {
        let idle = TimeAmount(relay.configuration.udpIdleTimeout)
        return .nanoseconds(min(max(idle.nanoseconds / 4, 10_000_000), 1_000_000_000))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleSweep(context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closeAll()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let now = NIODeadline.now()
        if let flow = flows[envelope.remoteAddress] {
            flow.lastActivity = now
            forward(envelope.data, on: flow)
            return
        }
        guard relay.configuration.admits(envelope.remoteAddress, local: context.channel.localAddress) else {
            relay.counters.notAdmitted.wrappingAdd(1, ordering: .relaxed)
            return
        }
        guard relay.counters.openFlow(limit: relay.configuration.maxUDPFlows) else {
            relay.counters.droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let client = envelope.remoteAddress
        guard let attempt = relay.endpoints.attemptOrder(client: client.ipAddress).first else {
            relay.counters.closeFlow()
            relay.counters.droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
            return
        }
        relay.endpoints.connected(client: client.ipAddress, to: attempt.target)
        let flow = Flow(client: client, endpoint: attempt.target, now: now)
        flow.pending.append(envelope.data)
        flows[client] = flow
        open(flow, to: attempt.address, loop: context.eventLoop)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is UDPEndpointsChanged else { return context.fireUserInboundEventTriggered(event) }
        for flow in flows.values where !relay.endpoints.contains(flow.endpoint) {
            close(flow)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP error about one client arrives on the shared socket; the others are served on.
    }

    private func open(_ flow: Flow, to address: SocketAddress, loop: any EventLoop) {
        let relay = self.relay
        let owner = NIOLoopBound(self, eventLoop: loop)
        let boundFlow = NIOLoopBound(flow, eventLoop: loop)
        DatagramBootstrap(group: loop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPFlowHandler(owner: owner.value, flow: boundFlow.value))
                }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard !flow.closed else { return channel.close(promise: nil) }
                    flow.channel = channel
                    for datagram in flow.pending {
                        relay.counters.datagramsRelayed.wrappingAdd(1, ordering: .relaxed)
                        relay.counters.relayed(datagram.readableBytes)
                        channel.write(datagram, promise: nil)
                    }
                    flow.pending.removeAll()
                    channel.flush()
                case .failure:
                    self.close(flow)
                }
            }
    }

    private func forward(_ datagram: ByteBuffer, on flow: Flow) {
        guard let channel = flow.channel else {
            if flow.pending.count < Self.pendingLimit {
                flow.pending.append(datagram)
            } else {
                relay.counters.droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
            }
            return
        }
        // UDP has no flow control: a full send queue drops, as the network would.
        guard channel.isWritable else {
            relay.counters.droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
            return
        }
        relay.counters.datagramsRelayed.wrappingAdd(1, ordering: .relaxed)
        relay.counters.relayed(datagram.readableBytes)
        channel.writeAndFlush(datagram, promise: nil)
    }

    /// A datagram from `flow`'s endpoint: out to the client from the listener's socket.
    fileprivate func reply(_ datagram: ByteBuffer, on flow: Flow) {
        guard !flow.closed, let context else { return }
        flow.lastActivity = .now()
        guard context.channel.isWritable else {
            relay.counters.droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
            return
        }
        relay.counters.datagramsRelayed.wrappingAdd(1, ordering: .relaxed)
        relay.counters.relayed(datagram.readableBytes)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: flow.client, data: datagram)), promise: nil)
    }

    fileprivate func close(_ flow: Flow) {
        guard !flow.closed else { return }
        flow.closed = true
        flow.pending.removeAll()
        if flows[flow.client] === flow { flows[flow.client] = nil }
        flow.channel?.close(promise: nil)
        relay.counters.closeFlow()
    }

    private func closeAll() {
        sweeper?.cancel()
        sweeper = nil
        for flow in Array(flows.values) { close(flow) }
    }

    private func scheduleSweep(_ loop: any EventLoop) {
        sweeper = loop.assumeIsolated().scheduleTask(in: sweepInterval) {
            guard self.context != nil else { return }
            self.sweep(now: .now())
            self.scheduleSweep(loop)
        }
    }

    private func sweep(now: NIODeadline) {
        let idle = TimeAmount(relay.configuration.udpIdleTimeout)
        for flow in Array(flows.values) where now - flow.lastActivity >= idle {
            close(flow)
        }
    }
}

/// The connected socket of one flow: whatever the endpoint sends goes to the flow's client.
private final class UDPFlowHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let owner: UDPListenerHandler
    private let flow: UDPListenerHandler.Flow

    init(owner: UDPListenerHandler, flow: UDPListenerHandler.Flow) {
        self.owner = owner
        self.flow = flow
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.reply(unwrapInboundIn(data).data, on: flow)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The endpoint refused (ICMP port unreachable on the connected socket): end the flow, so that the
        // client's next datagram is balanced afresh instead of going on into the void.
        owner.close(flow)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // However the socket closed, the flow goes with it: a flow without a socket would swallow the client's
        // datagrams and, refreshed by them, never idle out.
        owner.close(flow)
        context.fireChannelInactive()
    }
}
