import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection to the API server, for one request at a time (the pool hands it to one
/// caller). Watches use their own connection (`HTTPWatchStream`).
public final class HTTPConnection: Sendable {
    let channel: any Channel
    let endpoint: APIEndpoint

    init(channel: any Channel, endpoint: APIEndpoint) {
        self.channel = channel
        self.endpoint = endpoint
    }

    /// Connects to `endpoint`, failing after `timeout`.
    public static func connect(
        to endpoint: APIEndpoint, timeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> HTTPConnection {
        var bootstrap = ClientBootstrap(group: group).connectTimeout(timeout)
        // Not on a Unix socket: there the kernel refuses the option (EACCES for a user who is not root).
        if case .tcp = endpoint { bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1) }
        bootstrap = bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler())
                }
            }
        let channel: any Channel
        switch endpoint {
        case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
        case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        }
        return HTTPConnection(channel: channel, endpoint: endpoint)
    }

    /// Still usable for another request.
    public var isActive: Bool { channel.isActive }

    /// Sends a request and waits for the whole response, at most `timeout` (then the connection is closed).
    public func send(_ request: APIRequestMessage, timeout: TimeAmount = .seconds(60)) async throws -> APIResponseMessage {
        let promise = channel.eventLoop.makePromise(of: APIResponseMessage.self)
        let head = Self.head(for: request, endpoint: endpoint)
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPTransportError("no response from the API server within \(timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        channel.writeAndFlush(PendingRequest(head: head, body: request.body, promise: promise), promise: nil)
        defer { deadline.cancel() }
        return try await promise.futureResult.get()
    }

    public func close() async {
        try? await channel.close()
    }

    static func head(for request: APIRequestMessage, endpoint: APIEndpoint) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.target)
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        head.headers.add(name: "User-Agent", value: "switchboard")
        head.headers.add(name: "Accept", value: "application/json")
        for (name, value) in request.headers { head.headers.replaceOrAdd(name: name, value: value) }
        head.headers.replaceOrAdd(name: "Content-Length", value: String(request.body?.readableBytes ?? 0))
        return head
    }
}

/// A request with the promise its response completes.
struct PendingRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<APIResponseMessage>
}

/// Writes requests and matches responses to them in order; fails what is outstanding when the connection goes.
final class ResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<APIResponseMessage>>()
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard context.channel.isActive else {
            request.promise.fail(HTTPTransportError.closed)
            promise?.fail(HTTPTransportError.closed)
            return
        }
        waiting.append(request.promise)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        // A write that fails (the connection went) fails the response it waits for.
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in request.promise.fail(error) }
        if let promise { written.futureResult.cascade(to: promise) }
        context.write(wrapOutboundOut(.end(nil)), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head, let promise = waiting.popFirst() else { return }
            self.head = nil
            promise.succeed(APIResponseMessage(status: Int(head.status.code), headers: head.headers, body: body))
            body = ByteBuffer()
            if !head.isKeepAlive { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HTTPTransportError.closed)
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
