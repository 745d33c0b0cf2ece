public enum SynchostVersion {
    public static let current = "0.1.0"
}
