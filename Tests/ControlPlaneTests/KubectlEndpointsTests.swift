import Foundation
import Testing

/// Pod status through the status subresource (as a node agent writes it) drives EndpointSlices and Endpoints,
/// which kubectl shows, within a second of each change.
@Suite(.timeLimit(.minutes(2)))
struct KubectlEndpointsTests {
    static let ips = ["web-1": "10.244.0.11", "web-2": "10.244.0.12", "web-3": "10.244.0.13"]

    @Test func readyPodsBecomeEndpointsAndLeaveWhenRelabelled() async throws {
        try await withControlPlane { up in
            let applied = try await up.kubectl("apply", "-f", try up.file("shop.yaml", Fixture.shop()))
            #expect(applied.succeeded, "\(applied.transcript)")

            // A watch that runs through every change below.
            let watch = try up.kubectlInBackground("get", "pods", "-n", "shop", "-w")
            #expect(await eventually { watch.output.contains("web-3") }, "get -w printed: \(watch.output) \(watch.errors)")

            for (pod, ip) in Self.ips.sorted(by: { $0.key < $1.key }) {
                let patched = try await up.kubectl(
                    "patch", "pod", pod, "-n", "shop", "--subresource=status", "--type=merge", "-p", Fixture.readyStatus(ip: ip))
                #expect(patched.succeeded && patched.stdout == "pod/\(pod) patched\n", "\(patched.transcript)")
            }
            // The watch printed each pod's new state as it happened.
            let watchedReady = await eventually {
                let lines = watch.output.split(separator: "\n")
                return Self.ips.keys.allSatisfy { pod in
                    lines.contains { $0.hasPrefix(pod + " ") && $0.contains("1/1") && $0.contains("Running") }
                }
            }
            #expect(watchedReady, "get -w printed:\n\(watch.output)")

            // EndpointSlices and describe list every ready pod, within a second.
            let allIPs = Self.ips.values.sorted()
            let sliced = try await eventually(within: .seconds(1)) {
                let slices = try await up.kubectl("get", "endpointslices", "-n", "shop")
                return allIPs.allSatisfy { slices.stdout.contains($0) }
            }
            let slices = try await up.kubectl("get", "endpointslices", "-n", "shop")
            #expect(sliced, "\(slices.transcript)")
            #expect(slices.stdout.contains("web-") && slices.stdout.contains("IPv4") && slices.stdout.contains("8080,8443"), "\(slices.stdout)")
            let described = try await up.kubectl("describe", "svc", "web", "-n", "shop")
            let endpointLines = described.stdout.split(separator: "\n").filter { $0.hasPrefix("Endpoints:") }.map {
                $0.dropFirst("Endpoints:".count).trimmingCharacters(in: .whitespaces)
            }
            #expect(endpointLines == [
                "10.244.0.11:8080,10.244.0.12:8080,10.244.0.13:8080", "10.244.0.11:8443,10.244.0.12:8443,10.244.0.13:8443",
            ], "\(described.stdout)")
            let endpoints = try await up.kubectl("get", "endpoints", "web", "-n", "shop", "-o", "jsonpath={.subsets[0].addresses[*].ip}")
            #expect(endpoints.stdout == allIPs.joined(separator: " "), "\(endpoints.transcript)")

            // Removing the label takes the pod out of the endpoints within a second.
            let clock = ContinuousClock()
            let relabelled = try await up.kubectl("label", "pod", "web-2", "-n", "shop", "app-")
            #expect(relabelled.succeeded && relabelled.stdout == "pod/web-2 unlabeled\n", "\(relabelled.transcript)")
            let start = clock.now
            let removed = try await eventually(within: .seconds(1)) {
                let slices = try await up.kubectl(
                    "get", "endpointslices", "-n", "shop", "-l", "kubernetes.io/service-name=web",
                    "-o", "jsonpath={.items[*].endpoints[*].addresses[0]}")
                return slices.stdout == "10.244.0.11 10.244.0.13"
            }
            #expect(removed, "web-2 still in the EndpointSlice \(clock.now - start) after the label was removed")
            let legacy = try await eventually(within: .seconds(1)) {
                let endpoints = try await up.kubectl("get", "endpoints", "web", "-n", "shop", "-o", "jsonpath={.subsets[0].addresses[*].ip}")
                return endpoints.stdout == "10.244.0.11 10.244.0.13"
            }
            #expect(legacy)

            // A pod that turns unready moves to the not-ready addresses.
            let unready = try await up.kubectl(
                "patch", "pod", "web-3", "-n", "shop", "--subresource=status", "--type=merge", "-p",
                #"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#)
            #expect(unready.succeeded, "\(unready.transcript)")
            let moved = try await eventually(within: .seconds(1)) {
                let endpoints = try await up.kubectl(
                    "get", "endpoints", "web", "-n", "shop", "-o", "jsonpath={.subsets[0].addresses[*].ip}/{.subsets[0].notReadyAddresses[*].ip}")
                return endpoints.stdout == "10.244.0.11/10.244.0.13"
            }
            #expect(moved)
            #expect(await eventually { watch.output.split(separator: "\n").contains { $0.hasPrefix("web-3 ") && $0.contains("0/1") } },
                "get -w printed:\n\(watch.output)")
            await watch.stop()
        }
    }
}
