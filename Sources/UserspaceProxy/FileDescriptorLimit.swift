#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// RLIMIT_NOFILE (RLIM_INFINITY is all ones in `rlim_t`): every relayed TCP connection costs two descriptors and every UDP flow one, so the soft limit
/// (often 1024) is what caps the proxy long before memory does.
enum FileDescriptorLimit {
    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    /// The current soft and hard limits; nil when they cannot be read.
    static func current() -> (soft: Int, hard: Int)? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }

    /// Raises the soft limit to the hard one and returns the limits in force afterwards. An unlimited hard
    /// limit is not a value the kernel takes for RLIMIT_NOFILE (it caps it at fs.nr_open), so that case asks
    /// for 1,048,576, nr_open's default.
    @discardableResult
    static func raiseSoftToHard() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return (0, 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max == rlim_t.max ? 1 << 20 : limit.rlim_max
            if setrlimit(resource, &raised) != 0, limit.rlim_max == rlim_t.max {
                raised.rlim_cur = 1 << 16
                _ = setrlimit(resource, &raised)
            }
        }
        return current() ?? (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }
}
