/// The product version, shared by `smegd`, `smegctl` and the control API's status response.
public enum SmegVersion {
    public static let string = "0.1.0-dev"
}
