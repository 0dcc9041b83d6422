import DNSWire
import NIOCore

/// Answers UDP queries on the loop that read them; replies are written as they are made and flushed once per
/// batch of reads, so that NIO can send them with one `sendmmsg`.
final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let server: DNSServer
    private var writer = DNSMessageWriter()
    private var unflushed = false

    init(server: DNSServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let channel = context.channel
        let client = envelope.remoteAddress
        let reply = server.handle(envelope.data, tcp: false, client: client, writer: &writer, loop: context.eventLoop) { bytes in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: channel.allocator.buffer(bytes: bytes)), promise: nil)
        }
        guard let reply else { return }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: context.channel.allocator.buffer(bytes: reply))), promise: nil)
        unflushed = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A send to a client that went away (ICMP unreachable) is its problem, not the socket's.
    }
}

/// Splits a TCP stream into DNS messages by their two-byte length (RFC 1035 §4.2.2).
struct DNSTCPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self), buffer.readableBytes >= 2 + Int(length) else {
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

/// Answers queries on one TCP connection, in order of arrival for in-zone answers (forwarded ones as they come
/// back, which RFC 7766 §7 allows); closes idle connections and those over the connection limit.
final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: DNSServer
    private var writer = DNSMessageWriter(capacity: 4096)
    private var counted = false

    init(server: DNSServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        counted = true
        if !server.tcpOpened() {
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { server.tcpClosed() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        let channel = context.channel
        let client = context.remoteAddress
        let reply = server.handle(packet, tcp: true, client: client, writer: &writer, loop: context.eventLoop) { bytes in
            guard let framed = try? DNSTCPFraming.frame(bytes) else { return }
            channel.writeAndFlush(channel.allocator.buffer(bytes: framed), promise: nil)
        }
        guard let reply, let framed = try? DNSTCPFraming.frame(reply) else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: framed)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
