using PeftSharp.Bench.Harness;
using PeftSharp.Bench.Workloads;
using PeftSharp.IO;
using PeftSharp.Models;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Suites;

/// <summary>
/// Checkpoint loading (AutoModel.Load) as a ratio to reading the same file bytes once with a FileStream. Both read
/// from a warm page cache: the files are read once before the trials, so the reference is a memory-speed read, not a
/// disk read, and the ratio shows what loading adds to merely reading the bytes (allocation, header parsing, copies,
/// dtype conversion).
/// </summary>
public sealed class LoadSuite : IBenchmarkSuite
{
    public string Name => "load";
    public string Description => "AutoModel.Load time vs reading the same bytes (warm page cache): BERT-base fp32, Llama-1B bf16 -> bf16 and -> fp32";

    /// <summary>(shape, dtype to load as): one row each.</summary>
    static readonly (ModelShape Shape, ScalarType DType)[] Cases =
    {
        (ModelShape.BertBase, ScalarType.Float32),
        (ModelShape.Llama1B, ScalarType.BFloat16),
        (ModelShape.Llama1B, ScalarType.Float32),
    };

    public IReadOnlyList<ResultRow> Run(BenchContext context)
    {
        var rows = new List<ResultRow>();
        foreach (var group in Cases.Where(c => context.Includes(Label(c.Shape, c.DType))).GroupBy(c => c.Shape))
        {
            var shape = group.Key;
            string directory = context.Cache.Ensure(shape);
            var files = CheckpointCache.WeightFiles(directory);
            long bytes = CheckpointCache.Bytes(directory);
            context.Log($"load: {shape.Name}, {bytes / 1e9:0.00} GB in {files.Count} file(s); warming the page cache");
            ReadFiles(files);

            var probes = group.Select(c => new Probe(Label(c.Shape, c.DType), () => LoadSeconds(directory, c.Shape, c.DType))).ToList();
            // Where a load's time goes: the two stages below are what AutoModel.Load does besides reading the bytes.
            var stages = group.SelectMany(c => new[]
            {
                new Probe($"{Label(c.Shape, c.DType)}: stage 1, build + first touch", () => BuildAndTouchSeconds(c.Shape, c.DType)),
                new Probe($"{Label(c.Shape, c.DType)}: stage 2, Read every tensor", () => ReadTensorsSeconds(files, c.DType)),
            }).ToList();
            probes.AddRange(stages);
            foreach (var probe in probes) probe.Measure();  // warm-up: first-call costs (JIT, allocator growth)
            var reads = new List<double>();
            var results = Interleave.Run(context, context.Options.Trials, () =>
            {
                double seconds = ReadFiles(files);
                reads.Add(seconds);
                return seconds;
            }, probes, context.Options.BudgetSeconds);

            rows.Add(Row($"{shape.Name} read file ({MatmulKernel.DTypeName(shape.CheckpointDType)}, {bytes / 1e9:0.00} GB)", "read time", "s", Summary.Of(reads), null,
                "FileStream, 16 MB buffer, from the warm page cache (file read once before the trials)"));
            rows.Add(Row($"{shape.Name} read file ({MatmulKernel.DTypeName(shape.CheckpointDType)}, {bytes / 1e9:0.00} GB)", "read throughput", "GB/s",
                Summary.Of(reads.Select(r => bytes / r / 1e9)), null, null));
            foreach (var probe in probes)
            {
                var samples = results[probe.Name];
                bool stage = stages.Contains(probe);
                rows.Add(Row(probe.Name, stage ? "stage time" : "load time", "s", Summary.Of(samples.Select(s => s.Value)),
                    Summary.Of(samples.Select(s => s.Value / ((s.Before + s.After) / 2))), stage
                        ? (probe.Name.EndsWith("touch", StringComparison.Ordinal)
                            ? "the model built uninitialised (as AutoModel.Load builds it), then every parameter zero_()d: allocating and first touching the destination memory"
                            : "SafetensorsFile.Read of every tensor (mmap -> a new tensor), then .to(dtype), freed at once: the temporary copy WeightLoader makes before copy_")
                        : "AutoModel.Load (model built, filled, eval); ratio = load / read of the same bytes, lower is better"));
                if (!stage) rows.Add(Row(probe.Name, "load throughput", "GB/s", Summary.Of(samples.Select(s => bytes / s.Value / 1e9)), null, "file bytes / load time"));
            }
        }
        return rows;

        ResultRow Row(string workload, string metric, string unit, Summary value, Summary? ratio, string? note) => new()
        {
            Suite = Name, Workload = workload, Metric = metric, Unit = unit, Value = value, Ratio = ratio,
            RatioTo = ratio is null ? null : "reading the same file once", Note = note,
        };
    }

    static string Label(ModelShape shape, ScalarType dtype) =>
        $"{shape.Name} {MatmulKernel.DTypeName(shape.CheckpointDType)} file -> {MatmulKernel.DTypeName(dtype)} model";

    /// <summary>Seconds AutoModel.Load takes; the model is freed afterwards, outside the timing.</summary>
    static double LoadSeconds(string directory, ModelShape shape, ScalarType dtype)
    {
        LoadedModel? loaded = null;
        double seconds = Timing.Seconds(() => loaded = AutoModel.Load(directory, new ModelLoadOptions { Task = shape.Task, DType = dtype }));
        loaded!.Model.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return seconds;
    }

    /// <summary>Seconds to build the model uninitialised, as AutoModel.Load does, and write every parameter once.</summary>
    static double BuildAndTouchSeconds(ModelShape shape, ScalarType dtype)
    {
        var config = shape.Config();
        var family = ModelFamilies.ForModelType(config.ModelType, shape.Name);
        TransformerModel? model = null;
        double seconds = Timing.Seconds(() =>
        {
            model = family.Create(config, shape.Task, new LayerFactory(dtype, initialize: false, initializerRange: config.InitializerRange));
            using var noGrad = no_grad();
            foreach (var parameter in model.parameters()) parameter.zero_();
        });
        model!.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return seconds;
    }

    /// <summary>Seconds to read every tensor through SafetensorsFile (mmap, copied into a new tensor) and convert it.</summary>
    static double ReadTensorsSeconds(IReadOnlyList<string> files, ScalarType dtype) => Timing.Seconds(() =>
    {
        foreach (string path in files)
        {
            using var file = SafetensorsFile.Open(path);
            foreach (var entry in file.Entries)
            {
                using var scope = NewDisposeScope();
                _ = file.Read(entry.Name).to(dtype);
            }
        }
    });

    static readonly byte[] Buffer = new byte[16 << 20];

    /// <summary>Seconds to read every byte of the files once.</summary>
    static double ReadFiles(IReadOnlyList<string> files) => Timing.Seconds(() =>
    {
        foreach (string file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            while (stream.Read(Buffer, 0, Buffer.Length) > 0) { }
        }
    });
}
