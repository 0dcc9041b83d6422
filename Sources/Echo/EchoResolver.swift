import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Host names to socket addresses, and errors to the short reasons printed after a target.
enum EchoResolver {
    /// IP literals directly; names through getaddrinfo on NIO's thread pool, which blocks a pool thread rather
    /// than the caller's executor.
    static func resolve(host: String, port: Int) async throws -> SocketAddress {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return literal }
        return try await NIOThreadPool.singleton.runIfActive {
            try SocketAddress.makeAddressResolvingHost(host, port: port)
        }
    }

    /// `Connection refused`, `Address already in use`: the system's words for an errno, without NIO's call-site
    /// prefix; other errors as they describe themselves.
    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        if let error = error as? SocketAddressError.UnknownHost {
            return "cannot resolve host \(error.host): \(error.errorDescription)"
        }
        if let error = error as? SocketAddressError, case .unknown(let host, _) = error {
            return "cannot resolve host \(host)"
        }
        return String(describing: error)
    }
}
