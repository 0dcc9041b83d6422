#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { status == 0 }

    /// The command line and what it said, for error messages.
    public func describe(_ argv: [String]) -> String {
        let said = stderr.isEmpty ? stdout : stderr
        return "`\(argv.joined(separator: " "))` exited \(status): \(said.trimmingTrailingNewlines)"
    }
}

public struct CommandError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs host commands (`ip`, `ip netns exec …`): the one seam between Switchboard's network plumbing and the
/// machine, so that plans can be checked without running them.
public protocol CommandRunner: Sendable {
    /// Runs `argv` to completion (killing it after `timeout`), with `stdin` as its input.
    func run(_ argv: [String], stdin: String?, timeout: Duration) async throws -> CommandResult
}

extension CommandRunner {
    public func run(_ argv: [String], stdin: String? = nil) async throws -> CommandResult {
        try await run(argv, stdin: stdin, timeout: .seconds(30))
    }

    /// Runs `argv` and throws its output when it fails.
    @discardableResult
    public func check(_ argv: [String], stdin: String? = nil) async throws -> CommandResult {
        let result = try await run(argv, stdin: stdin)
        guard result.succeeded else { throw CommandError(result.describe(argv)) }
        return result
    }
}

/// `CommandRunner` on this machine: posix_spawn with pipes, polled without blocking a thread of the
/// cooperative pool (a blocking wait would take one of the two cores' threads).
public struct HostCommandRunner: CommandRunner {
    public init() {}

    /// Held from creating a command's pipes to spawning it.
    static let spawnLock = Mutex<Void>(())

    public func run(_ argv: [String], stdin: String?, timeout: Duration) async throws -> CommandResult {
        guard let executable = argv.first else { throw CommandError("empty command") }
        let path = executable.hasPrefix("/") ? executable : (Self.which(executable) ?? executable)
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        // Close-on-exec: a command spawned concurrently must not inherit these, or two `ip -batch -` could each
        // hold the other's input open and wait for an end of input that never comes.
        // (pipe2 is not visible to Swift, so pipe and FD_CLOEXEC under one lock with the spawn: no other spawn of
        // this process can happen between the two.)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned: Int32 = try Self.spawnLock.withLock { _ throws(CommandError) -> Int32 in
            guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
                throw CommandError("cannot create pipes: \(String(cString: strerror(errno)))")
            }
            for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, input[0], 0)
            posix_spawn_file_actions_adddup2(&actions, output[1], 1)
            posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
            return posix_spawn(&pid, path, &actions, nil, cArgs, environ)
        }
        close(input[0])
        close(output[1])
        close(errors[1])
        guard spawned == 0 else {
            close(input[1])
            close(output[0])
            close(errors[0])
            throw CommandError("cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        for fd in [input[1], output[0], errors[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var pendingInput = Array((stdin ?? "").utf8)[...]
        var inputOpen = true
        if pendingInput.isEmpty {
            close(input[1])
            inputOpen = false
        }
        var out: [UInt8] = []
        var err: [UInt8] = []
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var pause = Duration.microseconds(200)
        var status: Int32 = 0
        var exited = false
        while true {
            if inputOpen {
                let written = pendingInput.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
                if written > 0 { pendingInput = pendingInput.dropFirst(written) }
                if pendingInput.isEmpty || (written < 0 && errno != EAGAIN) {
                    close(input[1])
                    inputOpen = false
                }
            }
            Self.drain(output[0], into: &out)
            Self.drain(errors[0], into: &err)
            if exited { break }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                exited = true
                continue  // one more drain: the pipes hold what it wrote last
            }
            if clock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                status = 128 + SIGKILL
                err.append(contentsOf: Array("\n(killed after \(timeout))".utf8))
                exited = true
                continue
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(10))
        }
        if inputOpen { close(input[1]) }
        close(output[0])
        close(errors[0])
        return CommandResult(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    private static func drain(_ fd: Int32, into bytes: inout [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    /// The first executable `name` on PATH (or on `path`).
    public static func which(_ name: String, path: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let search = path ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in search.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.last == "\n" || s.last == "\r" { s.removeLast() }
        return s
    }
}
