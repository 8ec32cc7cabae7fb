using PeftSharp.Build;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Build;

/// <summary>The build's fix that lets TorchSharp's native bridge load where libstdc++ lacks GLIBCXX_3.4.32.</summary>
public class NativeLibraryPatchTests
{
    static string OutputNativeLibrary() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();

    [Fact]
    public void TorchSharpRunsInThisProcess()
    {
        // Reaching this line at all needs the native library to have loaded.
        Assert.Equal(6f, (ones(2, 3) * 1).sum().item<float>());
    }

    [Fact]
    public void OutputCopyIsPatchedExactlyWhenTheSystemNeedsIt()
    {
        string? system = ElfVersionPatcher.FindSystemLibStdCxx();
        Assert.NotNull(system);
        var systemVersions = ElfVersionPatcher.ReadVersionDefinitions(File.ReadAllBytes(system!));
        Assert.Contains("GLIBCXX_3.4.9", systemVersions);
        var need = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(OutputNativeLibrary())).Single(n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", need.Library);
        Assert.Equal(!systemVersions.Contains("GLIBCXX_3.4.32"), need.IsWeak);
    }

    [Fact]
    public void PatchWeakensOnlyTheMissingSafeVersionAndKeepsEverythingElse()
    {
        using var dir = Fixtures.TempDir();
        string copy = dir.File("libLibTorchSharp.so");
        byte[] original = File.ReadAllBytes(OutputNativeLibrary());
        var target = ElfVersionPatcher.ReadVersionNeeds(original).Single(n => n.Version == "GLIBCXX_3.4.32");
        original[target.FlagsOffset] &= unchecked((byte)~ElfVersionPatcher.VerFlagWeak);   // as shipped in the package
        File.WriteAllBytes(copy, original);
        var stamp = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(copy, stamp);

        var allButNewest = ElfVersionPatcher.ReadVersionNeeds(original).Select(n => n.Version).Where(v => v != "GLIBCXX_3.4.32").ToHashSet();
        var result = ElfVersionPatcher.Patch(copy, allButNewest);
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, result.Weakened);
        Assert.Empty(result.StillMissing);
        byte[] patched = File.ReadAllBytes(copy);
        Assert.Equal(original.Length, patched.Length);
        Assert.Equal(1, original.Zip(patched).Count(p => p.First != p.Second));      // one byte: the flag
        Assert.True(ElfVersionPatcher.ReadVersionNeeds(patched).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(copy));                             // incremental copies stay skipped

        Assert.Empty(ElfVersionPatcher.Patch(copy, allButNewest).Weakened);              // idempotent
    }

    [Fact]
    public void NewEnoughSystemLeavesTheFileUntouched()
    {
        using var dir = Fixtures.TempDir();
        string copy = dir.File("libLibTorchSharp.so");
        byte[] original = File.ReadAllBytes(OutputNativeLibrary());
        var target = ElfVersionPatcher.ReadVersionNeeds(original).Single(n => n.Version == "GLIBCXX_3.4.32");
        original[target.FlagsOffset] &= unchecked((byte)~ElfVersionPatcher.VerFlagWeak);
        File.WriteAllBytes(copy, original);
        var everything = ElfVersionPatcher.ReadVersionNeeds(original).Select(n => n.Version).ToHashSet();
        var result = ElfVersionPatcher.Patch(copy, everything);
        Assert.Empty(result.Weakened);
        Assert.Equal(original, File.ReadAllBytes(copy));
    }

    [Fact]
    public void MissingUnknownVersionsAreReportedNotWeakened()
    {
        using var dir = Fixtures.TempDir();
        string copy = dir.File("libLibTorchSharp.so");
        File.Copy(OutputNativeLibrary(), copy);
        var withoutOlder = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy)).Select(n => n.Version)
            .Where(v => v != "GLIBCXX_3.4.30" && v != "GLIBCXX_3.4.32").ToHashSet();
        var result = ElfVersionPatcher.Patch(copy, withoutOlder);
        Assert.Contains("GLIBCXX_3.4.30", result.StillMissing);
        Assert.DoesNotContain("GLIBCXX_3.4.30", result.Weakened);
    }

    [Fact]
    public void RejectsFilesThatAreNotElf()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(new byte[100]));
    }
}
