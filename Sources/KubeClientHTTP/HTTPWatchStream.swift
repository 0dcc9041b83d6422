import NIOCore
import NIOHTTP1
import NIOPosix

/// A watch request on its own connection: the response body's lines are handed to `handle` one at a time.
/// Backpressure is TCP's: while `handle` runs, nothing more is read, so a slow consumer slows the server's
/// writes to this watch (and the server closes the watch if it falls too far behind).
enum HTTPWatchStream {
    /// Runs the watch until the server ends it (returns), the task is cancelled (returns), or it fails (throws).
    /// A non-2xx response is returned to the caller as `.refused` with its body.
    static func run(
        _ request: APIRequestMessage, endpoint: APIEndpoint,
        handle: (ByteBuffer) async throws -> Void
    ) async throws -> APIResponseMessage? {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(5))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        switch endpoint {
        case .tcp(let host, let port):
            channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        case .unix(let path):
            channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(HTTPConnection.head(for: request, endpoint: endpoint)))
            try await outbound.write(.end(nil))
            var status = 0
            var refusal = ByteBuffer()
            var headers = HTTPHeaders()
            var lines = WatchLineSplitter()
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                    headers = head.headers
                case .body(let chunk):
                    if !(200..<300).contains(status) {
                        var chunk = chunk
                        refusal.writeBuffer(&chunk)
                        continue
                    }
                    for line in try lines.append(chunk) { try await handle(line) }
                case .end:
                    if !(200..<300).contains(status) {
                        return APIResponseMessage(status: status, headers: headers, body: refusal)
                    }
                    if let last = lines.finish() { try await handle(last) }
                    return nil
                }
            }
            if Task.isCancelled { return nil }
            throw HTTPTransportError.closed
        }
    }
}
