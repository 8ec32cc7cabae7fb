using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Training;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Training;

/// <summary>
/// A separable toy task for trainer tests: label 1 when token <see cref="Marker"/> occurs in the sequence, 0 otherwise
/// (half the examples of each). Sequences are random ids from the tiny vocabulary; the data are fixed by a data seed,
/// and each epoch's order is shuffled from (epoch, seed) as <see cref="IBatchSource"/> asks.
/// </summary>
public sealed class TokenPresenceData : IBatchSource
{
    public const long Marker = 5;
    readonly long[][] _sequences;
    readonly long[] _labels;
    readonly int _batchSize;
    readonly bool _shuffle;

    public TokenPresenceData(int examples, int batchSize, int length = 8, int dataSeed = 1234, bool shuffle = true)
    {
        var random = new Random(dataSeed);
        _sequences = new long[examples][];
        _labels = new long[examples];
        for (int i = 0; i < examples; i++)
        {
            var ids = new long[length];
            for (int t = 0; t < length; t++)
            {
                do ids[t] = random.Next(3, 60); while (ids[t] == Marker);
            }
            _labels[i] = i % 2;
            if (_labels[i] == 1) ids[random.Next(length)] = Marker;
            _sequences[i] = ids;
        }
        _batchSize = batchSize;
        _shuffle = shuffle;
    }

    public int BatchesPerEpoch => _sequences.Length / _batchSize;

    /// <summary>Epochs requested so far (epoch numbers in order).</summary>
    public List<int> EpochsRequested { get; } = new();

    public IEnumerable<TrainingBatch> Epoch(int epoch, long seed)
    {
        EpochsRequested.Add(epoch);
        var order = Enumerable.Range(0, _sequences.Length).ToArray();
        if (_shuffle) new Random(unchecked((int)(seed * 1_000_003 + epoch))).Shuffle(order);   // not HashCode: it is seeded per process
        for (int b = 0; b < BatchesPerEpoch; b++)
        {
            var rows = order.Skip(b * _batchSize).Take(_batchSize).ToArray();
            var ids = tensor(rows.SelectMany(r => _sequences[r]).ToArray(), new long[] { rows.Length, _sequences[0].Length }, ScalarType.Int64);
            var labels = tensor(rows.Select(r => _labels[r]).ToArray(), ScalarType.Int64);
            yield return new TrainingBatch(new ModelInputs { InputIds = ids }, labels, rows.Length);
        }
    }
}

/// <summary>Cross-entropy of sequence logits [B, C] against class ids [B].</summary>
public sealed class ClassificationObjective : ITrainingObjective
{
    public Tensor Loss(ModelOutputs outputs, TrainingBatch batch) => nn.functional.cross_entropy(outputs.Logits!, batch.Labels);
}

/// <summary>Accuracy and mean loss over fixed held-out batches.</summary>
public sealed class AccuracyEvaluator : IEvaluator
{
    readonly IBatchSource _data;

    public AccuracyEvaluator(IBatchSource data) => _data = data;

    public string PrimaryMetric => "accuracy";
    public bool HigherIsBetter => true;

    /// <summary>Number of evaluations run.</summary>
    public int Calls { get; private set; }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<ModelInputs, ModelOutputs> model)
    {
        Calls++;
        long correct = 0, total = 0;
        double loss = 0;
        foreach (var batch in _data.Epoch(0, 0))
        {
            using var _ = batch;
            using var scope = NewDisposeScope();
            var logits = model.call(batch.Inputs).Logits!.to(ScalarType.Float32);
            loss += nn.functional.cross_entropy(logits, batch.Labels).item<float>() * batch.Examples;
            correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
            total += batch.Examples;
        }
        return new Dictionary<string, double> { ["accuracy"] = (double)correct / total, ["loss"] = loss / total };
    }
}

/// <summary>An <see cref="IProgress{T}"/> that runs its action on the reporting thread (Progress&lt;T&gt; posts elsewhere).</summary>
public sealed class SyncProgress<T> : IProgress<T>
{
    readonly Action<T> _action;
    public SyncProgress(Action<T> action) => _action = action;
    public void Report(T value) => _action(value);
}

/// <summary>Tiny models with a LoRA adapter for trainer tests.</summary>
public static class ToyModels
{
    /// <summary>A tiny sequence classifier of <paramref name="modelType"/> with LoRA (r 4) on its default targets and a trained head.</summary>
    public static PeftModel Lora(string modelType = "llama", double loraDropout = 0.0, ScalarType dtype = ScalarType.Float32, long adapterSeed = 11)
    {
        var peft = PeftModel.Create(Classifier(modelType, dtype), new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = loraDropout });
        // LoRA's A drew from the process-wide generator, which tests running in parallel share: draw it again from our own.
        var generator = new Generator((ulong)adapterSeed);
        using (no_grad())
            foreach (var (name, parameter) in peft.named_parameters())
                if (name.Contains(".lora_A.")) LoraInit.KaimingUniform(parameter, generator);
        return peft;
    }

    /// <summary>A tiny sequence classifier; in another dtype, the float32 model's weights rounded to it.</summary>
    public static TransformerModel Classifier(string modelType = "llama", ScalarType dtype = ScalarType.Float32)
    {
        var reference = TinyModels.Create(modelType, ModelTask.SequenceClassification);
        if (dtype == ScalarType.Float32) return reference;
        var model = TinyModels.Create(modelType, ModelTask.SequenceClassification, dtype);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters()) parameter.copy_(reference.get_parameter(name)!);
        return model;
    }

    /// <summary>Whether two tensors are the same: shape, dtype and every element equal (torch.equal).</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    /// <summary>Every trainable tensor by name, copied.</summary>
    public static Dictionary<string, Tensor> Trainable(nn.Module model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());
}

/// <summary>
/// Tests that need libtorch's process-wide state to themselves run in here, alone: the default generator (dropout,
/// bit-exact runs) and the intra-op thread count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchStateCollection
{
    public const string Name = "global torch state";
}
