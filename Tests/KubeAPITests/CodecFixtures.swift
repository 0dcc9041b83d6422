// Real-world shaped objects, as `kubectl get -o json` prints them (without nulls, which the typed model drops).

enum Fixtures {
    static let serviceThreePorts = #"""
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {
            "annotations": {
              "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Service\"}\n"
            },
            "creationTimestamp": "2024-05-01T12:00:00Z",
            "labels": {"app": "web", "app.kubernetes.io/part-of": "shop"},
            "managedFields": [
              {
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:ports": {".": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}}}}},
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "time": "2024-05-01T12:00:00Z"
              }
            ],
            "name": "web",
            "namespace": "default",
            "resourceVersion": "12345",
            "uid": "6f1c5b0e-8f9a-4e0b-9a3b-1c2d3e4f5a6b"
          },
          "spec": {
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [
              {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
              {"appProtocol": "https", "name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"},
              {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}
            ],
            "selector": {"app": "web"},
            "sessionAffinity": "None",
            "type": "ClusterIP"
          },
          "status": {"loadBalancer": {}}
        }
        """#

    static let dualStackHeadless = #"""
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "db", "namespace": "prod", "finalizers": ["example.com/keep"], "generation": 3},
          "spec": {
            "clusterIP": "None",
            "clusterIPs": ["None"],
            "ipFamilies": ["IPv4", "IPv6"],
            "ipFamilyPolicy": "RequireDualStack",
            "ports": [{"name": "pg", "port": 5432, "protocol": "TCP", "targetPort": 5432}],
            "publishNotReadyAddresses": true,
            "selector": {"app": "db"},
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "internalTrafficPolicy": "Local",
            "trafficDistribution": "PreferClose",
            "type": "ClusterIP"
          },
          "status": {}
        }
        """#

    static let externalName = #"""
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "ext", "namespace": "default", "labels": {"team": "data"}},
          "spec": {
            "type": "ExternalName",
            "externalName": "db.example.com.",
            "ports": [{"port": 5432, "protocol": "TCP", "targetPort": 5432}],
            "sessionAffinity": "None"
          },
          "status": {}
        }
        """#

    static let loadBalancer = #"""
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "lb", "namespace": "default"},
          "spec": {
            "type": "LoadBalancer",
            "allocateLoadBalancerNodePorts": true,
            "clusterIP": "10.96.0.50",
            "clusterIPs": ["10.96.0.50", "fd00::50"],
            "ipFamilies": ["IPv4", "IPv6"],
            "ipFamilyPolicy": "PreferDualStack",
            "externalIPs": ["203.0.113.10"],
            "externalTrafficPolicy": "Local",
            "healthCheckNodePort": 31000,
            "loadBalancerClass": "example.com/lb",
            "loadBalancerIP": "203.0.113.11",
            "loadBalancerSourceRanges": ["10.0.0.0/8"],
            "ports": [{"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "selector": {"app": "web"},
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster"
          },
          "status": {
            "loadBalancer": {"ingress": [{"ip": "203.0.113.11", "ipMode": "VIP", "ports": [{"port": 80, "protocol": "TCP"}]}]},
            "conditions": [{"type": "LoadBalancerReady", "status": "True", "lastTransitionTime": "2024-05-01T12:00:00Z", "reason": "Ready", "message": "ok", "observedGeneration": 1}]
          }
        }
        """#

    static let podWithProbes = #"""
        {
          "apiVersion": "v1",
          "kind": "Pod",
          "metadata": {
            "name": "web-0",
            "namespace": "default",
            "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "abc", "controller": true, "blockOwnerDeletion": true}]
          },
          "spec": {
            "containers": [
              {
                "name": "app",
                "image": "nginx:1.25",
                "imagePullPolicy": "IfNotPresent",
                "command": ["nginx"],
                "args": ["-g", "daemon off;"],
                "env": [
                  {"name": "A", "value": "1"},
                  {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}
                ],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": {
                  "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP", "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                  "initialDelaySeconds": 1, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3
                },
                "livenessProbe": {
                  "tcpSocket": {"port": 8080},
                  "terminationGracePeriodSeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3
                },
                "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30, "periodSeconds": 2},
                "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}, "claims": [{"name": "gpu", "unknownToUs": 1}]},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File"
              }
            ],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": true,
            "hostname": "web-0",
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "subdomain": "web",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "volumes": [{"name": "data", "emptyDir": {}}]
          },
          "status": {
            "phase": "Running",
            "hostIP": "192.168.1.10",
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "qosClass": "Burstable",
            "startTime": "2024-05-01T12:00:00Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T12:00:05Z"}],
            "containerStatuses": [
              {
                "name": "app", "ready": true, "restartCount": 0, "started": true,
                "image": "nginx:1.25", "imageID": "docker.io/library/nginx@sha256:abc", "containerID": "containerd://123",
                "state": {"running": {"startedAt": "2024-05-01T12:00:01Z"}},
                "lastState": {}
              }
            ]
          }
        }
        """#
}
