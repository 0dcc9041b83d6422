import Foundation
import KubeAPI
import KubeClient
import KubeClientHTTP
import Testing

/// A watcher that stops reading is closed with an error once its buffer fills; writers and other watchers
/// carry on at full speed.
@Suite(.timeLimit(.minutes(2)))
struct SlowWatcherTests {
    /// A watch request on a raw loopback socket that is then not read from.
    static func stalledWatch(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        // A small receive buffer, so that the server's side fills quickly.
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect: \(errno)") }
        let request = "GET /api/v1/namespaces/default/services?watch=true HTTP/1.1\r\nHost: localhost\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        return fd
    }

    @Test func aStalledWatcherIsClosedAndWritersDoNotWait() async throws {
        try await withControlPlane { up in
            let port = Int(up.url.split(separator: ":").last ?? "") ?? 0
            let fd = try Self.stalledWatch(port: port)
            defer { close(fd) }
            let client = up.client()

            // A healthy watcher alongside counts every create.
            let healthy = Locked(0)
            let total = 4_000
            async let watching: Void = {
                do {
                    try await client.watch(Service.self, namespace: "default", from: "0") { event in
                        if event.type == .added, healthy.withLock({ $0 += 1; return $0 }) >= total { throw WatchResumeTests.Enough() }
                    }
                } catch is WatchResumeTests.Enough {}
            }()

            // Writes with fat annotations, so the stalled watch's buffers fill many times over.
            let padding = String(repeating: "x", count: 2_000)
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for i in stride(from: worker, to: total, by: 8) {
                            var service = DurabilityTests.service("slow-\(i)")
                            service.metadata.annotations = ["padding": padding]
                            _ = try await client.create(service)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = clock.now - start
            try await watching
            #expect(healthy.value == total)
            #expect(elapsed < .seconds(30), "\(total) creates took \(elapsed) with a stalled watcher")

            // Draining the stalled socket now shows the watch ended with an ERROR event (410).
            var received = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            var flags = fcntl(fd, F_GETFL)
            flags |= O_NONBLOCK
            _ = fcntl(fd, F_SETFL, flags)
            let ended = await eventually(within: .seconds(20), every: .milliseconds(5)) {
                while true {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 { received.append(contentsOf: buffer[0..<n]); continue }
                    return n == 0
                }
            }
            let text = String(decoding: received.suffix(4000), as: UTF8.self)
            #expect(ended, "the stalled watch was not closed")
            #expect(text.contains(#""type":"ERROR""#) && text.contains(#""code":410"#), "end of the stalled watch: \(text.suffix(600))")
            await client.shutdown()
        }
    }
}
