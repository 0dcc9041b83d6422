import Echo
import IPAM
import NIOCore
import NIOPosix
import ProxyCore
import Testing
@testable import UserspaceProxy

@Suite struct TCPRelayTests {
    @Test func relaysBothWaysRoundRobinOverThreeBackends() async throws {
        try await within {
            try await withBackends(3) { backends in
                try await withProxy { proxy in
                    let listeners = await proxy.apply([servicePort("127.1.1.1", 20001, backends.map(\.endpoint))])
                    #expect(listeners == [UserspaceListener(key: "127.1.1.1/tcp/20001", name: "default/web:http", boundAddress: "127.1.1.1:20001", error: nil)])
                    var answered: [String] = []
                    for _ in 0..<6 {
                        let name = try await LineConnection.with(host: "127.1.1.1", port: 20001) { connection in
                            let greeting = try await connection.readLine()
                            try await connection.send("ping\n")
                            let reply = try await connection.readLine()
                            #expect(podName(reply) == podName(greeting))
                            return podName(greeting) ?? "?"
                        }
                        answered.append(name)
                    }
                    #expect(answered == ["b1", "b2", "b3", "b1", "b2", "b3"])
                    try await eventually("connections closed") { proxy.statistics.activeConnections == 0 }
                    let statistics = proxy.statistics
                    #expect(statistics.acceptedConnections == 6)
                    #expect(statistics.bytesRelayed > 0)
                    #expect(statistics.listeners == 1)
                }
            }
        }
    }

    @Test func aRefusingEndpointIsSkippedWithoutTheClientNoticing() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy { proxy in
                    let refusing = EndpointTarget(address: IPAddress("127.0.0.1")!, port: 1)
                    // Sorted: the refusing endpoint (port 1) comes first, so every other pick starts with it.
                    _ = await proxy.apply([servicePort("127.1.2.1", 20002, [refusing, backends[0].endpoint])])
                    for _ in 0..<4 {
                        let greeting = try await LineConnection.with(host: "127.1.2.1", port: 20002) { try await $0.readLine() }
                        #expect(podName(greeting) == "b1")
                    }
                    #expect(proxy.statistics.retriedConnects == 2)
                    #expect(proxy.statistics.failedConnects == 0)
                }
            }
        }
    }

    @Test func whenEveryEndpointRefusesTheClientIsReset() async throws {
        try await within {
            try await withProxy { proxy in
                let refusing = EndpointTarget(address: IPAddress("127.0.0.1")!, port: 1)
                let refusing2 = EndpointTarget(address: IPAddress("127.0.0.2")!, port: 1)
                _ = await proxy.apply([servicePort("127.1.3.1", 20003, [refusing, refusing2])])
                let (text, error) = await readToEnd(host: "127.1.3.1", port: 20003)
                #expect(text.isEmpty)
                #expect(isReset(error), "expected ECONNRESET, got \(String(describing: error))")
                try await eventually("the failure counted") { proxy.statistics.failedConnects == 1 }
                #expect(proxy.statistics.retriedConnects == 1)
            }
        }
    }

    @Test func halfCloseDeliversTheWholeReply() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.1.4.1", 20004, [backends[0].endpoint])])
                    let (text, error) = try await LineConnection.with(host: "127.1.4.1", port: 20004) { connection in
                        _ = try await connection.readLine()
                        // No newline: the echo server answers this line only once it sees end of input.
                        try await connection.send("last words")
                        connection.finishSending()
                        return await connection.readToEnd()
                    }
                    #expect(error == nil)
                    #expect(podName(text) == "b1")
                    #expect(text.hasSuffix("\n"))
                    try await eventually("both sides closed") { proxy.statistics.activeConnections == 0 && proxy.registry.count == 0 }
                }
            }
        }
    }

    @Test func aSlowReaderDoesNotMakeTheProxyBuffer() async throws {
        try await within(seconds: 30) {
            let flood = try await FloodServer.start(total: 512 * 1024 * 1024)
            defer { Task { await flood.close() } }
            let limit = 64 * 1024
            try await withProxy(UserspaceProxyConfiguration(bufferLimit: limit)) { proxy in
                _ = await proxy.apply([servicePort("127.1.5.1", 20005, [flood.endpoint])])
                // A client that never reads, with a small receive buffer so that the kernel holds little.
                let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.autoRead, value: false)
                    .channelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
                    .connect(host: "127.1.5.1", port: 20005).get()
                // The flood stalls: no progress for a while. Meanwhile the proxy never holds much.
                var last = -1
                var still = 0
                var peakBuffered = 0
                try await eventually("the backend's writes to block", timeout: .seconds(20)) {
                    peakBuffered = max(peakBuffered, proxy.statistics.bufferedBytes)
                    let now = flood.bytesWritten
                    still = now == last && now > 0 ? still + 1 : 0
                    last = now
                    return still >= 60
                }
                print("backpressure: backend wrote \(flood.bytesWritten) bytes, proxy peak buffered \(peakBuffered)")
                #expect(flood.bytesWritten < 64 * 1024 * 1024, "the backend wrote \(flood.bytesWritten) bytes into a client that reads nothing")
                // One read cycle (4 reads of up to 64 KiB) can land after the water mark is crossed.
                #expect(peakBuffered <= limit + 4 * 64 * 1024 + 64 * 1024, "the proxy buffered \(peakBuffered) bytes")
                #expect(proxy.statistics.bufferedBytes <= limit + 5 * 64 * 1024)
                try await client.close()
            }
        }
    }

    @Test func aBackendResetResetsItsClientOnly() async throws {
        try await within {
            let server = try await EchoingServer.start()
            defer { Task { await server.close() } }
            try await withProxy { proxy in
                _ = await proxy.apply([servicePort("127.1.6.1", 20006, [server.endpoint])])
                try await LineConnection.with(host: "127.1.6.1", port: 20006) { first in
                    #expect(try await first.readLine() == "hello\n")
                    try await eventually("one backend connection") { server.connections.count == 1 }
                    try await LineConnection.with(host: "127.1.6.1", port: 20006) { second in
                        #expect(try await second.readLine() == "hello\n")
                        try await eventually("two backend connections") { server.connections.count == 2 }
                        try await server.reset(server.connections[0])
                        let (_, error) = await first.readToEnd()
                        #expect(isReset(error), "expected ECONNRESET, got \(String(describing: error))")
                        try await second.send("still there?\n")
                        #expect(try await second.readLine() == "still there?\n")
                    }
                }
                #expect(proxy.statistics.resetConnections == 1)
            }
        }
    }

    @Test func theConnectionLimitResetsTheClientsBeyondIt() async throws {
        try await within {
            let server = try await EchoingServer.start()
            defer { Task { await server.close() } }
            try await withProxy(UserspaceProxyConfiguration(maxConnections: 5)) { proxy in
                #expect(proxy.statistics.maxConnections == 5)
                _ = await proxy.apply([servicePort("127.1.7.1", 20007, [server.endpoint])])
                var held: [any Channel] = []
                for _ in 0..<5 {
                    held.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.1.7.1", port: 20007).get())
                }
                try await eventually("five relayed") { server.connections.count == 5 }
                let (text, error) = await readToEnd(host: "127.1.7.1", port: 20007)
                #expect(text.isEmpty)
                #expect(isReset(error), "expected ECONNRESET, got \(String(describing: error))")
                #expect(proxy.statistics.rejectedByLimit == 1)
                #expect(proxy.statistics.activeConnections == 5)
                for channel in held { try await channel.close() }
                try await eventually("the slots freed") { proxy.statistics.activeConnections == 0 }
                let greeting = try await LineConnection.with(host: "127.1.7.1", port: 20007) { try await $0.readLine() }
                #expect(greeting == "hello\n")
            }
        }
    }

    @Test func clientIPAffinitySticks() async throws {
        try await within {
            try await withBackends(3) { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.1.8.1", 20008, backends.map(\.endpoint), affinity: 60)])
                    var answered = Set<String>()
                    for _ in 0..<6 {
                        answered.insert(podName(try await LineConnection.with(host: "127.1.8.1", port: 20008) { try await $0.readLine() }) ?? "?")
                    }
                    #expect(answered.count == 1)
                }
            }
        }
    }
}
