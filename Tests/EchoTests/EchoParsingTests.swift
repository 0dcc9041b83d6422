import Echo
import NIOCore
import Testing

@Suite struct EchoParsingTests {
    @Test func parsesTargets() throws {
        #expect(try EchoTarget(parsing: "tcp://10.0.0.5:8080") == EchoTarget(transport: .tcp, host: "10.0.0.5", port: 8080))
        #expect(try EchoTarget(parsing: "UDP://dns.kube-system:53/") == EchoTarget(transport: .udp, host: "dns.kube-system", port: 53))
        let v6 = try EchoTarget(parsing: "tcp://[fd00::5]:8080")
        #expect(v6.host == "fd00::5")
        #expect(v6.description == "tcp://[fd00::5]:8080")
        #expect(try EchoTarget(parsing: "http://web") == EchoTarget(transport: .http, host: "web", port: 80, path: "/"))
        #expect(try EchoTarget(parsing: "http://web:81?q=1").path == "/?q=1")
        #expect(try EchoTarget(parsing: "http://[::1]:81/a/b").description == "http://[::1]:81/a/b")
    }

    @Test func parsesListenAddresses() throws {
        #expect(try EchoListenAddress(parsing: ":8080") == EchoListenAddress(host: nil, port: 8080))
        #expect(try EchoListenAddress(parsing: "8080") == EchoListenAddress(host: nil, port: 8080))
        #expect(try EchoListenAddress(parsing: "127.0.0.1:0") == EchoListenAddress(host: "127.0.0.1", port: 0))
        #expect(try EchoListenAddress(parsing: "[::1]:53") == EchoListenAddress(host: "::1", port: 53))
        for bad in ["", ":", "::1:80", "[::1]", "[::1]80", "[]:80", "host:99999", "host:-1", "a b:80", ":http"] {
            #expect(throws: EchoError.self, "\(bad)") { try EchoListenAddress(parsing: bad) }
        }
    }

    @Test func outOfRangePortsFailToStartRatherThanCrash() async {
        await #expect(throws: EchoError.self) {
            _ = try await EchoServer.start(tcp: EchoListenAddress(host: "127.0.0.1", port: 70_000), name: "p")
        }
    }

    @Test func formatsClientAddresses() throws {
        #expect(EchoAnswer.clientText(try SocketAddress(ipAddress: "10.0.0.7", port: 41234)) == "10.0.0.7:41234")
        #expect(EchoAnswer.clientText(try SocketAddress(ipAddress: "::ffff:10.0.0.7", port: 80)) == "10.0.0.7:80")
        #expect(EchoAnswer.clientText(try SocketAddress(ipAddress: "fd00::7", port: 80)) == "[fd00::7]:80")
        #expect(EchoAnswer.line(name: "a", client: nil) == "pod=a client=unknown\n")
    }

    @Test func choosesThePodName() {
        #expect(EchoAnswer.podName(environment: "from-env", flag: "from-flag") == "from-env")
        #expect(EchoAnswer.podName(environment: nil, flag: "from-flag") == "from-flag")
        #expect(EchoAnswer.podName(environment: "", flag: "from-flag") == "from-flag")
        #expect(!EchoAnswer.podName(environment: nil, flag: nil).isEmpty)
        #expect(EchoAnswer.podName(environment: "a b\nc", flag: nil) == "a_b_c")
    }
}
