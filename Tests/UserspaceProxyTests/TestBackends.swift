import IPAM
import NIOCore
import NIOPosix
import ProxyCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 that greets, echoes, and keeps its connections so that a test can reset one.
final class EchoingServer: Sendable {
    let channel: any Channel
    private let accepted = Mutex<[any Channel]>([])

    var endpoint: EndpointTarget { EndpointTarget(address: IPAddress("127.0.0.1")!, port: channel.localAddress!.port!) }
    var connections: [any Channel] { accepted.withLock { $0 } }

    private init(channel: any Channel) { self.channel = channel }

    static func start() async throws -> EchoingServer {
        let box = Mutex<EchoingServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelInitializer { channel in
                box.withLock { $0 }?.accepted.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(GreetAndEcho()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = EchoingServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    /// Ends one connection with a RST.
    func reset(_ connection: any Channel) async throws {
        let provider = try require2(connection as? any SocketOptionProvider)
        try await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try await connection.close()
    }

    func close() async {
        try? await channel.close()
        for connection in connections { try? await connection.close() }
    }
}

func require2<T>(_ value: T?) throws -> T {
    guard let value else { throw TestFailure("missing value") }
    return value
}

private final class GreetAndEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "hello\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A TCP server on 127.0.0.1 that writes `total` bytes to every client as fast as the client takes them,
/// counting the bytes the kernel accepted.
final class FloodServer: Sendable {
    let channel: any Channel
    private let counter: Counter

    var endpoint: EndpointTarget { EndpointTarget(address: IPAddress("127.0.0.1")!, port: channel.localAddress!.port!) }
    var bytesWritten: Int { counter.value.load(ordering: .relaxed) }

    private init(channel: any Channel, counter: Counter) {
        self.channel = channel
        self.counter = counter
    }

    static func start(total: Int) async throws -> FloodServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A small send buffer, so that what the kernel holds stays small next to what is measured.
            .childChannelOption(.socketOption(.so_sndbuf), value: 64 * 1024)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Flood(total: total, counter: counter)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FloodServer(channel: channel, counter: counter)
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private final class Flood: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let total: Int
        let counter: Counter
        var queued = 0

        init(total: Int, counter: Counter) {
            self.total = total
            self.counter = counter
        }

        func channelActive(context: ChannelHandlerContext) { pump(context) }

        func channelWritabilityChanged(context: ChannelHandlerContext) { pump(context) }

        private func pump(_ context: ChannelHandlerContext) {
            let chunk = ByteBuffer(repeating: 0x61, count: 64 * 1024)
            let counter = self.counter
            while context.channel.isWritable, queued < total {
                queued += chunk.readableBytes
                context.write(wrapOutboundOut(chunk)).whenSuccess { counter.value.wrappingAdd(64 * 1024, ordering: .relaxed) }
            }
            context.flush()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    func close() async { try? await channel.close() }
}
