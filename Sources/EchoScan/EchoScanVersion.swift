/// The version of echoscan, recorded in every summary and index for provenance.
public enum EchoScanVersion {
    public static let current = "0.1.0"
}
