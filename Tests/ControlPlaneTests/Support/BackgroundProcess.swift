import Foundation
import Synchronization

/// A long-running command (`kubectl get -w`, `kubectl wait`) whose output is read while it runs.
final class BackgroundProcess: Sendable {
    private let process: Process
    private let outURL: URL
    private let errURL: URL

    init(_ executable: String, _ arguments: [String], directory: URL) throws {
        let id = UUID().uuidString.prefix(8)
        outURL = directory.appendingPathComponent("bg-out-\(id)")
        errURL = directory.appendingPathComponent("bg-err-\(id)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try ProcessRunner.spawning.withLock { _ in try process.run() }
    }

    var output: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }
    /// The exit status, nil while running.
    var status: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Waits for the process to exit on its own; false if it is still running at the deadline.
    func waitForExit(within deadline: Duration) async -> Bool {
        await eventually(within: deadline) { !process.isRunning }
    }

    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = await eventually(within: .seconds(5)) { !process.isRunning }
        }
    }
}

extension SwitchboardUp {
    /// kubectl in the background.
    func kubectlInBackground(_ arguments: String...) throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            Kubectl.path,
            ["--kubeconfig", kubeconfig, "--cache-dir", directory.appendingPathComponent("kube-cache").path] + arguments,
            directory: directory)
        background.withLock { $0.append(process) }
        return process
    }

    /// Writes `text` to a file in the server's directory and returns its path (for `kubectl apply -f`).
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The object as JSON (a dictionary), through kubectl.
    func json(_ arguments: String...) async throws -> [String: Any] {
        let result = try await kubectl(arguments + ["-o", "json"])
        guard result.succeeded, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("kubectl \(arguments.joined(separator: " ")) -o json failed: \(result.transcript)")
        }
        return object
    }

    /// The store-wide resourceVersion, as a list reports it: unchanged means nothing was written.
    func storeVersion() async throws -> String {
        let result = try await kubectl("get", "--raw", "/api/v1/namespaces")
        guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let meta = object["metadata"] as? [String: Any], let version = meta["resourceVersion"] as? String
        else { throw TestFailure("no list resourceVersion: \(result.transcript)") }
        return version
    }
}
