#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The kubeconfig `switchboard up` writes: one cluster, one context, no credentials (loopback only).
struct Kubeconfig {
    var server: String
    var name = "switchboard"

    var text: String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: \(name)
          cluster:
            server: \(server)
        contexts:
        - name: \(name)
          context:
            cluster: \(name)
            user: \(name)
            namespace: default
        current-context: \(name)
        users:
        - name: \(name)
          user: {}
        preferences: {}

        """
    }

    func write(to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
