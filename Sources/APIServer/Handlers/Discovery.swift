import KubeAPI
import NIOCore

/// `/version`, health checks, API discovery and the minimal OpenAPI v3 documents kubectl needs.
enum Discovery {
    static func respond(to request: APIRequest, server: APIServer) -> APIResponse? {
        guard request.method == "GET" else { return nil }
        switch request.path {
        case "/version", "/version/":
            let v = APIServer.kubernetesVersion
            return json([
                "major": .string(v.major), "minor": .string(v.minor), "gitVersion": .string(v.gitVersion),
                "gitCommit": "", "gitTreeState": "clean", "buildDate": "2026-11-24T00:00:00Z", "goVersion": "",
                "compiler": "swift", "platform": "linux/amd64",
            ])
        case "/healthz", "/readyz", "/livez":
            return APIResponse(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: .bytes(ByteBuffer(string: "ok")))
        case "/api", "/api/":
            return json([
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]],
            ])
        case "/apis", "/apis/":
            return json(["kind": "APIGroupList", "apiVersion": "v1", "groups": [group("discovery.k8s.io")]])
        case "/apis/discovery.k8s.io", "/apis/discovery.k8s.io/":
            var g = group("discovery.k8s.io")
            g["kind"] = "APIGroup"
            g["apiVersion"] = "v1"
            return json(g)
        case "/api/v1", "/api/v1/":
            return json(resourceList(group: "", version: "v1"))
        case "/apis/discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1/":
            return json(resourceList(group: "discovery.k8s.io", version: "v1"))
        case "/openapi/v3", "/openapi/v3/":
            return json(["paths": [
                "api/v1": ["serverRelativeURL": .string("/openapi/v3/api/v1?hash=\(openAPIHash)")],
                "apis/discovery.k8s.io/v1": ["serverRelativeURL": .string("/openapi/v3/apis/discovery.k8s.io/v1?hash=\(openAPIHash)")],
            ]])
        case "/openapi/v3/api/v1":
            return json(openAPIDocument(group: ""))
        case "/openapi/v3/apis/discovery.k8s.io/v1":
            return json(openAPIDocument(group: "discovery.k8s.io"))
        default:
            return nil
        }
    }

    /// Changes whenever the documents change, so kubectl's cache (keyed by URL) refetches them.
    static let openAPIHash = "switchboard-1"

    static func json(_ value: JSONValue) -> APIResponse {
        .json(200, ByteBuffer.json(value))
    }

    static func group(_ name: String) -> JSONValue {
        let version: JSONValue = ["groupVersion": .string("\(name)/v1"), "version": "v1"]
        return ["name": .string(name), "versions": [version], "preferredVersion": version]
    }

    static func resourceList(group: String, version: String) -> JSONValue {
        var resources: [JSONValue] = []
        for info in APIServer.resources where info.group == group {
            var entry: [String: JSONValue] = [
                "name": .string(info.plural), "singularName": .string(info.singular),
                "namespaced": .bool(info.namespaced), "kind": .string(info.kind),
                "verbs": .array(info.verbs.map { .string($0) }),
            ]
            if !info.shortNames.isEmpty { entry["shortNames"] = .array(info.shortNames.map { .string($0) }) }
            if !info.categories.isEmpty { entry["categories"] = .array(info.categories.map { .string($0) }) }
            resources.append(.object(entry))
            for sub in info.subresources {
                let (kind, verbs): (String, [JSONValue]) = switch sub {
                case "binding": ("Binding", ["create"])
                case "log": ("Pod", ["get"])
                case "finalize": (info.kind, ["update"])
                default: (info.kind, ["get", "patch", "update"])
                }
                resources.append([
                    "name": .string("\(info.plural)/\(sub)"), "singularName": "", "namespaced": .bool(info.namespaced),
                    "kind": .string(kind), "verbs": .array(verbs),
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ]
    }

    /// Enough OpenAPI for kubectl to see that the server validates fields itself (`fieldValidation`), so that
    /// `kubectl apply` sends `fieldValidation=Strict` instead of needing full schemas.
    static func openAPIDocument(group: String) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        let parameters: JSONValue = [
            ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
            ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
            ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
        ]
        for info in APIServer.resources where info.group == group {
            let prefix = group.isEmpty ? "/api/v1" : "/apis/\(group)/v1"
            let path = info.namespaced ? "\(prefix)/namespaces/{namespace}/\(info.plural)/{name}" : "\(prefix)/\(info.plural)/{name}"
            let gvk: JSONValue = ["group": .string(group), "version": "v1", "kind": .string(info.kind)]
            let operation: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                "responses": ["200": ["description": "OK"]],
            ]
            paths[path] = ["patch": operation, "put": operation]
            let collection = info.namespaced ? "\(prefix)/namespaces/{namespace}/\(info.plural)" : "\(prefix)/\(info.plural)"
            paths[collection] = ["post": operation]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(APIServer.kubernetesVersion.gitVersion)],
            "paths": .object(paths), "components": ["schemas": [:]],
        ]
    }
}
