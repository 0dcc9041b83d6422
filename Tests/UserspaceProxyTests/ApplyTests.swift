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

@Suite struct ApplyTests {
    @Test func aPortWithoutEndpointsIsRefusedAndReopensWithThem() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy { proxy in
                    let withEndpoints = servicePort("127.3.1.1", 20201, [backends[0].endpoint])
                    _ = await proxy.apply([withEndpoints])
                    try await expectGreeting("127.3.1.1", 20201, "b1")

                    #expect(await proxy.apply([servicePort("127.3.1.1", 20201, [])]).isEmpty)
                    #expect(proxy.statistics.listeners == 0)
                    let refused = await connectError(host: "127.3.1.1", port: 20201)
                    #expect((refused as? IOError)?.errnoCode == ECONNREFUSED || "\(String(describing: refused))".contains("refused"), "got \(String(describing: refused))")

                    #expect(await proxy.apply([withEndpoints]).count == 1)
                    try await expectGreeting("127.3.1.1", 20201, "b1")

                    #expect(await proxy.apply([]).isEmpty)
                    #expect(await connectError(host: "127.3.1.1", port: 20201) != nil)
                }
            }
        }
    }

    @Test func newEndpointsAreForNewConnectionsOnly() async throws {
        try await within {
            try await withBackends(2) { backends in
                try await withProxy { proxy in
                    _ = await proxy.apply([servicePort("127.3.2.1", 20202, [backends[0].endpoint])])
                    try await LineConnection.with(host: "127.3.2.1", port: 20202) { old in
                        #expect(try await old.readLine().flatMap { podName($0) } == "b1")
                        let listeners = await proxy.apply([servicePort("127.3.2.1", 20202, [backends[1].endpoint])])
                        #expect(listeners.count == 1)
                        try await expectGreeting("127.3.2.1", 20202, "b2")
                        try await old.send("still b1?\n")
                        #expect(try await old.readLine().flatMap { podName($0) } == "b1")
                    }
                }
            }
        }
    }

    @Test func aClusterIPThatIsNotLocalFallsBackToLoopback() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy { proxy in
                    let listeners = await proxy.apply([servicePort("10.96.0.10", 20203, [backends[0].endpoint])])
                    #expect(listeners == [UserspaceListener(key: "10.96.0.10/tcp/20203", name: "default/web:http", boundAddress: "127.96.0.10:20203", error: nil)])
                    try await expectGreeting("127.96.0.10", 20203, "b1")
                }
            }
        }
    }

    @Test func aPrivilegedPortMovesUpWhenItCannotBeBound() async throws {
        try await within {
            try await withBackends(1) { backends in
                // Root may bind port 80; the hook plays an unprivileged process.
                let hook: @Sendable (SocketAddress) throws -> Void = { address in
                    if let port = address.port, port < 1024 { throw IOError(errnoCode: EACCES, reason: "bind") }
                }
                try await withProxy(bindHook: hook) { proxy in
                    let listeners = await proxy.apply([servicePort("10.96.0.11", 80, [backends[0].endpoint])])
                    #expect(listeners.first?.boundAddress == "127.96.0.11:10080")
                    try await expectGreeting("127.96.0.11", 10080, "b1")
                }
            }
        }
    }

    @Test func withoutFallbackTheErrorIsReportedAndIPv6BindsFreely() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy(UserspaceProxyConfiguration(loopbackFallback: false)) { proxy in
                    let listeners = await proxy.apply([servicePort("10.96.0.12", 20204, [backends[0].endpoint])])
                    #expect(listeners.count == 1)
                    #expect(listeners.first?.boundAddress == nil)
                    #expect(listeners.first?.error != nil)
                }
                try await withProxy { proxy in
                    let v6 = EndpointTarget(address: IPAddress("::1")!, port: 1)
                    let listeners = await proxy.apply([
                        servicePort("fd00:10:96::99", 20205, [v6]), servicePort("127.3.3.1", 20205, [backends[0].endpoint], transport: "sctp"),
                    ])
                    #expect(listeners.count == 1)
                    #expect(listeners.first?.key == "fd00:10:96::99/tcp/20205")
                    // An IPv6 ClusterIP is bound with IPV6_FREEBIND (a `local` route, not an assigned address,
                    // makes it this host's): no loopback fallback is needed, and none is taken.
                    #expect(listeners.first?.boundAddress == "[fd00:10:96::99]:20205", "\(listeners)")
                    #expect(await proxy.apply([servicePort("fd00:10:96::99", 20205, [v6])]).first?.error == nil)
                    #expect(proxy.listeners.count == 1)
                    #expect(await proxy.apply([]).isEmpty)
                }
            }
        }
    }

    @Test func applyIsSafeFromManyTasksAtOnce() async throws {
        try await within {
            try await withBackends(1) { backends in
                try await withProxy { proxy in
                    let ports = (1...20).map { servicePort("127.3.4.\($0)", 20206, [backends[0].endpoint]) }
                    await withTaskGroup(of: Void.self) { group in
                        for round in 0..<10 {
                            group.addTask { _ = await proxy.apply(round.isMultiple(of: 2) ? ports : Array(ports.prefix(5))) }
                        }
                    }
                    let final = await proxy.apply(ports)
                    #expect(final.count == 20)
                    #expect(final.allSatisfy { $0.error == nil })
                    #expect(proxy.statistics.listeners == 20)
                    await proxy.shutdown()
                    #expect(await connectError(host: "127.3.4.1", port: 20206) != nil)
                    #expect(await proxy.apply(ports).isEmpty)
                }
            }
        }
    }
}
