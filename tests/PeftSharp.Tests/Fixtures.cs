using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Tests;

/// <summary>Paths to the repository's real artifacts (shared/) and scratch directories for tests.</summary>
public static class Fixtures
{
    static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PeftSharp.slnx"))) return dir.FullName;
        throw new InvalidOperationException("repository root (PeftSharp.slnx) not found above the test binaries");
    });

    /// <summary>The repository root.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>A path under shared/ (real models, adapters and reference outputs; see shared/DATA.md).</summary>
    public static string Shared(params string[] parts) => Path.Combine(new[] { RepoRoot, "shared" }.Concat(parts).ToArray());

    /// <summary>A new empty directory, deleted when disposed.</summary>
    public static TempDirectory TempDir() => new();

    /// <summary>Reads every tensor of a safetensors file.</summary>
    public static Dictionary<string, Tensor> ReadTensors(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.ReadAll();
    }

    /// <summary>Largest absolute difference between two tensors (compared in float64).</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "peftsharp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
