import Echo
import IPAM
import NIOCore
import NIOPosix
import ProxyCore
import Testing
@testable import UserspaceProxy

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ScaleTests {
    /// 10,000 clients held open at once: 40,000 descriptors in this process (client, accepted, to the backend,
    /// at the backend). Raising RLIMIT_NOFILE's hard limit that far takes CAP_SYS_RESOURCE (root's, usually);
    /// without it the test runs as many connections as the limit leaves room for, and says so.
    @Test func tenThousandConcurrentConnections() async throws {
        let raised = raiseDescriptorLimit(to: 65_536)
        let limit = UserspaceProxy.raiseFileDescriptorLimit().soft
        let total = min(10_000, (limit - 1_000) / 4)
        if total < 10_000 {
            print(
                "scale: RLIMIT_NOFILE is \(limit) and could\(raised ? "" : " not") be raised (root without CAP_SYS_RESOURCE?): \(total) connections instead of 10,000"
            )
        }
        try await within(seconds: 60) {
            // Greets and echoes, so each client gets two lines; a listen backlog deep enough for the burst.
            let server = try await EchoingServer.start()
            let clients = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            defer { Task { await server.close(); try? await clients.shutdownGracefully() } }
            try await withProxy(UserspaceProxyConfiguration(connectTimeout: .seconds(5), maxConnections: total)) { proxy in
                #expect(proxy.statistics.descriptorLimit == limit)
                _ = await proxy.apply([servicePort("127.4.1.1", 20301, [server.endpoint])])
                let started = ContinuousClock.now
                let channels = try await withThrowingTaskGroup(of: (any Channel).self) { group in
                    var opened: [any Channel] = []
                    opened.reserveCapacity(total)
                    var launched = 0
                    // A window of connects in flight: all at once would overflow the listen backlog into SYN retries.
                    while launched < min(total, 256) {
                        group.addTask { try await exchange(group: clients) }
                        launched += 1
                    }
                    while let channel = try await group.next() {
                        opened.append(channel)
                        if launched < total {
                            group.addTask { try await exchange(group: clients) }
                            launched += 1
                        }
                    }
                    return opened
                }
                let openedIn = ContinuousClock.now - started
                #expect(channels.count == total)
                let peak = proxy.statistics
                #expect(server.connections.count == total)
                #expect(peak.activeConnections == total)
                #expect(peak.peakConnections == total)
                #expect(peak.rejectedByLimit == 0)
                #expect(peak.failedConnects == 0)
                let descriptors = openDescriptors()
                #expect(descriptors >= 4 * total)
                print("scale: \(total) connections open in \(openedIn), \(descriptors) descriptors open at the peak")
                for channel in channels { channel.close(promise: nil) }
                try await eventually("every connection closed", timeout: .seconds(20)) { proxy.statistics.activeConnections == 0 }
                #expect(proxy.statistics.acceptedConnections == total)
            }
        }
    }
}

/// One client: connects, says a line, waits for the greeting and the answer, and stays open.
private func exchange(group: MultiThreadedEventLoopGroup) async throws -> any Channel {
    let loop = group.next()
    let answered = loop.makePromise(of: Void.self)
    let channel = try await ClientBootstrap(group: loop)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(TwoLines(answered)) }
        }
        .connect(host: "127.4.1.1", port: 20301).get()
    try await answered.futureResult.get()
    return channel
}

private final class TwoLines: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let answered: EventLoopPromise<Void>
    private var lines = 0

    init(_ answered: EventLoopPromise<Void>) { self.answered = answered }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "ping\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lines += unwrapInboundIn(data).readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
        if lines >= 2 { answered.succeed() }
    }

    func channelInactive(context: ChannelHandlerContext) { answered.fail(ChannelError.ioOnClosedChannel) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answered.fail(error)
        context.close(promise: nil)
    }
}

/// Descriptors this process has open.
private func openDescriptors() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 2
}
