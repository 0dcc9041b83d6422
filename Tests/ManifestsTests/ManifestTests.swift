import Foundation
import KubeAPI
import Testing
@testable import Manifests

func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct ManifestRoundTripTests {
    /// YAML → objects → YAML → objects gives the same objects, and the objects' JSON is exactly the document's.
    @Test(arguments: ["service-three-ports.yaml", "dual-stack-headless.yaml", "externalname.yaml", "pod-with-probes.yaml"])
    func yamlRoundTripLosesNothing(_ name: String) throws {
        let text = try fixture(name)
        let objects = try Manifest.objects(from: text)
        #expect(objects.count == 1)
        let again = try Manifest.objects(from: Manifest.yaml(objects))
        #expect(again == objects)

        let document = try YAMLValue.documents(text)[0]
        var encoded = try KubeJSON.value(of: objects[0].object)
        // The typed objects always carry spec/status; absent ones come back empty, which adds nothing.
        if document["status"] == nil, encoded["status"] == .object([:]) { encoded = encoded.removing("status") }
        #expect(encoded == document)
    }

    @Test(arguments: ["service-three-ports.yaml", "dual-stack-headless.yaml", "externalname.yaml", "pod-with-probes.yaml"])
    func jsonRoundTripLosesNothing(_ name: String) throws {
        let document = try YAMLValue.documents(try fixture(name))[0]
        let json = try KubeJSON.encode(document)
        let object = try Manifest.objects(from: String(decoding: json, as: UTF8.self))[0]
        let reencoded = try KubeJSON.encode(object.object)
        #expect(try Manifest.objects(from: String(decoding: reencoded, as: UTF8.self)) == [object])
    }

    @Test func threePortServiceFields() throws {
        guard case .service(let service) = try Manifest.objects(from: fixture("service-three-ports.yaml"))[0] else {
            Issue.record("not a service")
            return
        }
        #expect(service.name == "web")
        #expect(service.namespace == "shop")
        #expect(service.labels["enabled"] == "true")
        #expect(service.labels["version"] == "1.0")
        #expect(service.ports.map(\.port) == [80, 443, 9090])
        #expect(service.ports[0].targetPort == .string("http"))
        #expect(service.ports[1].targetPort == .int(8443))
        #expect(service.ports[2].protocol == .udp)
        #expect(service.ports[0].appProtocol == "http")
        #expect(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == 600)
        #expect(service.spec.internalTrafficPolicy == .local)
    }

    @Test func dualStackHeadless() throws {
        guard case .service(let service) = try Manifest.objects(from: fixture("dual-stack-headless.yaml"))[0] else {
            Issue.record("not a service")
            return
        }
        #expect(service.isHeadless)
        #expect(service.spec.ipFamilies == [.ipv6, .ipv4])
        #expect(service.spec.ipFamilyPolicy == .requireDualStack)
        #expect(service.spec.publishNotReadyAddresses == true)
    }

    @Test func podWithProbes() throws {
        guard case .pod(let pod) = try Manifest.objects(from: fixture("pod-with-probes.yaml"))[0] else {
            Issue.record("not a pod")
            return
        }
        let c = try #require(pod.spec.containers?.first)
        #expect(c.readinessProbe?.httpGet?.port == .string("admin"))
        #expect(c.readinessProbe?.periodSeconds == 2)
        #expect(c.livenessProbe?.tcpSocket?.port == .int(8080))
        #expect(c.startupProbe?.exec?.command == ["true"])
        #expect(c.env?[1].valueFrom?["fieldRef"]?["fieldPath"] == "status.podIP")
        #expect(c.resources?["limits"]?["cpu"] == "500m")
        #expect(pod.spec.terminationGracePeriodSeconds == 5)
        #expect(pod.spec.subdomain == "web")
    }

    @Test func multiDocumentStreamSkipsEmptyDocuments() throws {
        let objects = try Manifest.objects(from: fixture("multi-document.yaml"))
        #expect(objects.map(\.reference) == ["namespace/shop", "pod/api-0", "service/api"])
    }

    @Test func listIsExpanded() throws {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: b}}
            """
        #expect(try Manifest.objects(from: text).map(\.reference) == ["namespace/a", "namespace/b"])
    }

    @Test func ambiguousStringsStayStrings() throws {
        let service = Service(
            metadata: ObjectMeta(name: "x", labels: ["a": "true", "b": "80", "c": "1.0", "d": "null", "e": "yes", "f": "~", "g": "0x10"]),
            spec: ServiceSpec(ports: [ServicePort(port: 80, targetPort: "80")]))
        let yaml = try Manifest.yaml(service)
        guard case .service(let back) = try Manifest.objects(from: yaml)[0] else {
            Issue.record("not a service")
            return
        }
        #expect(back.labels == service.labels)
        #expect(back.ports[0].targetPort == .string("80"))
    }
}

@Suite struct ManifestErrorTests {
    func error(_ text: String, validation: Manifest.FieldValidation = .strict) -> String {
        do {
            _ = try Manifest.objects(from: text, fieldValidation: validation)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func unknownFieldsAreNamed() {
        let text = """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selectr: {app: web}
              ports: [{port: 80, tagetPort: 8080}]
            """
        #expect(error(text) == #"document 1: Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].tagetPort", unknown field "spec.selectr""#)
        #expect(error(text, validation: .ignore) == "no error")
    }

    @Test func wrongTypeNamesTheField() {
        let text = """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              ports: [{port: http}]
            """
        #expect(error(text) == #"document 1: Service: spec.ports[0].port: expected an integer, found string "http""#)
    }

    @Test func secondDocumentIsNamed() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: [x]}\n"
        #expect(error(text) == #"document 2: Namespace: metadata.name: expected a string, found array"#)
    }

    @Test(arguments: [
        ("kind: Service\nmetadata: {name: a}", "document 1: apiVersion is missing"),
        ("apiVersion: v1\nmetadata: {name: a}", "document 1: kind is missing"),
        ("- a\n- b", "document 1: expected an object with apiVersion and kind, found array"),
        ("apiVersion: apps/v1\nkind: Deployment", "document 1: no kind \"Deployment\" is registered for version \"apps/v1\""),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nmetadata: {name: b}", "document 1: invalid YAML: Parser: expected all keys to be unique but found the following duplicated key(s): 'metadata'"),
    ])
    func structuralErrors(_ text: String, _ expected: String) {
        #expect(error(text).hasPrefix(expected), "\(error(text))")
    }

    @Test func brokenYAMLNamesTheProblem() {
        let message = error("apiVersion: v1\nkind: Service\nmetadata: {name: a\n")
        #expect(message.hasPrefix("document 1: invalid YAML:"), "\(message)")
    }

    @Test func garbageNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ab:{}[]-,\n \"'#&*!|>%@`?\t0123")
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<60, using: &rng)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            _ = try? Manifest.objects(from: text)
        }
    }
}

extension JSONValue {
    func removing(_ key: String) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = nil
        return .object(members)
    }
}
