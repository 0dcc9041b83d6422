// API objects carry IP families (`spec.ipFamilies`), so every user of KubeAPI needs IPAM's `IPFamily`.
@_exported import IPAM
