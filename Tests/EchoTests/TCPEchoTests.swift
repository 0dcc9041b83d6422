import Echo
import NIOCore
import Testing

@Suite struct TCPEchoTests {
    @Test func answersOnAcceptAndOncePerLine() async throws {
        try await within {
            try await withEchoServer(tcp: true) { server in
                try await RawConnection.with(port: try server.port(.tcp)) { connection in
                    let expected = "pod=test-pod client=\(connection.localAddress)\n"
                    #expect(try await connection.readLine() == expected)
                    try await connection.send("hello\nworld\n")
                    #expect(try await connection.readLine() == expected)
                    #expect(try await connection.readLine() == expected)
                    // A line split across writes is still one line.
                    try await connection.send("par")
                    try await connection.send("tial\n")
                    #expect(try await connection.readLine() == expected)
                }
            }
        }
    }

    @Test func answersAnUnterminatedLastLineAndClosesAfterTheClient() async throws {
        try await within {
            try await withEchoServer(tcp: true) { server in
                try await RawConnection.with(port: try server.port(.tcp)) { connection in
                    let expected = "pod=test-pod client=\(connection.localAddress)\n"
                    _ = try await connection.readLine()
                    try await connection.send([0xff, 0x00, 0xfe])
                    connection.finishSending()
                    #expect(try await connection.readToEnd() == expected)
                }
            }
        }
    }

    @Test func closesAConnectionWhoseLineExceeds64KiB() async throws {
        try await within {
            try await withEchoServer(tcp: true) { server in
                try await RawConnection.with(port: try server.port(.tcp)) { connection in
                    _ = try await connection.readLine()
                    try await connection.send(String(repeating: "x", count: 64 * 1024 + 1))
                    // The server closes without answering the overlong line; it does not wait for our EOF.
                    #expect(try await connection.readToEnd() == "")
                }
            }
        }
    }

    @Test func closeEndsOpenConnections() async throws {
        try await within {
            let server = try await EchoServer.start(tcp: EchoListenAddress(host: "127.0.0.1", port: 0), name: "p")
            try await RawConnection.with(port: try server.port(.tcp)) { connection in
                _ = try await connection.readLine()
                await server.close()
                #expect(try await connection.readToEnd() == "")
            }
        }
    }

    @Test func allAddressesListenerAnswersIPv4() async throws {
        try await within {
            let server = try await EchoServer.start(tcp: EchoListenAddress(host: nil, port: 0), name: "p")
            let first = try #require(server.listeners.first)
            #expect(first.hostPort.hasPrefix("0.0.0.0:"))
            #expect(first.port != 0)
            // IPv6, when there is any, shares the port.
            #expect(server.listeners.allSatisfy { $0.port == first.port })
            let answer = try await EchoClient.query("tcp://127.0.0.1:\(first.port)")
            #expect(answer.hasPrefix("pod=p client=127.0.0.1:"))
            await server.close()
        }
    }

    @Test func aTakenPortIsReported() async throws {
        try await within {
            try await withEchoServer(tcp: true) { server in
                let port = try server.port(.tcp)
                await #expect(throws: EchoError.self) {
                    _ = try await EchoServer.start(tcp: EchoListenAddress(host: "127.0.0.1", port: port), name: "p")
                }
            }
        }
    }
}
