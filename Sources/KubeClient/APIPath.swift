import KubeAPI

/// REST paths of a kind: `/api/v1/namespaces/NS/services/NAME/status`.
public enum APIPath {
    /// The collection: `/api/v1/namespaces/NS/pods`, or across namespaces when `namespace` is nil.
    public static func collection<T: APIObject>(_ type: T.Type, namespace: String?) -> String {
        var path = T.group.isEmpty ? "/api/\(T.apiVersion)" : "/apis/\(T.apiVersion)"
        if T.isNamespaced, let namespace, !namespace.isEmpty { path += "/namespaces/\(namespace)" }
        return path + "/\(T.resource)"
    }

    /// One object, optionally a subresource of it.
    public static func object<T: APIObject>(_ type: T.Type, namespace: String?, name: String, subresource: String? = nil) -> String {
        var path = collection(type, namespace: namespace) + "/\(name)"
        if let subresource { path += "/\(subresource)" }
        return path
    }
}
