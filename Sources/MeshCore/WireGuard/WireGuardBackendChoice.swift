/// How the backend is chosen: by configuration, or `auto`.
public enum WireGuardBackendChoice: String, Sendable, Codable, CaseIterable {
    /// A live UAPI socket wins (as in wireguard-tools); else the kernel if it can create a
    /// WireGuard link; else start the userspace implementation.
    case auto
    case kernel
    case userspace
}
