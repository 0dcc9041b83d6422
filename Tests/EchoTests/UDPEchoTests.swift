import Echo
import NIOCore
import NIOPosix
import Testing

@Suite struct UDPEchoTests {
    @Test func answersEveryDatagramWithTheSenderAddress() async throws {
        try await within {
            try await withEchoServer(udp: true) { server in
                let target = try SocketAddress(ipAddress: "127.0.0.1", port: try server.port(.udp))
                let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: 0) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                                wrappingChannelSynchronously: channel)
                        }
                    }
                let local = try #require(channel.channel.localAddress?.port)
                try await channel.executeThenClose { inbound, outbound in
                    var answers = inbound.makeAsyncIterator()
                    for payload in [[UInt8](), [0x00, 0xff, 0x0a], Array(repeating: 0x41, count: 1400)] {
                        try await outbound.write(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: payload)))
                        let answer = try #require(try await answers.next())
                        #expect(String(buffer: answer.data) == "pod=test-pod client=127.0.0.1:\(local)\n")
                        #expect(answer.remoteAddress == target)
                    }
                }
            }
        }
    }
}
