using PeftSharp.Bench.Harness;
using PeftSharp.Models;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// Random checkpoints of the benchmark shapes, made once by AutoModel.Create and ModelSaver.Save into the cache folder
/// (bench/.cache, git-ignored) and reused while present. ModelSaver writes config.json last and every file atomically,
/// so a directory with config.json is complete.
/// </summary>
public sealed class CheckpointCache
{
    readonly string _root;
    readonly BenchContext _context;

    public CheckpointCache(string root, BenchContext context)
    {
        _root = root;
        _context = context;
    }

    /// <summary>The checkpoint directory of <paramref name="shape"/>, written first if missing.</summary>
    public string Ensure(ModelShape shape)
    {
        string directory = Path.Combine(_root, $"{shape.Name}-{MatmulKernel.DTypeName(shape.CheckpointDType)}");
        if (File.Exists(Path.Combine(directory, "config.json"))) return directory;
        _context.Log($"writing {shape.Name} checkpoint to {directory} (once; reused afterwards)");
        double seconds = Timing.Seconds(() =>
        {
            using var model = AutoModel.Create(shape.Config(), shape.Task, shape.CheckpointDType, seed: 1234);
            ModelSaver.Save(model, directory);
        });
        _context.Log($"  written in {seconds:0.0} s ({Bytes(directory) / 1e9:0.00} GB)");
        return directory;
    }

    /// <summary>The weight files of a checkpoint directory.</summary>
    public static IReadOnlyList<string> WeightFiles(string directory) =>
        Directory.GetFiles(directory, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToList();

    public static long Bytes(string directory) => WeightFiles(directory).Sum(f => new FileInfo(f).Length);
}
