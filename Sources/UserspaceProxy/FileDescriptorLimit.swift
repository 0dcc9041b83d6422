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

    /// Raises the limits as far as `needed` descriptors (soft and hard: the hard one goes up only with
    /// CAP_SYS_RESOURCE, usually root's, and never past fs.nr_open), then the soft limit to the hard one, and
    /// returns the limits in force afterwards. An unlimited hard limit is not a value the kernel takes for
    /// RLIMIT_NOFILE (it caps it at fs.nr_open), so that case asks for 1,048,576, nr_open's default.
    @discardableResult
    static func raise(toAtLeast needed: Int = 0) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return (0, 0) }
        if limit.rlim_max < rlim_t(needed) {
            var raised = limit
            raised.rlim_max = rlim_t(min(needed, nrOpen))
            raised.rlim_cur = raised.rlim_max
            // Refused without the capability: the limits stay as they were.
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
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

    /// fs.nr_open: the most RLIMIT_NOFILE can be.
    private static var nrOpen: Int {
        guard let file = fopen("/proc/sys/fs/nr_open", "r") else { return 1 << 20 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return 1 << 20 }
        let digits = line.prefix { $0 >= 0x30 && $0 <= 0x39 }.map { Character(UnicodeScalar(UInt8($0))) }
        return Int(String(digits)).flatMap { $0 > 0 ? $0 : nil } ?? 1 << 20
    }
}
