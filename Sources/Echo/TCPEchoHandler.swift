import NIOCore

/// Answers once on accept and once per line received; the bytes themselves are never kept, only the length of
/// the line in progress, so that a client cannot make the server hold more than a counter.
final class TCPEchoHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Past this many bytes without a newline the client is not speaking lines; the connection is closed.
    static let maximumLineLength = 64 * 1024

    private let name: String
    private var answer = ByteBuffer()
    private var lineLength = 0
    /// A read the pipeline asked for while the peer was not draining our answers.
    private var readHeld = false

    init(name: String) {
        self.name = name
    }

    func channelActive(context: ChannelHandlerContext) {
        answer = context.channel.allocator.buffer(string: EchoAnswer.line(name: name, client: context.remoteAddress))
        context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        var lines = 0
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lines += 1
            lineLength = 0
            start = bytes.index(after: newline)
        }
        lineLength += bytes.endIndex - start
        for _ in 0..<lines { context.write(wrapOutboundOut(answer), promise: nil) }
        if lines > 0 { context.flush() }
        if lineLength > Self.maximumLineLength { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return context.fireUserInboundEventTriggered(event) }
        // `printf hello | nc` ends its only line with EOF rather than a newline; it still deserves an answer.
        let channel = context.channel
        if lineLength > 0 {
            lineLength = 0
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    // Back-pressure: a client that sends lines without reading the answers stops being read from, instead of
    // making the server queue answers without bound.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
