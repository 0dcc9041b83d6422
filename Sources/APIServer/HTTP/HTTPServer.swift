import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeAPI
import Logging
import NIOCore

/// The API over HTTP/1.1 with Hummingbird: the same `APIServer` on a TCP address and a Unix socket.
public enum HTTPServer {
    /// Bodies larger than this are refused (kube-apiserver's limit is 3 MiB).
    public static let maxRequestBody = 3 * 1024 * 1024

    /// An HTTP application serving `server` at `address`. `onRunning` gets the bound channel (for the port
    /// actually bound when asked for port 0).
    public static func application(
        _ server: APIServer, address: BindAddress, logger: Logger,
        onRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await respond(to: request, server: server)
        }
        return Application(
            responder: responder, configuration: ApplicationConfiguration(address: address, serverName: "switchboard"),
            onServerRunning: onRunning, logger: logger)
    }

    static func respond(to incoming: Request, server: APIServer) async throws -> Response {
        var request = incoming
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let isWatch = request.uri.query?.contains("watch=true") == true || request.uri.query?.contains("watch=1") == true
        // A streamed answer needs the request body untouched, to notice the client leave (see `response`).
        let isLog = request.method == .get && request.uri.path.hasSuffix("/log")
        var body = ByteBuffer()
        if !isWatch && !isLog {
            do {
                body = try await request.collectBody(upTo: maxRequestBody)
            } catch {
                return response(server.respond(Status(
                    message: "the request body is larger than \(maxRequestBody) bytes", reason: .requestEntityTooLarge,
                    code: 413)), request: request)
            }
        }
        let api = APIRequest(
            method: request.method.rawValue, path: request.uri.path,
            query: APIRequest.parseQuery(Substring(request.uri.query ?? "")), headers: headers, body: body)
        return response(await server.handle(api), request: request)
    }

    static func response(_ response: APIResponse, request: Request) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers where name.lowercased() != "transfer-encoding" {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .bytes(let buffer):
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
        case .stream(let stream):
            return Response(status: status, headers: fields, body: Self.streamed(request) { try await stream.run($0) })
        case .byteStream(let stream):
            return Response(status: status, headers: fields, body: Self.streamed(request) { try await stream.run($0) })
        }
    }

    /// A body written as `run` produces it (a watch, a followed log). A client that goes away cancels `run` at
    /// once, which frees its buffer and stops its polling.
    static func streamed(
        _ request: Request, _ run: @escaping @Sendable (_ write: (ByteBuffer) async throws -> Void) async throws -> Void
    ) -> ResponseBody {
        ResponseBody { writer in
            try? await request.body.consumeWithCancellationOnInboundClose { _ in
                try await run { try await writer.write($0) }
            }
            try await writer.finish(nil)
        }
    }
}
