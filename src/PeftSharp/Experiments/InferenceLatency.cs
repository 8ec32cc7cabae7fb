using System.Diagnostics;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Experiments;

/// <summary>Median forward-pass times of a model and of the base model it is compared with, measured in alternation.</summary>
/// <param name="Batch">Rows per forward pass.</param>
/// <param name="Length">Tokens per row.</param>
/// <param name="BaseMilliseconds">Median time of the base model.</param>
/// <param name="Milliseconds">Median time of the measured model.</param>
public sealed record LatencyMeasurement(int Batch, int Length, double BaseMilliseconds, double Milliseconds)
{
    /// <summary>Measured time over base time: 1.0 is no overhead.</summary>
    public double Ratio => Milliseconds / BaseMilliseconds;
}

/// <summary>
/// Inference latency: forward passes in eval mode without gradients over fixed random token ids (every position
/// attended). The measured model and the base model run in alternation, round after round, so that a change in the
/// machine's load affects both; each side's median is kept.
/// </summary>
public static class InferenceLatency
{
    /// <summary>Measures <paramref name="model"/> against <paramref name="baseline"/> on <paramref name="batch"/> × <paramref name="length"/> tokens.</summary>
    /// <param name="baseline">The base model without adapters.</param>
    /// <param name="model">The model to measure (adapted, merged...).</param>
    /// <param name="vocabSize">Ids are drawn from [0, vocabSize).</param>
    /// <param name="batch">Rows.</param>
    /// <param name="length">Tokens per row.</param>
    /// <param name="rounds">Measured rounds (after one warm-up round).</param>
    public static LatencyMeasurement Compare(nn.Module<ModelInputs, ModelOutputs> baseline, nn.Module<ModelInputs, ModelOutputs> model, int vocabSize,
        int batch, int length, int rounds)
    {
        if (batch < 1 || length < 1 || rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), "batch, length and rounds must be positive");
        using var scope = NewDisposeScope();
        using var generator = new Generator(0x1A7E);
        var inputs = new ModelInputs
        {
            InputIds = randint(0, vocabSize, new long[] { batch, length }, dtype: ScalarType.Int64, generator: generator),
            AttentionMask = ones(batch, length, dtype: ScalarType.Int64),
        };
        bool baseTraining = baseline.training, modelTraining = model.training;
        baseline.eval();
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var baseTimes = new List<double>();
            var times = new List<double>();
            for (int round = 0; round <= rounds; round++)
            {
                double b = Time(baseline, inputs), m = Time(model, inputs);
                if (round == 0) continue;   // warm-up
                baseTimes.Add(b);
                times.Add(m);
            }
            return new LatencyMeasurement(batch, length, Median(baseTimes), Median(times));
        }
        finally
        {
            baseline.train(baseTraining);
            model.train(modelTraining);
        }
    }

    static double Time(nn.Module<ModelInputs, ModelOutputs> model, ModelInputs inputs)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var outputs = model.call(inputs);
        _ = outputs.Logits?.sum().item<float>();   // wait for the result
        return clock.Elapsed.TotalMilliseconds;
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
