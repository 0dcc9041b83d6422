import Foundation
import KubeClientHTTP
import Synchronization

/// A real `switchboard up` in a child process, on a fresh data directory and an ephemeral loopback port,
/// with kubectl pointed at it through the kubeconfig it writes.
final class SwitchboardUp: Sendable {
    let directory: URL
    let dataDirectory: URL
    let extraArguments: [String]
    private let state = Mutex<(process: Process?, url: String?)>((nil, nil))
    /// kubectl watches and waits started for this server, stopped with it.
    let background = Mutex<[BackgroundProcess]>([])

    /// Starts a server in a new temporary directory.
    static func start(_ arguments: [String] = []) async throws -> SwitchboardUp {
        _ = sweptOrphans
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-cp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let up = SwitchboardUp(directory: directory, arguments: arguments)
        try await up.start()
        return up
    }

    /// Servers left running by an earlier test process that crashed (now children of init, in a sb-cp-*
    /// directory) are stopped once, before the first server of this run starts.
    static let sweptOrphans: Void = {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let command = try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8)
            else { continue }
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            let parent = fields.count > 1 ? Int32(fields[1]) : nil
            if parent == 1, command.contains("switchboard\0up\0"), command.contains("/sb-cp-") { kill(pid, SIGKILL) }
        }
    }()

    private init(directory: URL, arguments: [String]) {
        self.directory = directory
        self.dataDirectory = directory.appendingPathComponent("data")
        self.extraArguments = arguments
    }

    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_BIN"] { return path }
        // The test bundle sits next to the products of the same build.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("switchboard").path
            if FileManager.default.isExecutableFile(atPath: candidate), !candidate.hasSuffix(".xctest") { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/switchboard"
    }

    var kubeconfig: String { dataDirectory.appendingPathComponent("kubeconfig").path }
    var socket: String { dataDirectory.appendingPathComponent("api.sock").path }
    var url: String { state.withLock { $0.url } ?? "" }
    var pid: Int32 { state.withLock { $0.process?.processIdentifier } ?? 0 }
    var logPath: String { directory.appendingPathComponent("switchboard.log").path }

    /// (Re)starts the server on the same data directory and waits for its "API at" line.
    func start() async throws {
        let outURL = directory.appendingPathComponent("stdout-\(UUID().uuidString.prefix(6))")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["up", "--data-dir", dataDirectory.path, "--listen", "127.0.0.1:0"] + extraArguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        state.withLock { $0.process = process }
        var url: String?
        let started = await eventually(within: .seconds(30)) {
            let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            if let range = text.range(of: "API at "), let end = text[range.upperBound...].firstIndex(of: " ") {
                url = String(text[range.upperBound..<end])
                return true
            }
            return !process.isRunning
        }
        guard started, let url else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw TestFailure("switchboard up did not start:\n\(log.suffix(3000))")
        }
        state.withLock { $0.url = url }
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGINT, within deadline: Duration = .seconds(20)) async throws -> Int32 {
        guard let process = state.withLock({ $0.process }) else { return 0 }
        kill(process.processIdentifier, signal)
        let exited = await eventually(within: deadline) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            _ = await eventually(within: .seconds(5)) { !process.isRunning }
            throw TestFailure("switchboard up did not exit within \(deadline) of signal \(signal)")
        }
        state.withLock { $0.process = nil }
        return process.terminationStatus
    }

    /// Stops the server (SIGKILL if it must) and removes the directory.
    func cleanUp() async {
        for process in background.withLock({ $0 }) { await process.stop() }
        if let process = state.withLock({ $0.process }), process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = await eventually(within: .seconds(5)) { !process.isRunning }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// kubectl against this server, with its own cache directory.
    func kubectl(_ arguments: String..., stdin: String? = nil) async throws -> ProcessResult {
        try await kubectl(arguments, stdin: stdin)
    }

    func kubectl(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        try await ProcessRunner.run(
            Kubectl.path, ["--kubeconfig", kubeconfig, "--cache-dir", directory.appendingPathComponent("kube-cache").path] + arguments,
            stdin: stdin, directory: directory, timeout: .seconds(60))
    }

    /// A client over the Unix socket (what node components use).
    func client() -> HTTPClusterClient {
        HTTPClusterClient(endpoint: APIEndpoint(url)!)
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

enum Kubectl {
    static let path: String = {
        for candidate in ["/usr/bin/kubectl", "/usr/local/bin/kubectl"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "kubectl"
    }()
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` against a fresh `switchboard up`, stopping it and removing its directory on every exit path.
/// A thrown error carries the end of the server's log.
func withControlPlane<R>(_ arguments: [String] = [], _ body: (SwitchboardUp) async throws -> R) async throws -> R {
    let up = try await SwitchboardUp.start(arguments)
    do {
        let result = try await body(up)
        await up.cleanUp()
        return result
    } catch {
        let log = up.log()
        await up.cleanUp()
        throw TestFailure("\(error)\n--- switchboard up log (end)\n\(log.suffix(4000))")
    }
}
