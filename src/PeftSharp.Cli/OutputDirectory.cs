namespace PeftSharp.Cli;

/// <summary>
/// Writes a directory as a whole: its files go into a hidden temporary sibling, which takes the target's place only
/// once complete, so a failure never leaves a half-written directory behind.
/// </summary>
static class OutputDirectory
{
    /// <summary>Refuses a target that is a file, that holds files (unless <paramref name="force"/>), or that is one of the inputs.</summary>
    /// <exception cref="CliUsageException">The target cannot be written.</exception>
    public static void Check(string path, bool force, params string[] inputs)
    {
        string full = Normalize(path);
        if (File.Exists(full)) throw new CliUsageException($"{path}: exists and is a file, not a directory");
        foreach (string input in inputs)
        {
            string other = Normalize(input);
            if (full == other || other.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new CliUsageException($"{path}: the output directory would replace the input {input}");
        }
        if (!force && Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new CliUsageException($"{path}: directory is not empty (pass --force to replace it)");
    }

    /// <summary>Runs <paramref name="write"/> on a temporary sibling of <paramref name="path"/>, then puts it in place of <paramref name="path"/>.</summary>
    public static void Publish(string path, Action<string> write)
    {
        string full = Normalize(path);
        string parent = Path.GetDirectoryName(full) ?? throw new CliUsageException($"{path}: cannot write to a root directory");
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(full), id = Guid.NewGuid().ToString("N")[..12];
        string temporary = Path.Combine(parent, $".{name}.tmp-{id}");
        Directory.CreateDirectory(temporary);
        try
        {
            write(temporary);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        string? previous = Directory.Exists(full) ? Path.Combine(parent, $".{name}.old-{id}") : null;
        if (previous is not null) Directory.Move(full, previous);
        try
        {
            Directory.Move(temporary, full);
        }
        catch
        {
            if (previous is not null) Directory.Move(previous, full);
            TryDelete(temporary);
            throw;
        }
        if (previous is not null) TryDelete(previous);
    }

    static string Normalize(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftovers are hidden siblings; the target itself is intact.
        }
    }
}
