#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn, its output sent to files: containers, daemons that the lab
/// starts, and the servers that benchmarks start.
public struct ChildProcess: Sendable, Hashable {
    public let pid: pid_t

    public init(pid: pid_t) { self.pid = pid }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// How the child is detached from its parent.
    public enum Grouping: Sendable {
        /// Same session and process group as the parent: Ctrl-C reaches both.
        case inherit
        /// Its own process group, so that a signal to the group reaches everything it starts.
        case newProcessGroup
        /// Its own session (a daemon): it outlives the parent's terminal.
        case newSession
    }

    /// Starts `executable` with `arguments` (`argv[0]` is the executable); stdin is /dev/null. `environment`
    /// nil keeps the parent's. Output files are appended to, so a restarted container keeps its earlier log.
    public static func spawn(
        _ executable: String, _ arguments: [String], stdout: String, stderr: String,
        environment: [String]? = nil, grouping: Grouping = .inherit, truncate: Bool = true
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let mode = O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o644)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        // Nothing else of this process leaks into the child: a daemon holding, say, the pipe by which whoever
        // started us waits for our exit would keep that waiter waiting forever.
        // (glibc's closefrom action is not visible to Swift; closing what /proc lists is the same. glibc ignores
        // the close of a descriptor that is no longer open by then.)
        for entry in Self.openDescriptors() where entry > 2 { posix_spawn_file_actions_addclose(&actions, entry) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling, whatever this process ignores or blocks.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        switch grouping {
        case .inherit: break
        case .newProcessGroup:
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        case .newSession:
            flags |= Self.posixSpawnSetsid
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result: Int32
        if let environment {
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
            defer { envp.forEach { free($0) } }
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        } else {
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var descriptors: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name) { descriptors.append(fd) }
        }
        return descriptors
    }

    /// glibc's POSIX_SPAWN_SETSID (2.26 and later), which the Swift importer does not see.
    static let posixSpawnSetsid: Int32 = 0x80

    /// How a process ended.
    public enum Exit: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)

        /// The shell's convention: the exit code, or 128 + the signal.
        public var code: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }
    }

    /// How the process ended once it has (reaping it), nil while it runs. Only for this process's children.
    public func exit() -> Exit? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }

    /// The exit status once the process has exited (reaping it), nil while it runs.
    public func exitStatus() -> Int32? { exit()?.code }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Sends `signal`, waits up to `timeout` for the exit, then SIGKILL. Returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGINT, timeout: Duration = .seconds(10)) async -> Int32 {
        kill(pid, signal)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let status = exitStatus() { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return 128 + SIGKILL
    }

    /// This executable's path.
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
