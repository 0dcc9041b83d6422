import NIOCore
import NIOPosix
import Synchronization

/// Keep-alive connections to one API server, each used by one request at a time.
public final class HTTPConnectionPool: Sendable {
    public let endpoint: APIEndpoint
    private let idle = Mutex<[HTTPConnection]>([])
    private let maxIdle: Int

    public init(endpoint: APIEndpoint, maxIdle: Int = 16) {
        self.endpoint = endpoint
        self.maxIdle = maxIdle
    }

    /// Sends on an idle connection, or a new one. A request that finds its idle connection already closed by
    /// the server while idle is retried once on a fresh connection.
    public func send(_ request: APIRequestMessage, timeout: TimeAmount = .seconds(60)) async throws -> APIResponseMessage {
        let (connection, reused) = try await checkOut()
        do {
            let response = try await connection.send(request, timeout: timeout)
            checkIn(connection)
            return response
        } catch let error as HTTPTransportError where error == .closed && reused {
            await connection.close()
            let fresh = try await HTTPConnection.connect(to: endpoint)
            let response = try await fresh.send(request, timeout: timeout)
            checkIn(fresh)
            return response
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Closes the idle connections.
    public func shutdown() async {
        let all = idle.withLock { list -> [HTTPConnection] in
            defer { list.removeAll() }
            return list
        }
        for connection in all { await connection.close() }
    }

    private func checkOut() async throws -> (HTTPConnection, reused: Bool) {
        while let connection = idle.withLock({ $0.popLast() }) {
            if connection.isActive { return (connection, true) }
        }
        return (try await HTTPConnection.connect(to: endpoint), false)
    }

    private func checkIn(_ connection: HTTPConnection) {
        guard connection.isActive else { return }
        let extra = idle.withLock { list -> HTTPConnection? in
            if list.count >= maxIdle { return connection }
            list.append(connection)
            return nil
        }
        if let extra { extra.channel.close(promise: nil) }
    }
}
