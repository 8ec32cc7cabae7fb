// Makes TorchSharp's native bridge load on Linux systems whose libstdc++ predates GCC 13.
//
// libLibTorchSharp.so (TorchSharp 0.107) lists GLIBCXX_3.4.32 among the versions it needs from libstdc++.so.6.
// The only symbol behind that version is std::ios_base_library_init, referenced by a bare .globl that no
// relocation uses, so the library runs correctly without it. Debian 12's libstdc++ stops at 3.4.30 and the
// dynamic loader refuses the whole library because of that one unused need. Marking the need weak
// (VER_FLG_WEAK in its Vernaux entry) lets the loader accept it. Nothing is changed when the system's
// libstdc++ defines every version the library asks for.
//
// This file is compiled twice: into the MSBuild task that patches build and publish outputs
// (build/PeftSharp.targets), and into the test project, which checks the patch on a real file.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace PeftSharp.Build
{
    /// <summary>One version a shared object needs from another (an ELF Vernaux entry).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string library, string version, ushort flags, long flagsOffset)
        {
            Library = library;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The library the version is needed from, e.g. "libstdc++.so.6".</summary>
        public string Library { get; }

        /// <summary>The version name, e.g. "GLIBCXX_3.4.32".</summary>
        public string Version { get; }

        /// <summary>vna_flags; bit 0x2 (VER_FLG_WEAK) makes a missing version a warning, not an error.</summary>
        public ushort Flags { get; }

        /// <summary>File offset of vna_flags.</summary>
        public long FlagsOffset { get; }

        public bool IsWeak => (Flags & ElfVersionPatcher.VerFlagWeak) != 0;
    }

    /// <summary>What <see cref="ElfVersionPatcher.Patch"/> did to one file.</summary>
    public sealed class ElfPatchResult
    {
        public ElfPatchResult(string path, IReadOnlyList<string> weakened, IReadOnlyList<string> stillMissing)
        {
            Path = path;
            Weakened = weakened;
            StillMissing = stillMissing;
        }

        public string Path { get; }

        /// <summary>Versions whose need was marked weak by this call.</summary>
        public IReadOnlyList<string> Weakened { get; }

        /// <summary>Versions the system lacks that are not known to be safe to weaken: the library will still fail.</summary>
        public IReadOnlyList<string> StillMissing { get; }
    }

    /// <summary>Reads ELF64 symbol-version tables and weakens version needs that are known to be unused.</summary>
    public static class ElfVersionPatcher
    {
        public const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerdef = 0x6ffffffd;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Versions verified to be needed only through symbols that nothing relocates against.</summary>
        public static readonly IReadOnlyCollection<string> SafeToWeaken = new[] { "GLIBCXX_3.4.32" };

        /// <summary>Directories searched for the system libstdc++, after LD_LIBRARY_PATH, in loader order.</summary>
        static readonly string[] SystemLibraryDirectories =
        {
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib64", "/usr/lib64", "/lib", "/usr/lib",
        };

        /// <summary>The libstdc++.so.6 the dynamic loader would pick, or null when none is found.</summary>
        public static string? FindSystemLibStdCxx()
        {
            var fromEnvironment = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
                .Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries);
            return fromEnvironment.Concat(SystemLibraryDirectories)
                .Select(directory => System.IO.Path.Combine(directory, "libstdc++.so.6"))
                .FirstOrDefault(File.Exists);
        }

        /// <summary>Every version need recorded in the file's .gnu.version_r section.</summary>
        public static List<ElfVersionNeed> ReadVersionNeeds(byte[] elf)
        {
            var needs = new List<ElfVersionNeed>();
            foreach (var section in ReadSections(elf).Where(s => s.Type == ShtGnuVerneed))
            {
                var strings = ReadSections(elf)[(int)section.Link];
                long entry = (long)section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    ushort count = U16(elf, entry + 2);
                    string library = CString(elf, (long)strings.Offset + U32(elf, entry + 4));
                    long aux = entry + U32(elf, entry + 8);
                    for (int j = 0; j < count; j++)
                    {
                        ushort flags = U16(elf, aux + 4);
                        string version = CString(elf, (long)strings.Offset + U32(elf, aux + 8));
                        needs.Add(new ElfVersionNeed(library, version, flags, aux + 4));
                        aux += U32(elf, aux + 12);
                    }
                    uint next = U32(elf, entry + 12);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return needs;
        }

        /// <summary>Every version name a shared object defines (its .gnu.version_d section).</summary>
        public static HashSet<string> ReadVersionDefinitions(byte[] elf)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var section in ReadSections(elf).Where(s => s.Type == ShtGnuVerdef))
            {
                var strings = ReadSections(elf)[(int)section.Link];
                long entry = (long)section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    ushort auxCount = U16(elf, entry + 6);
                    long aux = entry + U32(elf, entry + 12);
                    if (auxCount > 0) names.Add(CString(elf, (long)strings.Offset + U32(elf, aux)));
                    uint next = U32(elf, entry + 16);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return names;
        }

        /// <summary>
        /// Marks weak every libstdc++ version need of <paramref name="path"/> that <paramref name="systemVersions"/>
        /// lacks and that is in <see cref="SafeToWeaken"/>. The file is rewritten through a temporary file and keeps
        /// its timestamp, so incremental copies still see it as up to date.
        /// </summary>
        public static ElfPatchResult Patch(string path, ISet<string> systemVersions)
        {
            byte[] elf = File.ReadAllBytes(path);
            var missing = ReadVersionNeeds(elf)
                .Where(n => n.Library.StartsWith("libstdc++", StringComparison.Ordinal) && !systemVersions.Contains(n.Version))
                .ToList();
            var toWeaken = missing.Where(n => SafeToWeaken.Contains(n.Version) && !n.IsWeak).ToList();
            var stillMissing = missing.Where(n => !SafeToWeaken.Contains(n.Version)).Select(n => n.Version).ToList();
            if (toWeaken.Count > 0)
            {
                foreach (var need in toWeaken)
                {
                    ushort flags = (ushort)(need.Flags | VerFlagWeak);
                    elf[need.FlagsOffset] = (byte)(flags & 0xff);
                    elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                }
                var stamp = File.GetLastWriteTimeUtc(path);
                string temporary = path + ".peftsharp-patch.tmp";
                File.WriteAllBytes(temporary, elf);
                File.SetLastWriteTimeUtc(temporary, stamp);
                // A rename, not an in-place write: a process that has the library mapped keeps its old copy.
                File.Replace(temporary, path, null);
            }
            return new ElfPatchResult(path, toWeaken.Select(n => n.Version).ToList(), stillMissing);
        }

        sealed class Section
        {
            public uint Type;
            public ulong Offset;
            public uint Link;
            public uint Info;
        }

        static List<Section> ReadSections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            ulong tableOffset = U64(elf, 0x28);
            ushort entrySize = U16(elf, 0x3a);
            ushort count = U16(elf, 0x3c);
            var sections = new List<Section>(count);
            for (int i = 0; i < count; i++)
            {
                long at = (long)tableOffset + (long)i * entrySize;
                sections.Add(new Section { Type = U32(elf, at + 4), Offset = U64(elf, at + 24), Link = U32(elf, at + 40), Info = U32(elf, at + 44) });
            }
            return sections;
        }

        static ushort U16(byte[] b, long at) => BitConverter.ToUInt16(b, checked((int)at));
        static uint U32(byte[] b, long at) => BitConverter.ToUInt32(b, checked((int)at));
        static ulong U64(byte[] b, long at) => BitConverter.ToUInt64(b, checked((int)at));

        static string CString(byte[] b, long at)
        {
            int start = checked((int)at);
            int end = Array.IndexOf(b, (byte)0, start);
            return Encoding.ASCII.GetString(b, start, end - start);
        }
    }

#if !PEFTSHARP_ELF_TESTS
    /// <summary>MSBuild task: patches every libLibTorchSharp.so under <see cref="Directory"/> when the system needs it.</summary>
    public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory)) return true;
            var natives = System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories).ToList();
            if (natives.Count == 0) return true;
            string? libStdCxx = ElfVersionPatcher.FindSystemLibStdCxx();
            if (libStdCxx == null)
            {
                Log.LogWarning("PeftSharp: no libstdc++.so.6 found; TorchSharp's native library was left as it is.");
                return true;
            }
            var systemVersions = ElfVersionPatcher.ReadVersionDefinitions(File.ReadAllBytes(libStdCxx));
            foreach (string native in natives)
            {
                var result = ElfVersionPatcher.Patch(native, systemVersions);
                if (result.Weakened.Count > 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"PeftSharp: {libStdCxx} lacks {string.Join(", ", result.Weakened)}; marked weak in {native} (unused by TorchSharp).");
                if (result.StillMissing.Count > 0)
                    Log.LogWarning($"PeftSharp: {libStdCxx} lacks {string.Join(", ", result.StillMissing)}, needed by {native}; TorchSharp will not load on this system.");
            }
            return true;
        }
    }
#endif
}
