import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The client side of the echo workload, for tests and demos inside pods: one request, one answer line.
public enum EchoClient {
    /// Answers longer than this are not echo answers; the query fails instead of buffering them.
    public static let maximumAnswerLength = 64 * 1024

    /// Parses `url` (see `EchoTarget`) and queries it.
    public static func query(
        _ url: String, timeout: Duration = .seconds(2), sourcePort: Int? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(EchoError) -> String {
        try await query(EchoTarget(parsing: url), timeout: timeout, sourcePort: sourcePort, group: group)
    }

    /// Sends one request (TCP: a new connection; UDP: one datagram from a new socket; HTTP: a GET on a new
    /// connection) and returns the answer line without its line break.
    ///
    /// `timeout` bounds the whole request, connecting included (a host name's lookup is waited for but cannot
    /// be cut short). Fresh connections and sockets each time let a Service's load balancing show; a UDP
    /// `sourcePort` keeps the flow (the 5-tuple connection tracking knows) the same from one query to the next.
    public static func query(
        _ target: EchoTarget, timeout: Duration = .seconds(2), sourcePort: Int? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(EchoError) -> String {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let loop = group.next()
        let answer = loop.makePromise(of: String.self)
        let timer = loop.scheduleTask(deadline: deadline) { answer.fail(EchoError.noAnswer(target, timeout: timeout)) }
        defer {
            timer.cancel()
            // Every path completes the promise, so none is left pending when this returns.
            answer.fail(EchoQueryFailure.abandoned)
        }
        do {
            let address = try await EchoResolver.resolve(host: target.host, port: target.port)
            let channel = try await open(target, at: address, on: loop, answer: answer, deadline: deadline, sourcePort: sourcePort)
            defer { channel.close(promise: nil) }
            return try await answer.futureResult.get()
        } catch {
            throw classify(error, target: target, timeout: timeout, deadline: deadline)
        }
    }

    private static func open(
        _ target: EchoTarget, at address: SocketAddress, on loop: any EventLoop,
        answer: EventLoopPromise<String>, deadline: NIODeadline, sourcePort: Int?
    ) async throws -> any Channel {
        let connectTimeout = max(deadline - .now(), .milliseconds(1))
        switch target.transport {
        case .tcp:
            return try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TCPAnswerReader(answer: answer))
                    }
                }
                .connect(to: address).get()
        case .http:
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path)
            head.headers.add(name: "Host", value: target.hostPort)
            head.headers.add(name: "User-Agent", value: "switchboard-echo")
            head.headers.add(name: "Connection", value: "close")
            return try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelInitializer { [head] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(HTTPAnswerReader(request: head, answer: answer))
                    }
                }
                .connect(to: address).get()
        case .udp:
            // A connected socket: the kernel drops datagrams from any other source (an answer that was not
            // un-NATed is no answer) and reports ICMP port unreachable as ECONNREFUSED.
            let bootstrap = DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPAnswerReader(answer: answer))
                    }
                }
            let channel: any Channel
            if let sourcePort {
                channel = try await bootstrap.bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: sourcePort).get()
                try await channel.connect(to: address).get()
            } else {
                channel = try await bootstrap.connect(to: address).get()
            }
            do {
                try await channel.writeAndFlush(channel.allocator.buffer(string: "echo\n"))
            } catch {
                channel.close(promise: nil)
                throw error
            }
            return channel
        }
    }

    private static func classify(
        _ error: any Error, target: EchoTarget, timeout: Duration, deadline: NIODeadline
    ) -> EchoError {
        switch error {
        case let error as EchoError:
            return error
        case let failure as EchoQueryFailure:
            switch failure {
            case .closedEarly: return .failed(target, reason: "closed the connection without answering")
            case .tooLong: return .failed(target, reason: "answered more than \(maximumAnswerLength / 1024) KiB")
            case .status(let status): return .failed(target, reason: "answered HTTP \(status.code) \(status.reasonPhrase)")
            case .abandoned: return .noAnswer(target, timeout: timeout)
            }
        case ChannelError.connectTimeout:
            return .noAnswer(target, timeout: timeout)
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return .refused(target)
        default:
            // Whatever broke after the deadline passed, the user-visible fact is that no answer came in time.
            if NIODeadline.now() >= deadline { return .noAnswer(target, timeout: timeout) }
            return .failed(target, reason: EchoResolver.reason(error))
        }
    }
}

/// Why a query's answer promise failed, before `EchoClient` names the target.
enum EchoQueryFailure: Error {
    case closedEarly
    case tooLong
    case status(HTTPResponseStatus)
    case abandoned
}
