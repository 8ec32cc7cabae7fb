using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// A new LoRA adapter made from weighted existing ones, as Hugging Face PEFT's add_weighted_adapter. With weights w_i and
/// scalings s_i, per layer:
/// "cat": A = [w_1 s_1 A_1; w_2 s_2 A_2; ...], B = [B_1 B_2 ...], so B A = sum w_i s_i B_i A_i exactly (rank = sum of ranks);
/// "linear", "ties", "dare_linear", "dare_ties", "magnitude_prune": the A's and the B's are merged separately by
/// <see cref="TaskMerging"/> with weights sign(w_i s_i) sqrt|w_i s_i| (A) and sqrt|w_i s_i| (B), which needs equal ranks and
/// is exact only for one adapter (B A gains cross terms B_i A_j);
/// "svd" and "*_svd": the deltas s_i B_i A_i are merged with weights w_i, and the result's best rank-k approximation
/// U_k S_k V_k^T gives B = U_k S_k, A = V_k^T (optionally clamped).
/// The new adapter has alpha = r, so its scaling is 1, and is an ordinary LoRA adapter: saveable, loadable, mergeable.
/// </summary>
/// <remarks>
/// Differences from PEFT, each where PEFT's result is not the documented one: the "*svd" deltas are scaled once (PEFT
/// weights deltas that already include s_i by w_i s_i again); the new adapter never uses rsLoRA (older PEFT kept the
/// first adapter's use_rslora, which made its scaling sqrt(r) instead of 1); trained modules_to_save copies are carried
/// over from the one adapter that has them (PEFT starts them from the base module again); an existing name is an error
/// (PEFT returns silently).
/// </remarks>
public static class LoraCombination
{
    /// <summary>
    /// Adds adapter <paramref name="newName"/> (inactive) combining <paramref name="adapters"/> with <paramref name="weights"/>;
    /// returns its config. One adapter is always combined "linear", as PEFT does.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Unknown combination or adapter, weights that do not pair with the adapters, adapters that are not plain LoRA (DoRA,
    /// IA3, trained biases, PiSSA/OLoRA on a rewritten base), unequal ranks for the linear family, layers that only some
    /// of the adapters adapt, or several adapters with a trained copy of the same module.
    /// </exception>
    public static LoraConfig Add(PeftModel peft, IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string newName, LoraCombinationOptions? options = null)
    {
        options ??= new LoraCombinationOptions();
        options.Validate();
        var configs = Sources(peft, adapters, weights, newName);
        string combination = adapters.Count == 1 ? "linear" : options.Combination;
        int rank = NewRank(adapters, configs, combination, options.SvdRank);
        var layers = Layers(peft, adapters);
        CheckModulesToSave(peft, adapters);
        var generator = options.Seed is long seed ? new Generator((ulong)seed) : null;

        var combined = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        try
        {
            using (no_grad())
                foreach (var (path, layer) in layers)
                {
                    using var scope = NewDisposeScope();
                    var factors = adapters.Select(a => LayerFactors.Of(layer, a)).ToList();
                    var (a, b) = Combine(combination, factors, weights, rank, options, generator, path);
                    var (keyA, keyB) = LayerFactors.Keys(layer);
                    combined[path] = new Dictionary<string, Tensor>(StringComparer.Ordinal)
                    {
                        [keyA] = a.DetachFromDisposeScope(), [keyB] = b.DetachFromDisposeScope(),
                    };
                }
            peft.AddAdapter(newName, NewConfig(configs, rank, layers.Select(l => l.Path).ToList()));
            try
            {
                Fill(peft, adapters, newName, layers, combined);
            }
            catch
            {
                peft.DeleteAdapter(newName);
                throw;
            }
        }
        finally
        {
            foreach (var tensor in combined.Values.SelectMany(d => d.Values)) tensor.Dispose();
            generator?.Dispose();
        }
        return (LoraConfig)peft.Adapters[newName];
    }

    /// <summary>The adapters' configs, after checking names, weights and that each is a plain LoRA adapter.</summary>
    static List<LoraConfig> Sources(PeftModel peft, IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string newName)
    {
        if (adapters.Count == 0) throw new ArgumentException("name at least one adapter to combine", nameof(adapters));
        if (weights.Count != adapters.Count)
            throw new ArgumentException($"{weights.Count} weight(s) for {adapters.Count} adapter(s); give one weight per adapter", nameof(weights));
        if (weights.Any(w => !double.IsFinite(w))) throw new ArgumentException("weights must be finite numbers", nameof(weights));
        if (peft.Adapters.ContainsKey(newName)) throw new ArgumentException($"an adapter named '{newName}' already exists", nameof(newName));
        var configs = new List<LoraConfig>();
        foreach (string name in adapters)
        {
            if (!peft.Adapters.TryGetValue(name, out var config))
                throw new ArgumentException($"no adapter named '{name}' (adapters: {string.Join(", ", peft.Adapters.Keys)})", nameof(adapters));
            if (config is not LoraConfig lora)
                throw new ArgumentException($"adapter '{name}' is {config.PeftType}; only LoRA adapters can be combined", nameof(adapters));
            if (lora.UseDora) throw new ArgumentException($"adapter '{name}' is DoRA; its magnitude vector has no weighted combination", nameof(adapters));
            if (lora.Bias != "none" || lora.LoraBias)
                throw new ArgumentException($"adapter '{name}' trains biases (bias '{lora.Bias}', lora_bias {lora.LoraBias}), which a combination cannot carry", nameof(adapters));
            if (LoraInit.ChangesBaseWeight(lora.InitLoraWeights))
                throw new ArgumentException(
                    $"adapter '{name}' ({lora.InitLoraWeights}) rewrote the base weights; save it (it is saved as plain LoRA) and load it onto the original base to combine it",
                    nameof(adapters));
            configs.Add(lora);
        }
        return configs;
    }

    /// <summary>Largest rank an adapter uses anywhere (r or a rank_pattern value).</summary>
    static int MaxRank(LoraConfig config) => config.RankPattern.Count == 0 ? config.R : Math.Max(config.R, config.RankPattern.Values.Max());

    /// <summary>PEFT's new rank: the common rank (linear family), the sum (cat), or the SVD rank (default: the largest).</summary>
    static int NewRank(IReadOnlyList<string> adapters, List<LoraConfig> configs, string combination, int? svdRank)
    {
        var ranks = configs.Select(MaxRank).ToList();
        if (combination == "cat") return ranks.Sum();
        if (LoraCombinationOptions.IsSvd(combination)) return svdRank ?? ranks.Max();
        if (ranks.Distinct().Count() > 1)
            throw new ArgumentException(
                $"combination '{combination}' needs adapters of one rank, got {string.Join(", ", adapters.Select((a, i) => $"{a}: r={ranks[i]}"))}; use 'cat' or 'svd'",
                nameof(adapters));
        return ranks[0];
    }

    /// <summary>Every LoRA layer holding the adapters; each must hold all of them.</summary>
    static List<(string Path, AdapterLayer Layer)> Layers(PeftModel peft, IReadOnlyList<string> adapters)
    {
        var layers = new List<(string, AdapterLayer)>();
        foreach (var (path, module) in peft.AdapterModules())
        {
            if (module is not (LoraLayer or LoraEmbedding)) continue;
            var held = adapters.Where(module.AdapterNames.Contains).Distinct().ToList();
            if (held.Count == 0) continue;
            var missing = adapters.Distinct().Except(held).ToList();
            if (missing.Count > 0)
                throw new ArgumentException(
                    $"layer '{path}' carries {string.Join(", ", held)} but not {string.Join(", ", missing)}; the adapters to combine must adapt the same layers",
                    nameof(adapters));
            layers.Add((path, (AdapterLayer)module));
        }
        if (layers.Count == 0) throw new ArgumentException($"no LoRA layer carries {string.Join(", ", adapters)}", nameof(adapters));
        return layers;
    }

    /// <summary>PEFT's rule: a module that several of the adapters train a copy of (modules_to_save) cannot be combined.</summary>
    static void CheckModulesToSave(PeftModel peft, IReadOnlyList<string> adapters)
    {
        foreach (var (path, module) in peft.AdapterModules())
        {
            if (module is not ParameterOverrideLayer) continue;
            var held = adapters.Distinct().Where(module.AdapterNames.Contains).ToList();
            if (held.Count > 1)
                throw new ArgumentException(
                    $"adapters {string.Join(", ", held)} all train their own copy of '{path}' (modules_to_save), which cannot be combined", nameof(adapters));
        }
    }

    /// <summary>New A [rank, in] and B [out, rank] of one layer (zero-padded to the adapter's rank).</summary>
    static (Tensor A, Tensor B) Combine(string combination, IReadOnlyList<LayerFactors> factors, IReadOnlyList<double> weights, int rank,
        LoraCombinationOptions options, Generator? generator, string path)
    {
        Tensor a, b;
        if (combination == "cat")
        {
            a = cat(factors.Select((f, i) => f.A * (weights[i] * f.Scaling)).ToList(), 0);
            b = cat(factors.Select(f => f.B).ToList(), 1);
        }
        else if (LoraCombinationOptions.IsSvd(combination))
        {
            var deltas = factors.Select(f => f.B.matmul(f.A) * f.Scaling).ToList();                 // [out, in] each
            var delta = TaskMerging.Merge(LoraCombinationOptions.SvdBase(combination), deltas, weights, options.Density, options.MajoritySignMethod, generator);
            (b, a) = Decompose(delta, rank, options.SvdClamp);
        }
        else
        {
            var ranks = factors.Select(f => f.A.shape[0]).Distinct().ToList();
            if (ranks.Count > 1)
                throw new ArgumentException($"combination '{combination}' needs one rank per layer, but '{path}' has ranks {string.Join(", ", ranks)}; use 'cat' or 'svd'");
            var scaled = weights.Select((w, i) => w * factors[i].Scaling).ToList();
            // The sign goes on A only; on both it would cancel.
            var weightsA = scaled.Select(x => (x >= 0 ? 1 : -1) * Math.Sqrt(Math.Abs(x))).ToList();
            var weightsB = scaled.Select(x => Math.Sqrt(Math.Abs(x))).ToList();
            a = TaskMerging.Merge(combination, factors.Select(f => f.A).ToList(), weightsA, options.Density, options.MajoritySignMethod, generator);
            b = TaskMerging.Merge(combination, factors.Select(f => f.B).ToList(), weightsB, options.Density, options.MajoritySignMethod, generator);
        }
        return (Pad(a, rank, 0), Pad(b, rank, 1));
    }

    /// <summary>Best rank-<paramref name="rank"/> factors of <paramref name="delta"/> [out, in]: B = U_k S_k, A = V_k^T.</summary>
    static (Tensor B, Tensor A) Decompose(Tensor delta, int rank, double? clamp)
    {
        var (u, s, vh) = linalg.svd(delta, fullMatrices: false);
        long k = Math.Min(rank, s.shape[0]);
        var b = u.narrow(1, 0, k) * s.narrow(0, 0, k).unsqueeze(0);
        var a = vh.narrow(0, 0, k);
        if (clamp is double q)
        {
            var high = Quantile(cat(new[] { b.flatten(), a.flatten() }, 0), q);
            b = b.clamp(-high, high);
            a = a.clamp(-high, high);
        }
        return (b, a);
    }

    /// <summary>torch.quantile with linear interpolation.</summary>
    static double Quantile(Tensor values, double q)
    {
        var sorted = values.sort().Values.to(ScalarType.Float64);
        double position = q * (sorted.shape[0] - 1);
        long low = (long)Math.Floor(position), high = (long)Math.Ceiling(position);
        double lowValue = sorted[low].item<double>(), highValue = sorted[high].item<double>();
        return lowValue + (position - low) * (highValue - lowValue);
    }

    /// <summary>Zero rows (dim 0) or columns (dim 1) up to <paramref name="rank"/>, which adds nothing to B A.</summary>
    static Tensor Pad(Tensor factor, int rank, int dim)
    {
        long missing = rank - factor.shape[dim];
        if (missing == 0) return factor;
        var shape = factor.shape.ToArray();
        shape[dim] = missing;
        return cat(new[] { factor, zeros(shape, factor.dtype, factor.device) }, dim);
    }

    /// <summary>
    /// The first adapter's config with rank r, alpha r (scaling 1), no patterns, plain init, the modules_to_save of all,
    /// and targets that select exactly <paramref name="paths"/>.
    /// </summary>
    static LoraConfig NewConfig(List<LoraConfig> configs, int rank, IReadOnlyList<string> paths)
    {
        var modulesToSave = configs.SelectMany(c => c.ModulesToSave ?? Array.Empty<string>()).Distinct().ToList();
        return configs[0] with
        {
            R = rank,
            LoraAlpha = rank,
            UseRsLora = false,
            RankPattern = new Dictionary<string, int>(),
            AlphaPattern = new Dictionary<string, double>(),
            InitLoraWeights = "true",
            Targets = CombinedTargets(configs, paths),
            ModulesToSave = modulesToSave.Count > 0 ? modulesToSave : null,
            InferenceMode = false,
            IgnoredFields = Array.Empty<string>(),
        };
    }

    /// <summary>
    /// As PEFT: the shared targets, or the union of name lists, or the alternation of regexes; with exclusions or layer
    /// selections that differ, the layer paths themselves.
    /// </summary>
    static TargetPatterns CombinedTargets(List<LoraConfig> configs, IReadOnlyList<string> paths)
    {
        var targets = configs.Select(c => c.Targets!).ToList();
        static string Describe(TargetPatterns t) => string.Join("\u0001", t.Regex, string.Join(",", t.Names ?? Array.Empty<string>()), t.ExcludeRegex,
            string.Join(",", t.ExcludeNames ?? Array.Empty<string>()), string.Join(",", t.LayersToTransform ?? Array.Empty<int>()), string.Join(",", t.LayersPattern ?? Array.Empty<string>()));
        if (targets.Select(Describe).Distinct().Count() == 1) return targets[0];
        bool plain = targets.All(t => t.ExcludeNames is null && t.ExcludeRegex is null && t.LayersToTransform is null && !t.IsAllLinear);
        if (plain && targets.All(t => t.Names is not null))
            return new TargetPatterns { Names = targets.SelectMany(t => t.Names!).Distinct().ToList() };
        if (plain && targets.All(t => t.Regex is not null))
            return new TargetPatterns { Regex = string.Join("|", targets.Select(t => $"({t.Regex})")) };
        return new TargetPatterns { Names = paths.ToList() };
    }

    /// <summary>Puts the combined factors into the new adapter's layers and the trained module copies into its own.</summary>
    static void Fill(PeftModel peft, IReadOnlyList<string> adapters, string newName, List<(string Path, AdapterLayer Layer)> layers,
        Dictionary<string, Dictionary<string, Tensor>> combined)
    {
        var attached = peft.AdapterModules().Where(m => m.Module is LoraLayer or LoraEmbedding && m.Module.AdapterNames.Contains(newName)).Select(m => m.Path).ToHashSet();
        if (!attached.SetEquals(combined.Keys))
            throw new InvalidOperationException(
                $"the combined adapter's targets selected other layers than the adapters': extra [{string.Join(", ", attached.Except(combined.Keys))}], missing [{string.Join(", ", combined.Keys.Except(attached))}]");
        foreach (var (path, layer) in layers) layer.LoadAdapterState(newName, combined[path]);
        foreach (var (_, module) in peft.AdapterModules())
        {
            if (module is not ParameterOverrideLayer copy || !copy.AdapterNames.Contains(newName)) continue;
            if (adapters.FirstOrDefault(copy.AdapterNames.Contains) is { } source)
                copy.LoadAdapterState(newName, copy.AdapterState(source).ToDictionary(s => s.Key, s => s.Value));
        }
    }

    /// <summary>One adapter's factors in one layer: A [r, in], B [out, r] (embeddings: A [r, vocab], B [dim, r]) and its scaling.</summary>
    sealed record LayerFactors(Tensor A, Tensor B, double Scaling)
    {
        public static LayerFactors Of(AdapterLayer layer, string adapter)
        {
            var state = layer.AdapterState(adapter).ToDictionary(s => s.Key, s => s.Value);
            var (keyA, keyB) = Keys(layer);
            double scaling = layer switch
            {
                LoraLayer lora => lora.Settings(adapter).Scaling,
                LoraEmbedding embedding => embedding.Scaling(adapter),
                _ => throw new ArgumentException($"{layer.GetType().Name} is not a LoRA layer"),
            };
            return new LayerFactors(state[keyA].detach().to(ScalarType.Float32), state[keyB].detach().to(ScalarType.Float32), scaling);
        }

        /// <summary>The state keys of A and B in a LoRA layer.</summary>
        public static (string A, string B) Keys(AdapterLayer layer) =>
            layer is LoraEmbedding ? ("lora_embedding_A", "lora_embedding_B") : ("lora_A.weight", "lora_B.weight");
    }
}
