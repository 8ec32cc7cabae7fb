using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// Hugging Face PEFT's merge_utils: ways to merge "task tensors" (the same tensor taken from several adapters, all of
/// one shape) into one, with a weight per tensor. Task arithmetic (Ilharco et al. 2023) is the weighted sum; TIES
/// (Yadav et al. 2023) keeps each tensor's largest values, elects a sign per element and averages the values that agree;
/// DARE (Yu et al. 2024) drops random values and rescales the rest by 1 / density.
/// </summary>
public static class TaskMerging
{
    /// <summary>The merge methods, by PEFT's names (each is also the base of a "_svd" combination).</summary>
    public static readonly IReadOnlyList<string> Methods = new[] { "linear", "ties", "dare_linear", "dare_ties", "magnitude_prune" };

    /// <summary>Methods that prune, and so need a density.</summary>
    public static bool Prunes(string method) => method is "ties" or "dare_linear" or "dare_ties" or "magnitude_prune";

    /// <summary>Methods that elect a majority sign.</summary>
    public static bool ElectsSign(string method) => method is "ties" or "dare_ties";

    /// <summary>
    /// Merges <paramref name="tensors"/> with <paramref name="weights"/> by <paramref name="method"/> ("linear" is task
    /// arithmetic). <paramref name="generator"/> drives DARE's random pruning (null: the global generator).
    /// </summary>
    public static Tensor Merge(string method, IReadOnlyList<Tensor> tensors, IReadOnlyList<double> weights, double? density = null,
        string majoritySignMethod = "total", Generator? generator = null)
    {
        if (tensors.Count == 0) throw new ArgumentException("nothing to merge", nameof(tensors));
        if (weights.Count != tensors.Count) throw new ArgumentException($"{weights.Count} weights for {tensors.Count} tensors", nameof(weights));
        if (Prunes(method) && density is null) throw new ArgumentException($"'{method}' needs a density", nameof(density));
        return method switch
        {
            "linear" => TaskArithmetic(tensors, weights),
            "magnitude_prune" => TaskArithmetic(tensors.Select(t => Prune(t, density!.Value, random: false)).ToList(), weights),
            "ties" => Ties(tensors.Select(t => Prune(t, density!.Value, random: false)).ToList(), weights, majoritySignMethod),
            "dare_linear" => TaskArithmetic(tensors.Select(t => Prune(t, density!.Value, random: true, generator)).ToList(), weights),
            "dare_ties" => Ties(tensors.Select(t => Prune(t, density!.Value, random: true, generator)).ToList(), weights, majoritySignMethod),
            _ => throw new ArgumentException($"unknown merge method '{method}' (known: {string.Join(", ", Methods)})", nameof(method)),
        };
    }

    /// <summary>Sum of weight_i * tensor_i.</summary>
    public static Tensor TaskArithmetic(IReadOnlyList<Tensor> tensors, IReadOnlyList<double> weights)
    {
        using var scope = NewDisposeScope();
        var stacked = stack(tensors, 0);                                              // [n, ...]
        return (stacked * WeightsLike(stacked, weights)).sum(dim: 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// TIES' sign election and disjoint merge of already pruned tensors: the majority sign is elected on the unweighted
    /// tensors, then the weighted values that carry it are averaged (an element no tensor agrees on becomes 0).
    /// </summary>
    public static Tensor Ties(IReadOnlyList<Tensor> pruned, IReadOnlyList<double> weights, string majoritySignMethod = "total")
    {
        using var scope = NewDisposeScope();
        var stacked = stack(pruned, 0);                                               // [n, ...]
        var mask = MajoritySignMask(stacked, majoritySignMethod);
        return DisjointMerge(stacked * WeightsLike(stacked, weights), mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Keeps a fraction <paramref name="density"/> of the values: the largest in magnitude (top k = floor(density * numel)),
    /// or (<paramref name="random"/>) each value with probability density, the kept ones divided by density so the
    /// expected value is unchanged. Density 1 or more keeps everything.
    /// </summary>
    /// <remarks>
    /// PEFT's random pruning rescales by 1 / density. From 0.9 (which added DARE) until 0.19 its code computed the division
    /// and discarded the result, so DARE combinations made by those versions are not rescaled; PeftSharp rescales, as
    /// PEFT 0.19 and later do.
    /// </remarks>
    public static Tensor Prune(Tensor tensor, double density, bool random, Generator? generator = null)
    {
        if (density < 0 || double.IsNaN(density)) throw new ArgumentException($"density must be at least 0, got {density}", nameof(density));
        if (density >= 1) return tensor;
        using var scope = NewDisposeScope();
        Tensor pruned;
        if (random)
        {
            var keep = bernoulli(full_like(tensor, density), generator);
            pruned = tensor * keep / density;
        }
        else
        {
            long k = (long)(density * tensor.numel());
            var mask = zeros_like(tensor).reshape(-1);
            if (k > 0) mask.index_fill_(0, tensor.abs().reshape(-1).topk((int)k).indexes, 1.0);
            pruned = tensor * mask.reshape(tensor.shape);
        }
        return pruned.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// True where a tensor's value has the elected sign, for tensors stacked on dimension 0. "total": the sign of the
    /// sum of values; "frequency": the sign most values have. Ties elect +.
    /// </summary>
    public static Tensor MajoritySignMask(Tensor stacked, string method = "total")
    {
        using var scope = NewDisposeScope();
        var sign = stacked.sign();
        var magnitude = method switch
        {
            "total" => stacked.sum(dim: 0),
            "frequency" => sign.sum(dim: 0),
            _ => throw new ArgumentException($"majority sign method must be 'total' or 'frequency', got '{method}'", nameof(method)),
        };
        var majority = where(magnitude >= 0, 1.0, -1.0).to(sign.dtype);
        return (sign == majority).MoveToOuterDisposeScope();
    }

    /// <summary>Mean over dimension 0 of the values the mask keeps (the sum divided by the count, at least 1).</summary>
    public static Tensor DisjointMerge(Tensor stacked, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var kept = (stacked * mask).sum(dim: 0);
        var count = mask.to(stacked.dtype).sum(dim: 0).clamp_min(1.0);
        return (kept / count).MoveToOuterDisposeScope();
    }

    /// <summary>The weights as a tensor of shape [n, 1, ..., 1] that broadcasts against <paramref name="stacked"/>.</summary>
    static Tensor WeightsLike(Tensor stacked, IReadOnlyList<double> weights)
    {
        var shape = new long[stacked.dim()];
        Array.Fill(shape, 1L);
        shape[0] = weights.Count;
        return tensor(weights.Select(w => (float)w).ToArray(), stacked.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, stacked.device)
            .reshape(shape);
    }
}
