/// The version of lake written into every file it creates or migrates.
public enum LakeVersion {
    public static let current = "0.1.0"
}
