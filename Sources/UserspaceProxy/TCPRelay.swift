import NIOCore
import NIOPosix
import ProxyCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a TCP listener's connections share: where to connect, the limits, the counters.
struct TCPRelayContext: Sendable {
    let endpoints: ServicePortEndpoints
    let configuration: UserspaceProxyConfiguration
    let counters: UserspaceCounters
    let registry: ChannelRegistry

    /// Pending bytes on one side above which the other side is not read from.
    var waterMark: ChannelOptions.Types.WriteBufferWaterMark {
        let high = max(1, configuration.bufferLimit)
        return .init(low: max(1, high / 2), high: high)
    }
}

enum TCPRelay {
    /// Ends `channel` with a reset (SO_LINGER 0), so that its peer sees ECONNRESET rather than an orderly EOF
    /// that could pass for a complete answer.
    static func reset(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// The first handler of an accepted client: admits it under the connection limit, connects to an endpoint
/// (failing over to the next ones), then joins the two sides with a pair of ``RelayHandler``s and goes.
///
/// The client channel has autoRead off and nothing reads from it until the backend is connected, so that the
/// proxy holds no bytes for a connection that may never get a backend.
final class TCPAcceptHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let relay: TCPRelayContext
    private let clientSide: RelayHandler
    private var clientGone = false

    init(relay: TCPRelayContext, clientSide: RelayHandler) {
        self.relay = relay
        self.clientSide = clientSide
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard relay.configuration.admits(channel.remoteAddress, local: channel.localAddress) else {
            clientGone = true
            relay.counters.notAdmitted.wrappingAdd(1, ordering: .relaxed)
            TCPRelay.reset(channel)
            return
        }
        guard relay.counters.openConnection(limit: relay.configuration.maxConnections) else {
            clientGone = true
            TCPRelay.reset(channel)
            return
        }
        let counters = relay.counters
        channel.closeFuture.whenComplete { _ in counters.closeConnection() }
        relay.registry.insert(channel)
        let attempts = relay.endpoints.attemptOrder(client: context.remoteAddress?.ipAddress)
        connect(client: channel, attempts: attempts[...], context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientGone = true
        context.fireChannelInactive()
    }

    private func connect(client: any Channel, attempts: ArraySlice<ServicePortEndpoints.Attempt>, context: ChannelHandlerContext) {
        guard let attempt = attempts.first else {
            relay.counters.failed()
            TCPRelay.reset(client)
            return
        }
        let relay = self.relay
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(TimeAmount(relay.configuration.connectTimeout))
            .channelOption(.autoRead, value: false)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.writeBufferWaterMark, value: relay.waterMark)
            .connect(to: attempt.address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let backend):
                    self.connected(client: client, backend: backend, attempt: attempt, context: context)
                case .failure:
                    if self.clientGone { return }
                    if attempts.count > 1 { relay.counters.retried() }
                    self.connect(client: client, attempts: attempts.dropFirst(), context: context)
                }
            }
    }

    private func connected(client: any Channel, backend: any Channel, attempt: ServicePortEndpoints.Attempt, context: ChannelHandlerContext) {
        // The client left while we were connecting: nothing to relay.
        guard !clientGone, client.isActive else {
            backend.close(promise: nil)
            return
        }
        let backendSide = RelayHandler(counters: relay.counters)
        do {
            try backend.pipeline.syncOperations.addHandler(backendSide)
        } catch {
            backend.close(promise: nil)
            TCPRelay.reset(client)
            return
        }
        relay.registry.insert(backend)
        relay.endpoints.connected(client: client.remoteAddress?.ipAddress, to: attempt.target)
        RelayHandler.join(clientSide, backendSide)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        clientSide.startReading()
        backendSide.startReading()
    }
}

/// One side of a relayed TCP connection, joined to the handler of the other side (both on one event loop).
///
/// - Backpressure: a side is read from only while the other side's channel is writable (its pending bytes
///   under the `bufferLimit` water mark), so a reader that does not read stops the writer at the far end
///   instead of making the proxy buffer.
/// - Half-close: EOF on one side becomes, once what it sent is written, a shutdown of the other side's output;
///   a side whose partner has gone entirely is closed once its own pending bytes are written.
/// - Reset: an error on one side (ECONNRESET, a broken pipe, a timeout) resets the other, so that a client never
///   mistakes a backend's death for the end of its answer.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: UserspaceCounters
    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// A read we did not issue because the partner could not take more.
    private var readPending = false
    private var inputClosed = false
    private var outputClosing = false
    /// Reset or closing for good: nothing more is written.
    private var finished = false

    init(counters: UserspaceCounters) {
        self.counters = counters
    }

    static func join(_ a: RelayHandler, _ b: RelayHandler) {
        a.partner = b
        b.partner = a
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func startReading() { requestRead() }

    private var partnerWritable: Bool { partner?.context?.channel.isWritable ?? false }

    private func requestRead() {
        guard let context, !inputClosed, partner != nil else { return }
        if partnerWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    private func partnerBecameWritable() {
        guard readPending else { return }
        readPending = false
        requestRead()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // Without a partner the bytes have nowhere to go.
        guard let partner else { return }
        counters.relayed(buffer.readableBytes)
        partner.send(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
        requestRead()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return context.fireUserInboundEventTriggered(event) }
        inputClosed = true
        if let partner {
            partner.finishOutput()
        } else {
            closeAfterDrain()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partner = unlink()
        partner?.closeAfterDrain()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let partner = unlink()
        partner?.reset()
        finished = true
        context.close(promise: nil)
    }

    // MARK: Driven by the partner

    private func send(_ buffer: ByteBuffer) {
        guard let context, !outputClosing, !finished else { return }
        let bytes = buffer.readableBytes
        let counters = self.counters
        counters.bufferedBytes.wrappingAdd(bytes, ordering: .relaxed)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in counters.bufferedBytes.wrappingSubtract(bytes, ordering: .relaxed) }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// The partner's input ended: once everything it sent is written, half-close this side; a side whose input
    /// ended too is done both ways and is closed.
    private func finishOutput() {
        guard let context, !outputClosing, !finished else { return }
        outputClosing = true
        let channel = context.channel
        // An empty write completes after every write before it: the moment the pending bytes are out.
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            guard !self.finished else { return }
            if self.inputClosed {
                self.finished = true
                channel.close(promise: nil)
            } else {
                channel.close(mode: .output, promise: nil)
            }
        }
    }

    /// How long a side whose partner is gone may take to write what it was sent before it is reset: a peer
    /// that stops reading must not keep a descriptor and a buffer forever, outside the connection count.
    static let drainTimeout: TimeAmount = .seconds(30)

    /// The partner is gone: close once what it sent is written (reset if that takes longer than `drainTimeout`).
    private func closeAfterDrain() {
        guard let context, !finished else { return }
        finished = true
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: Self.drainTimeout) { TCPRelay.reset(channel) }
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }

    private func reset() {
        guard let context, !finished else { return }
        finished = true
        counters.resetConnections.wrappingAdd(1, ordering: .relaxed)
        TCPRelay.reset(context.channel)
    }

    private func unlink() -> RelayHandler? {
        let partner = self.partner
        self.partner = nil
        partner?.partner = nil
        return partner
    }
}
