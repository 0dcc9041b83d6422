import NIOCore
import NIOHTTP1

/// The answer line without its line break (`\n` or `\r\n`); invalid UTF-8 is shown, not rejected.
func answerText(_ bytes: ByteBufferView) -> String {
    var text = bytes
    if text.last == UInt8(ascii: "\n") { text = text.dropLast() }
    if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
    return String(decoding: text, as: UTF8.self)
}

/// Reads the first line a TCP echo server sends.
final class TCPAnswerReader: ChannelInboundHandler, AnswerReader {
    typealias InboundIn = ByteBuffer

    let answer: EventLoopPromise<String>
    private var received = ByteBuffer()

    init(answer: EventLoopPromise<String>) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        let bytes = received.readableBytesView
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            answer.succeed(answerText(bytes[..<bytes.index(after: newline)]))
            context.close(promise: nil)
        } else if bytes.count > EchoClient.maximumAnswerLength {
            answer.fail(EchoQueryFailure.tooLong)
            context.close(promise: nil)
        }
    }
}

/// Takes the first datagram back as the answer.
final class UDPAnswerReader: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let answer: EventLoopPromise<String>

    init(answer: EventLoopPromise<String>) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        answer.succeed(answerText(unwrapInboundIn(data).data.readableBytesView))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ECONNREFUSED here is ICMP port unreachable for our datagram.
        answer.fail(error)
    }
}

/// Sends one GET when connected and takes the body of a 200 response as the answer.
final class HTTPAnswerReader: ChannelInboundHandler, AnswerReader {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    let answer: EventLoopPromise<String>
    private var status: HTTPResponseStatus?
    private var body = ByteBuffer()

    init(request: HTTPRequestHead, answer: EventLoopPromise<String>) {
        self.request = request
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= EchoClient.maximumAnswerLength else {
                answer.fail(EchoQueryFailure.tooLong)
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&chunk)
        case .end:
            if let status, status == .ok {
                answer.succeed(answerText(body.readableBytesView))
            } else {
                answer.fail(EchoQueryFailure.status(status ?? .badGateway))
            }
            context.close(promise: nil)
        }
    }
}

/// A client handler that completes `answer`: a connection that ends or fails first fails it.
protocol AnswerReader: ChannelInboundHandler {
    var answer: EventLoopPromise<String> { get }
}

extension AnswerReader {
    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(EchoQueryFailure.closedEarly)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(error)
        context.close(promise: nil)
    }
}
