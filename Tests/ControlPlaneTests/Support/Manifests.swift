/// Manifests the tests apply: a namespace, three labelled pods with named ports, and a two-port Service.
enum Fixture {
    static func pod(_ name: String, namespace: String = "shop", app: String = "web", extra: String = "") -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
          namespace: \(namespace)
          labels:
            app: \(app)
        \(extra)
        spec:
          containers:
          - name: main
            image: switchboard-echo
            command: ["switchboard", "echo"]
            ports:
            - name: http
              containerPort: 8080
            - name: https
              containerPort: 8443
        """
    }

    static func service(_name name: String = "web", namespace: String = "shop", httpsPort: Int = 443) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: \(namespace)
        spec:
          selector:
            app: web
          ports:
          - name: http
            port: 80
            targetPort: http
          - name: https
            port: \(httpsPort)
            targetPort: https
        """
    }

    static func shop(httpsPort: Int = 443) -> String {
        [
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
            """,
            pod("web-1"), pod("web-2"), pod("web-3"), service(httpsPort: httpsPort),
        ].joined(separator: "\n---\n") + "\n"
    }

    /// The status a node agent reports for a running, ready pod.
    static func readyStatus(ip: String) -> String {
        #"{"status":{"phase":"Running","podIP":"\#(ip)","podIPs":[{"ip":"\#(ip)"}],"conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"main","ready":true,"restartCount":0,"image":"switchboard-echo","imageID":"","started":true,"state":{"running":{"startedAt":"2026-11-24T00:00:00Z"}}}]}}"#
    }
}
