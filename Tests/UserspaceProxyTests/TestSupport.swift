import Echo
import IPAM
import Logging
import NIOCore
import NIOPosix
import ProxyCore
import Synchronization
import Testing
@testable import UserspaceProxy

#if canImport(Glibc)
import Glibc
#endif

/// A deadline for a whole test: the body is cancelled and the test fails if it has not finished in time.
@discardableResult
func within<T: Sendable>(seconds: Double = 20, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TestFailure("the test did not finish within \(seconds) s")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds; throws once `timeout` has passed.
func eventually(_ what: String, timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

/// A proxy on the test group, shut down after `body`.
func withProxy<T: Sendable>(
    _ configuration: UserspaceProxyConfiguration = UserspaceProxyConfiguration(connectTimeout: .milliseconds(500)),
    bindHook: (@Sendable (SocketAddress) throws -> Void)? = nil,
    _ body: @Sendable (UserspaceProxy) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test.userspace")
    logger.logLevel = .warning
    let proxy = UserspaceProxy(configuration: configuration, group: testGroup, logger: logger, bindHook: bindHook)
    do {
        let result = try await body(proxy)
        await proxy.shutdown()
        return result
    } catch {
        await proxy.shutdown()
        throw error
    }
}

/// Echo servers (TCP or UDP) on 127.0.0.1, named `prefix1`, `prefix2`…, closed after `body`.
func withBackends<T: Sendable>(
    _ count: Int, udp: Bool = false, prefix: String = "b", _ body: @Sendable ([EchoServer]) async throws -> T
) async throws -> T {
    var servers: [EchoServer] = []
    do {
        for index in 1...count {
            let address = EchoListenAddress(host: "127.0.0.1", port: 0)
            servers.append(try await EchoServer.start(tcp: udp ? nil : address, udp: udp ? address : nil, name: "\(prefix)\(index)"))
        }
        let result = try await body(servers)
        for server in servers { await server.close() }
        return result
    } catch {
        for server in servers { await server.close() }
        throw error
    }
}

extension EchoServer {
    var endpoint: EndpointTarget { EndpointTarget(address: IPAddress("127.0.0.1")!, port: listeners[0].port) }
}

func servicePort(
    _ clusterIP: String, _ port: Int, _ endpoints: [EndpointTarget], transport: String = "tcp", affinity: Int? = nil, name: String = "default/web:http"
) -> ServicePortState {
    ServicePortState(name: name, clusterIP: IPAddress(clusterIP)!, transport: transport, port: port, endpoints: endpoints, affinityTimeout: affinity)
}

/// `pod=b1 client=…` → `b1`.
func podName(_ line: String?) -> String? {
    guard let line, line.hasPrefix("pod=") else { return nil }
    return String(line.dropFirst(4).prefix { $0 != " " })
}

/// A TCP connection for speaking lines by hand.
struct LineConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var received = ByteBuffer()

    static func with<T: Sendable>(host: String, port: Int, _ body: (inout LineConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = LineConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text)) }

    func finishSending() { outbound.finish() }

    private mutating func fill() async throws -> Bool {
        guard var chunk = try await inbound.next() else { return false }
        received.writeBuffer(&chunk)
        return true
    }

    mutating func readLine() async throws -> String? {
        while true {
            if let newline = received.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                return received.readString(length: newline - received.readerIndex + 1)
            }
            guard try await fill() else { return nil }
        }
    }

    /// Everything until the peer closes, and the error that ended it if it did not end cleanly.
    mutating func readToEnd() async -> (text: String, error: (any Error)?) {
        do {
            while try await fill() {}
            return (received.readString(length: received.readableBytes) ?? "", nil)
        } catch {
            return (received.readString(length: received.readableBytes) ?? "", error)
        }
    }
}

/// The pod that greets a new connection to `host:port`.
func greeting(_ host: String, _ port: Int) async throws -> String? {
    podName(try await LineConnection.with(host: host, port: port) { try await $0.readLine() })
}

/// Expects a new connection to `host:port` to be greeted by `pod`.
func expectGreeting(_ host: String, _ port: Int, _ pod: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let name = try await greeting(host, port)
    #expect(name == pod, sourceLocation: sourceLocation)
}

func isReset(_ error: (any Error)?) -> Bool {
    guard let error else { return false }
    // A reset that races the connect's completion fails the connect itself, wrapped in NIO's connection error.
    return (error as? IOError)?.errnoCode == ECONNRESET || "\(error)".contains("errno: \(ECONNRESET)")
}

/// Connects and reads to the end; a connect that fails counts as the error that ended it.
func readToEnd(host: String, port: Int) async -> (text: String, error: (any Error)?) {
    do {
        return try await LineConnection.with(host: host, port: port) { await $0.readToEnd() }
    } catch {
        return ("", error)
    }
}

/// How a connect attempt ended.
func connectError(host: String, port: Int) async -> (any Error)? {
    do {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: host, port: port).get()
        try? await channel.close()
        return nil
    } catch {
        return error
    }
}

/// A UDP socket on 127.0.0.1 sending to `target` and reading its answers.
func withUDPClient<T: Sendable>(_ body: (NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>, inout NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>.AsyncIterator, Int) async throws -> T) async throws -> T {
    let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
            }
        }
    let port = channel.channel.localAddress?.port ?? 0
    return try await channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        return try await body(outbound, &iterator, port)
    }
}
