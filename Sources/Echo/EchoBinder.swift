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

/// Binds the sockets of one listener and sets up their pipelines.
struct EchoBinder {
    let transport: EchoTransport
    let name: String
    let group: any EventLoopGroup
    let children: EchoChannelSet

    /// One socket for an explicit host; `0.0.0.0` plus `[::]` (when IPv6 exists) for all addresses.
    func bind(_ address: EchoListenAddress) async throws(EchoError) -> [any Channel] {
        guard (0...65535).contains(address.port) else {
            throw EchoError.badListenAddress(address.description, reason: "has no port from 0 to 65535")
        }
        if let host = address.host {
            let socketAddress: SocketAddress
            do {
                socketAddress = try await EchoResolver.resolve(host: host, port: address.port)
            } catch {
                throw EchoError.cannotListen(transport, address: address.description, reason: EchoResolver.reason(error))
            }
            return [try await bind(socketAddress, v6Only: false)]
        }
        // With port 0 the IPv6 socket reuses the port the kernel picked for IPv4, which something else may
        // hold on IPv6 only; a fresh pick is the way out.
        let attempts = address.port == 0 ? 3 : 1
        var attempt = 1
        while true {
            let v4 = try await bind(try! SocketAddress(ipAddress: "0.0.0.0", port: address.port), v6Only: false)
            let port = v4.localAddress?.port ?? address.port
            do {
                let v6 = try await bindRaw(try! SocketAddress(ipAddress: "::", port: port), v6Only: true)
                return [v4, v6]
            } catch let error as IOError where [EAFNOSUPPORT, EADDRNOTAVAIL, EPROTONOSUPPORT].contains(error.errnoCode) {
                // No IPv6 on this host (ipv6.disable=1), or none in this network namespace.
                return [v4]
            } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < attempts {
                try? await v4.close()
                attempt += 1
            } catch {
                try? await v4.close()
                throw EchoError.cannotListen(transport, address: "[::]:\(port)", reason: EchoResolver.reason(error))
            }
        }
    }

    private func bind(_ address: SocketAddress, v6Only: Bool) async throws(EchoError) -> any Channel {
        do {
            return try await bindRaw(address, v6Only: v6Only)
        } catch {
            throw EchoError.cannotListen(
                transport, address: EchoAnswer.clientText(address), reason: EchoResolver.reason(error))
        }
    }

    private func bindRaw(_ address: SocketAddress, v6Only: Bool) async throws -> any Channel {
        let v6OnlyOption = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)
        switch transport {
        case .udp:
            var bootstrap = DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { [name] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPEchoHandler(name: name))
                    }
                }
            if v6Only { bootstrap = bootstrap.channelOption(v6OnlyOption, value: 1) }
            return try await bootstrap.bind(to: address).get()
        case .tcp, .http:
            var bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: transport == .tcp)
                .childChannelInitializer { [transport, name, children] channel in
                    children.insert(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if transport == .tcp {
                            try pipeline.addHandler(TCPEchoHandler(name: name))
                        } else {
                            try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                            try pipeline.addHandler(HTTPEchoHandler(name: name))
                        }
                    }
                }
            if v6Only { bootstrap = bootstrap.serverChannelOption(v6OnlyOption, value: 1) }
            return try await bootstrap.bind(to: address).get()
        }
    }
}
