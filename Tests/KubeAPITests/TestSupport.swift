import Foundation
import IPAM
import KubeAPI

// Shared builders and helpers for the KubeAPI tests.

/// `errors.map(\.description)`: the exact `field: Type: value: detail` strings the API server prints.
func messages(_ errors: [FieldError]) -> [String] { errors.map(\.description) }

/// A valid single-stack ClusterIP Service `default/web`, as the registry hands it to validation: `configure` runs
/// first (it plays the user's manifest), then the v1 defaults.
func makeService(_ configure: (inout Service) -> Void = { _ in }) -> Service {
    var svc = Service(
        metadata: ObjectMeta(name: "web", namespace: "default"),
        spec: ServiceSpec(
            selector: ["app": "web"], ports: [ServicePort(name: "http", port: 80)], clusterIP: "10.96.0.10",
            clusterIPs: ["10.96.0.10"], ipFamilies: [.ipv4], ipFamilyPolicy: .singleStack))
    configure(&svc)
    svc.applyDefaults()
    return svc
}

/// Like `makeService`, but `configure` runs after defaulting: for states only internal callers can produce.
func makeDefaultedService(_ configure: (inout Service) -> Void) -> Service {
    var svc = makeService()
    configure(&svc)
    return svc
}

/// A valid ExternalName Service `default/ext`.
func makeExternalNameService(_ configure: (inout Service) -> Void = { _ in }) -> Service {
    var svc = Service(
        metadata: ObjectMeta(name: "ext", namespace: "default"),
        spec: ServiceSpec(type: .externalName, externalName: "example.com"))
    configure(&svc)
    svc.applyDefaults()
    return svc
}

/// A valid headless Service `default/db` (clusterIP None), no ports needed.
func makeHeadlessService(_ configure: (inout Service) -> Void = { _ in }) -> Service {
    var svc = Service(
        metadata: ObjectMeta(name: "db", namespace: "default"),
        spec: ServiceSpec(
            selector: ["app": "db"], clusterIP: "None", clusterIPs: ["None"], ipFamilies: [.ipv4],
            ipFamilyPolicy: .singleStack))
    configure(&svc)
    svc.applyDefaults()
    return svc
}

/// A valid Pod `default/web-0` with one container `app` listening on 8080 (`http`), defaulted after `configure`.
func makePod(_ configure: (inout Pod) -> Void = { _ in }) -> Pod {
    var pod = Pod(
        metadata: ObjectMeta(name: "web-0", namespace: "default"),
        spec: PodSpec(containers: [
            Container(name: "app", image: "nginx:1.25", ports: [ContainerPort(name: "http", containerPort: 8080)])
        ]))
    configure(&pod)
    pod.applyDefaults()
    return pod
}

/// `Data` of a string.
func data(_ s: String) -> Data { Data(s.utf8) }

/// The error message of parsing `text` as a label selector, nil when it parses.
func labelSelectorError(_ text: String) -> String? {
    do {
        _ = try Selector(parsing: text)
        return nil
    } catch {
        return error.message
    }
}

/// The error message of parsing `text` as a field selector, nil when it parses.
func fieldSelectorError(_ text: String) -> String? {
    do {
        _ = try FieldSelector(parsing: text)
        return nil
    } catch {
        return error.message
    }
}

/// The decoding error of `json` as `T`, nil when it decodes.
func decodingError<T: Decodable>(_ type: T.Type, _ json: String) -> ObjectDecodingError? {
    do {
        _ = try KubeJSON.decode(type, from: data(json))
        return nil
    } catch {
        return error
    }
}

// Upstream message texts (k8s-service-validation.md §3.1), spelled out once.
enum Msg {
    static let dns1035 =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123Label =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123Subdomain =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let qualifiedNamePart =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let qualifiedNameTooManySlashes =
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    static let labelValue =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    static let ip = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    static let cidr = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
    static let portRange = "must be between 1 and 65535, inclusive"
    static let portCharset = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    static let portLetter = "must contain at least one letter (a-z)"
    static let portConsecutiveHyphens = "must not contain consecutive hyphens"
    static let portHyphenEnds = "must not begin or end with a hyphen"
    static func maxLen(_ n: Int) -> String { "must be no more than \(n) characters" }
}
