namespace PeftSharp.Tests.IO;

/// <summary>
/// The torch.save fixtures under tests/PeftSharp.Tests/Fixtures/torch-bin, written by make_torch_bin.py beside them
/// (Python's pickle with stand-ins for torch's classes; see that script for what each file holds).
/// </summary>
public static class TorchBinFixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine(new[] { Fixtures.RepoRoot, "tests", "PeftSharp.Tests", "Fixtures", "torch-bin" }.Concat(parts).ToArray());
}
