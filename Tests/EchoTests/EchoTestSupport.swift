import Echo
import NIOCore
import NIOPosix
import Testing

/// A deadline for a whole test: the body is cancelled and the test fails if it has not finished in time.
@discardableResult
func within<T: Sendable>(
    seconds: Double = 10, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw DeadlinePassed(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct DeadlinePassed: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "the test did not finish within \(seconds) s" }
}

/// A server on 127.0.0.1 with kernel-chosen ports, closed after `body`.
@discardableResult
func withEchoServer<T: Sendable>(
    tcp: Bool = false, udp: Bool = false, http: Bool = false, name: String = "test-pod",
    _ body: @Sendable (EchoServer) async throws -> T
) async throws -> T {
    let loopback = EchoListenAddress(host: "127.0.0.1", port: 0)
    let server = try await EchoServer.start(
        tcp: tcp ? loopback : nil, udp: udp ? loopback : nil, http: http ? loopback : nil, name: name)
    do {
        let result = try await body(server)
        await server.close()
        return result
    } catch {
        await server.close()
        throw error
    }
}

extension EchoServer {
    func port(_ transport: EchoTransport) throws -> Int {
        try #require(listeners.first { $0.transport == transport }?.port)
    }
}

/// A raw TCP connection to 127.0.0.1 for speaking lines or HTTP by hand.
struct RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var received = ByteBuffer()
    /// Our own address as the server should report it.
    let localAddress: String

    static func with<T: Sendable>(port: Int, _ body: (inout RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        let local = "127.0.0.1:\(channel.channel.localAddress?.port ?? -1)"
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound, localAddress: local)
            return try await body(&connection)
        }
    }

    private init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, localAddress: String
    ) {
        self.inbound = inbound
        self.outbound = outbound
        self.localAddress = localAddress
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Half-closes: the server sees end of input.
    func finishSending() {
        outbound.finish()
    }

    /// Reads one more chunk into `received`; false at end of input.
    private mutating func fill() async throws -> Bool {
        guard var chunk = try await inbound.next() else { return false }
        received.writeBuffer(&chunk)
        return true
    }

    /// The next line with its `\n`, or nil when the connection ends first.
    mutating func readLine() async throws -> String? {
        while true {
            if let newline = received.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - received.readerIndex + 1
                return received.readString(length: length)
            }
            guard try await fill() else { return nil }
        }
    }

    /// Everything until the server closes.
    mutating func readToEnd() async throws -> String {
        while try await fill() {}
        return received.readString(length: received.readableBytes) ?? ""
    }

    /// One HTTP/1.1 response with a Content-Length body: its status line, headers (names lowercased) and body.
    mutating func readHTTPResponse() async throws -> (status: String, headers: [String: String], body: String) {
        let separator = Array("\r\n\r\n".utf8)
        while true {
            let view = received.readableBytesView
            if let end = view.indices.first(where: { view[$0...].starts(with: separator) }) {
                let head = received.readString(length: end - received.readerIndex + separator.count) ?? ""
                var lines = head.split(separator: "\r\n").map(String.init)
                let status = lines.removeFirst()
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingPrefix(" ").description
                }
                let length = Int(headers["content-length"] ?? "") ?? 0
                while received.readableBytes < length {
                    guard try await fill() else { throw ConnectionEnded() }
                }
                return (status, headers, received.readString(length: length) ?? "")
            }
            guard try await fill() else { throw ConnectionEnded() }
        }
    }
}

struct ConnectionEnded: Error {}
