import Foundation
import Testing

/// `kubectl logs` against `switchboard up`: the API server reads the file the pod's node agent writes, in the
/// directory the node's `switchboard.dev/pod-log-directory` annotation names.
@Suite(.timeLimit(.minutes(2)))
struct PodLogTests {
    @Test func kubectlLogsPrintsTheContainersFileAndFollowsIt() async throws {
        try await withControlPlane { up in
            let logs = up.directory.appendingPathComponent("pod-logs")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            let manifest = """
                apiVersion: v1
                kind: Node
                metadata:
                  name: node-a
                  annotations:
                    switchboard.dev/pod-log-directory: \(logs.path)
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web
                  namespace: default
                spec:
                  nodeName: node-a
                  containers:
                  - name: main
                    image: switchboard-echo
                """
            let applied = try await up.kubectl("apply", "-f", try up.file("logs.yaml", manifest))
            #expect(applied.succeeded, "\(applied.transcript)")

            let waiting = try await up.kubectl("logs", "web")
            #expect(!waiting.succeeded)
            #expect(waiting.stderr.contains(#"container "main" in pod "web" is waiting to start: ContainerCreating"#), "\(waiting.transcript)")

            let uid = try await up.kubectl("get", "pod", "web", "-o", "jsonpath={.metadata.uid}").stdout
            let folder = logs.appendingPathComponent("default_web_\(uid)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("main.log")
            try Data("listening on :8080\nGET / 200\n".utf8).write(to: file)

            let printed = try await up.kubectl("logs", "web")
            #expect(printed.succeeded && printed.stdout == "listening on :8080\nGET / 200\n", "\(printed.transcript)")
            let tail = try await up.kubectl("logs", "web", "--tail=1")
            #expect(tail.stdout == "GET / 200\n", "\(tail.transcript)")

            // -f prints what is appended, and ends when the pod is deleted.
            let follow = try up.kubectlInBackground("logs", "-f", "web")
            #expect(await eventually { follow.output == "listening on :8080\nGET / 200\n" }, "\(follow.output) \(follow.errors)")
            let handle = try FileHandle(forWritingTo: file)
            handle.seekToEndOfFile()
            handle.write(Data("GET /healthz 200\n".utf8))
            try handle.close()
            #expect(await eventually { follow.output.hasSuffix("GET / 200\nGET /healthz 200\n") }, "\(follow.output) \(follow.errors)")
            let deleted = try await up.kubectl("delete", "pod", "web", "--grace-period=0", "--force")
            #expect(deleted.succeeded, "\(deleted.transcript)")
            #expect(await follow.waitForExit(within: .seconds(5)), "kubectl logs -f still running after the pod was deleted")
        }
    }
}
