#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on `DIR/lock`, so that two control planes never share one store.
struct DataDirectoryLock {
    private let fd: Int32

    init(directory: String) throws {
        fd = open(directory + "/lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandLineError("cannot open \(directory)/lock: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw CommandLineError("another `switchboard up` is using \(directory); stop it, or pass a different --data-dir")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// A command-line failure: one line that names the fix.
public struct CommandLineError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
