import ClusterStore
import Foundation
import IPAM
import KubeAPI
import NIOCore
import Testing
@testable import APIServer

/// The API server in process, on an in-memory store: request in, response out, no HTTP. The kubectl end-to-end
/// tests (ControlPlaneTests) cover the wire; these pin the rules at the handler level in milliseconds.
struct APIServerTests {
    static func makeServer() async throws -> APIServer {
        let store = try ObjectStore(persistence: MemoryPersistence(), decode: APIServer.decodeStoredObject)
        let server = try APIServer(store: store, serviceCIDRs: [try CIDR(parsing: "10.96.0.0/24")])
        try await server.bootstrap(apiServerPort: 6443)
        return server
    }

    static func post(_ server: APIServer, _ path: String, _ json: String, query: [(String, String)] = []) async -> APIResponse {
        await server.handle(
            APIRequest(
                method: "POST", path: path, query: query.map { (name: $0.0, value: $0.1) },
                headers: ["content-type": "application/json"], body: ByteBuffer(string: json)))
    }

    static func get(_ server: APIServer, _ path: String, headers: [String: String] = [:]) async -> APIResponse {
        await server.handle(APIRequest(method: "GET", path: path, headers: headers))
    }

    static func object(_ response: APIResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.bytes.readableBytesView)) as? [String: Any])
    }

    @Test func resourceURLsAreParsedLikeKubeAPIServer() {
        let pod = RequestInfo(path: "/api/v1/namespaces/default/pods/web/status")
        #expect(pod?.group == "" && pod?.version == "v1" && pod?.namespace == "default")
        #expect(pod?.resource == "pods" && pod?.name == "web" && pod?.subresource == "status")
        let slices = RequestInfo(path: "/apis/discovery.k8s.io/v1/endpointslices")
        #expect(slices?.group == "discovery.k8s.io" && slices?.namespace == nil && slices?.resource == "endpointslices")
        // The Namespace resource itself, and its status subresource, are not namespace-scoped paths.
        #expect(RequestInfo(path: "/api/v1/namespaces/team")?.resource == "namespaces")
        #expect(RequestInfo(path: "/api/v1/namespaces/team/status")?.subresource == "status")
        #expect(RequestInfo(path: "/api/v1/namespaces/team/status")?.namespace == nil)
        #expect(RequestInfo(path: "/healthz") == nil)
        #expect(RequestInfo(path: "/api/v1/namespaces/a/pods/b/status/extra") == nil)
    }

    @Test func bootstrapMakesNamespacesAndTheKubernetesServiceOnTheFirstIP() async throws {
        let server = try await Self.makeServer()
        let kubernetes = try Self.object(await Self.get(server, "/api/v1/namespaces/default/services/kubernetes"))
        let spec = try #require(kubernetes["spec"] as? [String: Any])
        #expect(spec["clusterIP"] as? String == "10.96.0.1")
        for name in ["default", "kube-system", "kube-public"] {
            #expect(await Self.get(server, "/api/v1/namespaces/\(name)").status == 200)
        }
        await server.store.shutdown()
    }

    @Test func aCreatedServiceIsDefaultedAndGetsAClusterIP() async throws {
        let server = try await Self.makeServer()
        let response = await Self.post(
            server, "/api/v1/namespaces/default/services",
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}"#)
        #expect(response.status == 201)
        let spec = try #require(try Self.object(response)["spec"] as? [String: Any])
        let ip = try #require(spec["clusterIP"] as? String)
        #expect(try CIDR(parsing: "10.96.0.0/24").contains(try IPAddress(parsing: ip)))
        #expect(spec["type"] as? String == "ClusterIP")
        #expect(spec["sessionAffinity"] as? String == "None")
        #expect(spec["ipFamilies"] as? [String] == ["IPv4"])
        let port = try #require((spec["ports"] as? [[String: Any]])?.first)
        #expect(port["protocol"] as? String == "TCP")
        #expect(port["targetPort"] as? Int == 80)
        await server.store.shutdown()
    }

    @Test func invalidServicesAreRefusedWithCausesAndLeaveNoTrace() async throws {
        let server = try await Self.makeServer()
        let response = await Self.post(
            server, "/api/v1/namespaces/default/services",
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"two"},"spec":{"ports":[{"port":80},{"port":443}]}}"#)
        #expect(response.status == 422)
        let status = try Self.object(response)
        #expect(status["kind"] as? String == "Status")
        #expect(status["reason"] as? String == "Invalid")
        let causes = try #require((status["details"] as? [String: Any])?["causes"] as? [[String: Any]])
        #expect(causes.contains { $0["field"] as? String == "spec.ports[1].name" && $0["reason"] as? String == "FieldValueRequired" })
        #expect(await Self.get(server, "/api/v1/namespaces/default/services/two").status == 404)
        await server.store.shutdown()
    }

    @Test func strictFieldValidationRejectsUnknownFields() async throws {
        let server = try await Self.makeServer()
        let body = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"typo"},"spec":{"selectr":{"app":"x"},"ports":[{"port":80}]}}"#
        let strict = await Self.post(server, "/api/v1/namespaces/default/services", body, query: [("fieldValidation", "Strict")])
        #expect(strict.status == 400)
        #expect(String(buffer: strict.bytes).contains(#"unknown field \"spec.selectr\""#))
        let warn = await Self.post(server, "/api/v1/namespaces/default/services", body, query: [("fieldValidation", "Warn")])
        #expect(warn.status == 201)
        #expect(warn.headers.contains { $0.name.lowercased() == "warning" && $0.value.contains("spec.selectr") })
        await server.store.shutdown()
    }

    @Test func aBodyThatIsNotJSONIsABadRequest() async throws {
        let server = try await Self.makeServer()
        let response = await Self.post(server, "/api/v1/namespaces/default/services", "this is not json")
        #expect(response.status == 400)
        #expect(try Self.object(response)["reason"] as? String == "BadRequest")
        await server.store.shutdown()
    }

    @Test func tablesCarryTheUpstreamServiceColumns() async throws {
        let server = try await Self.makeServer()
        let response = await Self.get(
            server, "/api/v1/namespaces/default/services",
            headers: ["accept": "application/json;as=Table;g=meta.k8s.io;v=v1"])
        #expect(response.status == 200)
        let table = try Self.object(response)
        #expect(table["kind"] as? String == "Table")
        let columns = try #require(table["columnDefinitions"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(columns.prefix(6) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"])
        let rows = try #require(table["rows"] as? [[String: Any]])
        let cells = try #require(rows.first?["cells"] as? [Any])
        #expect(cells.first as? String == "kubernetes")
        #expect(cells[2] as? String == "10.96.0.1")
        #expect(cells[4] as? String == "443/TCP")
        await server.store.shutdown()
    }

    @Test func anUnknownResourceIsNotFound() async throws {
        let server = try await Self.makeServer()
        let response = await Self.get(server, "/api/v1/namespaces/default/widgets")
        #expect(response.status == 404)
        await server.store.shutdown()
    }
}
