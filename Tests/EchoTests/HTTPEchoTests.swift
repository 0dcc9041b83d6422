import Echo
import NIOCore
import Testing

@Suite struct HTTPEchoTests {
    @Test func answersTwoRequestsOnOneKeptAliveConnection() async throws {
        try await within {
            try await withEchoServer(http: true) { server in
                try await RawConnection.with(port: try server.port(.http)) { connection in
                    let expected = "pod=test-pod client=\(connection.localAddress)\n"
                    for path in ["/", "/any/path?x=1"] {
                        try await connection.send("GET \(path) HTTP/1.1\r\nHost: echo\r\n\r\n")
                        let response = try await connection.readHTTPResponse()
                        #expect(response.status == "HTTP/1.1 200 OK")
                        #expect(response.headers["content-type"] == "text/plain")
                        #expect(response.body == expected)
                    }
                }
            }
        }
    }

    @Test func closesWhenTheClientAsks() async throws {
        try await within {
            try await withEchoServer(http: true) { server in
                try await RawConnection.with(port: try server.port(.http)) { connection in
                    try await connection.send("POST /x HTTP/1.1\r\nHost: echo\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
                    let response = try await connection.readHTTPResponse()
                    #expect(response.status == "HTTP/1.1 200 OK")
                    #expect(response.headers["connection"] == "close")
                    #expect(try await connection.readToEnd() == "")
                }
            }
        }
    }

    @Test func garbageGetsAnErrorNotACrash() async throws {
        try await within {
            try await withEchoServer(http: true) { server in
                try await RawConnection.with(port: try server.port(.http)) { connection in
                    try await connection.send([0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a])
                    #expect(try await connection.readToEnd().hasPrefix("HTTP/1.1 400"))
                }
                // The server still answers others.
                #expect(try await EchoClient.query("http://127.0.0.1:\(try server.port(.http))/").hasPrefix("pod=test-pod"))
            }
        }
    }
}
