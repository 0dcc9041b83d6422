#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// A container log file open for reading. Opening, size checks and reads run on NIO's blocking-I/O thread
/// pool, never on a cooperative thread; reads are positional (`pread`), so nothing depends on a file offset.
///
/// The descriptor closes when the last reference goes; an in-flight read holds one, so it can never read a
/// closed (or reused) descriptor.
final class LogFile: Sendable {
    private let descriptor: Int32
    private let pool: NIOThreadPool

    /// The largest read: what one chunk of a log response holds at most.
    static let chunkSize = 64 * 1024

    private init(descriptor: Int32, pool: NIOThreadPool) {
        self.descriptor = descriptor
        self.pool = pool
    }

    deinit { _ = close(descriptor) }

    /// The file at `path`, or nil when there is none (yet).
    static func open(_ path: String, pool: NIOThreadPool = .singleton) async throws -> LogFile? {
        let descriptor = try await pool.runIfActive { () throws -> Int32 in
            let fd = openForReading(path)
            if fd < 0 && errno != ENOENT && errno != ENOTDIR { throw LogFileError(operation: "open \(path)", errno: errno) }
            return fd
        }
        return descriptor < 0 ? nil : LogFile(descriptor: descriptor, pool: pool)
    }

    /// The file's current length.
    func size() async throws -> Int64 {
        try await pool.runIfActive { [self] in
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw LogFileError(operation: "fstat", errno: errno) }
            return Int64(info.st_size)
        }
    }

    /// Up to `count` bytes (at most `chunkSize`) from `offset`; fewer at the end of the file.
    func read(at offset: Int64, count: Int) async throws -> ByteBuffer {
        let wanted = min(count, Self.chunkSize)
        return try await pool.runIfActive { [self] in
            var buffer = ByteBufferAllocator().buffer(capacity: wanted)
            while buffer.readableBytes < wanted {
                let remaining = wanted - buffer.readableBytes
                let position = off_t(offset + Int64(buffer.readableBytes))
                let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: remaining) { space in
                    while true {
                        let n = pread(descriptor, space.baseAddress, remaining, position)
                        if n >= 0 { return n }
                        if errno != EINTR { throw LogFileError(operation: "pread", errno: errno) }
                    }
                }
                if got == 0 { break }
            }
            return buffer
        }
    }
}

/// `open(2)` read-only and close-on-exec (a free function: inside `LogFile`, `open` is the factory).
private func openForReading(_ path: String) -> Int32 {
    path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
}

struct LogFileError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
