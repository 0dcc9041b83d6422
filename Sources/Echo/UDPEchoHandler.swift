import NIOCore

/// Answers every datagram, whatever it holds, with one datagram to its sender.
final class UDPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let name: String

    init(name: String) {
        self.name = name
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // UDP has no flow control: when the send queue is full, dropping the answer is what the network would do.
        guard context.channel.isWritable else { return }
        let client = unwrapInboundIn(data).remoteAddress
        let answer = context.channel.allocator.buffer(string: EchoAnswer.line(name: name, client: client))
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: answer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors about one client (port unreachable, host unreachable) arrive here; the socket serves others.
    }
}
