import Echo
import NIOCore
import NIOPosix
import Testing

@Suite struct EchoClientTests {
    @Test(arguments: EchoTransport.allCases)
    func queriesEachScheme(_ transport: EchoTransport) async throws {
        try await within {
            try await withEchoServer(tcp: true, udp: true, http: true, name: "web-1") { server in
                let port = try server.port(transport)
                let path = transport == .http ? "/healthz" : ""
                let answer = try await EchoClient.query("\(transport)://127.0.0.1:\(port)\(path)")
                #expect(answer.hasPrefix("pod=web-1 client=127.0.0.1:"))
                #expect(!answer.hasSuffix("\n"))
            }
        }
    }

    @Test func timesOutAgainstAUDPPortThatNeverAnswers() async throws {
        try await within {
            // Bound, so no ICMP port unreachable comes back either: only the deadline ends the wait.
            let silent = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            defer { silent.close(promise: nil) }
            let target = EchoTarget(transport: .udp, host: "127.0.0.1", port: try #require(silent.localAddress?.port))
            let started = ContinuousClock.now
            await #expect(throws: EchoError.noAnswer(target, timeout: .milliseconds(300))) {
                _ = try await EchoClient.query(target, timeout: .milliseconds(300))
            }
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(
                EchoError.noAnswer(target, timeout: .seconds(2)).description
                    == "no answer from udp://127.0.0.1:\(target.port) within 2 s")
        }
    }

    @Test(arguments: [EchoTransport.tcp, .udp])
    func reportsARefusal(_ transport: EchoTransport) async throws {
        try await within {
            // Port 1 (tcpmux): below the ephemeral range, so no server of a test running alongside can be
            // given it, as could happen to a port that was just ours and closed; nothing listens there.
            let target = EchoTarget(transport: transport, host: "127.0.0.1", port: 1)
            await #expect(throws: EchoError.refused(target)) {
                _ = try await EchoClient.query(target, timeout: .seconds(2))
            }
        }
    }

    @Test func failsAgainstAServerThatDoesNotSpeakHTTP() async throws {
        try await within {
            // An echo TCP server is not an HTTP server: its answer line is no status line.
            try await withEchoServer(tcp: true) { server in
                await #expect(throws: EchoError.self) {
                    _ = try await EchoClient.query("http://127.0.0.1:\(try server.port(.tcp))/")
                }
            }
        }
    }

    @Test(arguments: [
        "", "127.0.0.1:80", "ftp://127.0.0.1:21", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:65536", "tcp://127.0.0.1:+80", "udp://127.0.0.1:53/path", "tcp://fd00::5:80",
        "tcp://[fd00::5:80", "tcp://[fd00::5]80", "http://a b:80/", "http://127.0.0.1/a b",
        "http://127.0.0.1/\r\nX: y", "http://user@127.0.0.1/", "tcp://[]:80", "tcp://[host]:80",
    ])
    func rejectsABadURL(_ url: String) async throws {
        await #expect {
            _ = try await EchoClient.query(url)
        } throws: { error in
            guard case .badURL(let text, _) = error as? EchoError else { return false }
            return text == url
        }
    }
}
