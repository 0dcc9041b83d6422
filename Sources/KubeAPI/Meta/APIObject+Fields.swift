// Fields that `?fieldSelector=` can filter on, per resource, as kube-apiserver registers them.

extension APIObject {
    public static var selectableFields: [String] { ["metadata.name", "metadata.namespace"] }

    public func selectableFieldValue(_ field: String) -> String? { metadataFieldValue(field) }

    func metadataFieldValue(_ field: String) -> String? {
        switch field {
        case "metadata.name": metadata.name ?? ""
        case "metadata.namespace": metadata.namespace ?? ""
        default: nil
        }
    }
}

extension Service {
    public static var selectableFields: [String] { ["metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"] }

    public func selectableFieldValue(_ field: String) -> String? {
        switch field {
        case "spec.clusterIP": spec.clusterIP ?? ""
        case "spec.type": spec.type?.rawValue ?? ""
        default: metadataFieldValue(field)
        }
    }
}

extension Pod {
    public static var selectableFields: [String] {
        [
            "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
            "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
            "status.nominatedNodeName",
        ]
    }

    public func selectableFieldValue(_ field: String) -> String? {
        switch field {
        case "spec.nodeName": spec.nodeName ?? ""
        case "spec.restartPolicy": spec.restartPolicy?.rawValue ?? ""
        case "spec.schedulerName": spec.schedulerName ?? ""
        case "spec.serviceAccountName": spec.serviceAccountName ?? ""
        case "spec.hostNetwork": (spec.hostNetwork ?? false) ? "true" : "false"
        case "status.phase": status.phase?.rawValue ?? ""
        case "status.podIP": status.podIP ?? ""
        case "status.podIPs": status.podIPs?.first?.ip ?? ""
        case "status.nominatedNodeName": status.nominatedNodeName ?? ""
        default: metadataFieldValue(field)
        }
    }
}

extension Node {
    public static var selectableFields: [String] { ["metadata.name", "spec.unschedulable"] }

    public func selectableFieldValue(_ field: String) -> String? {
        field == "spec.unschedulable" ? ((spec.unschedulable ?? false) ? "true" : "false") : metadataFieldValue(field)
    }
}

extension Namespace {
    public static var selectableFields: [String] { ["metadata.name", "status.phase"] }

    public func selectableFieldValue(_ field: String) -> String? {
        field == "status.phase" ? status.phase ?? "" : metadataFieldValue(field)
    }
}
