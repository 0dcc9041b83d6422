import HostNetwork
import KubeAPI

/// How a container's command becomes a host process: the command resolved on the node (a command named
/// `switchboard` is this binary), and the environment kubelet gives it.
public struct ContainerLaunch: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String]

    public enum Failure: Error, Hashable, CustomStringConvertible {
        /// No command: Switchboard has no images to take an entrypoint from.
        case noCommand
        case notFound(String)

        /// The container's waiting reason, as kubelet reports it.
        public var reason: String {
            switch self {
            case .noCommand: "CreateContainerError"
            case .notFound: "RunContainerError"
            }
        }

        public var description: String {
            switch self {
            case .noCommand:
                "no command: Switchboard runs a container's command on the node, and has no image to take one from; set spec.containers[].command"
            case .notFound(let command): "exec: \"\(command)\": executable file not found in $PATH"
            }
        }
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// `extra` are POD_NAME, POD_NAMESPACE, POD_IP and NODE_NAME and the like; the container's own `env`
    /// comes after them and wins, as in Kubernetes.
    public static func resolve(_ container: Container, switchboard: String, extra: [(String, String)]) throws(Failure) -> ContainerLaunch {
        let argv = (container.command ?? []) + (container.args ?? [])
        guard let command = argv.first, !command.isEmpty else { throw .noCommand }
        var variables: [(String, String)] = [("PATH", defaultPath)] + extra
        for variable in container.env ?? [] { variables.append((variable.name, variable.value ?? "")) }
        var seen: [String: Int] = [:]
        var ordered: [(String, String)] = []
        for (name, value) in variables {
            if let index = seen[name] { ordered[index].1 = value } else {
                seen[name] = ordered.count
                ordered.append((name, value))
            }
        }
        let path = ordered.first { $0.0 == "PATH" }?.1 ?? defaultPath
        let executable: String
        if command == "switchboard" {
            executable = switchboard
        } else if let found = HostCommandRunner.which(command, path: path) {
            executable = found
        } else {
            throw .notFound(command)
        }
        return ContainerLaunch(
            executable: executable, arguments: Array(argv.dropFirst()), environment: ordered.map { "\($0.0)=\($0.1)" })
    }
}
