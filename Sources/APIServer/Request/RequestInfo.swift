/// What a resource URL addresses: `/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}` and its
/// cluster-scoped and group (`/apis/{group}/{version}/…`) forms.
struct RequestInfo: Hashable, Sendable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    /// Nil for paths that are not resource URLs (discovery, health, OpenAPI).
    init?(path: String) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let root = segments.first else { return nil }
        if root == "api" {
            guard segments.count >= 3 else { return nil }
            group = ""
            version = segments[1]
            segments.removeFirst(2)
        } else if root == "apis" {
            guard segments.count >= 4 else { return nil }
            group = segments[1]
            version = segments[2]
            segments.removeFirst(3)
        } else {
            return nil
        }
        // namespaces/{ns}/{resource}[/{name}[/{sub}]]; namespaces[/{name}[/{sub}]] is the Namespace resource.
        if segments[0] == "namespaces" && segments.count >= 3 && !(segments.count == 3 && Self.namespaceSubresources.contains(segments[2])) {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        resource = segments[0]
        name = segments.count > 1 ? segments[1] : nil
        subresource = segments.count > 2 ? segments[2] : nil
        if segments.count > 3 { return nil }
    }

    static let namespaceSubresources: Set<String> = ["status", "finalize"]
}
