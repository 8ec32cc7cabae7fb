using System.Diagnostics;
using System.Text.RegularExpressions;
using PeftSharp.Tuners.Common;
using static TorchSharp.torch;

namespace PeftSharp.Bench.Workloads;

/// <summary>
/// Exclusive wall time per module group during forward passes. <see cref="Instrument"/> puts a timing wrapper in
/// place of every parameterised Tensor -> Tensor leaf (linear layers, norms, embeddings) by module path, as methods
/// replace layers; CPU kernels run synchronously, so a Stopwatch around the call is the module's time. Groups strip the
/// block index ("model.layers.3.self_attn.q_proj" -> "self_attn.q_proj"), so a group sums over all blocks.
/// </summary>
public sealed class ModuleTimer
{
    readonly Stack<(long Start, long Children)> _open = new();
    readonly Dictionary<string, long> _ticks = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    readonly Dictionary<string, long> _linearWeights = new(StringComparer.Ordinal);

    /// <summary>Groups made of nn.Linear layers, with their weights summed over the blocks (for FLOP counts).</summary>
    public IReadOnlyDictionary<string, long> LinearWeights => _linearWeights;

    /// <summary>Seconds per group since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, double> Seconds => _ticks.ToDictionary(t => t.Key, t => t.Value / (double)Stopwatch.Frequency);

    public IReadOnlyDictionary<string, int> Calls => _calls;

    public void Reset()
    {
        _ticks.Clear();
        _calls.Clear();
    }

    void Enter() => _open.Push((Stopwatch.GetTimestamp(), 0));

    void Exit(string group)
    {
        var (start, children) = _open.Pop();
        long elapsed = Stopwatch.GetTimestamp() - start;
        _ticks[group] = _ticks.GetValueOrDefault(group) + elapsed - children;
        _calls[group] = _calls.GetValueOrDefault(group) + 1;
        if (_open.Count > 0)
        {
            var (parentStart, parentChildren) = _open.Pop();
            _open.Push((parentStart, parentChildren + elapsed));
        }
    }

    /// <summary>Wraps every parameterised Tensor -> Tensor leaf of <paramref name="model"/>; returns how many.</summary>
    public int Instrument(nn.Module model)
    {
        var leaves = model.named_modules()
            .Where(m => m.name.Length > 0 && m.module is nn.Module<Tensor, Tensor> && !m.module.named_children().Any() && m.module.parameters().Any())
            .ToList();
        int count = 0;
        foreach (var (path, module) in leaves)
        {
            try
            {
                string group = GroupOf(path);
                ModuleTree.Replace(model, path, new Timed(group, (nn.Module<Tensor, Tensor>)module, this));
                if (module is TorchSharp.Modules.Linear linear)
                    _linearWeights[group] = _linearWeights.GetValueOrDefault(group) + linear.weight!.numel();
                count++;
            }
            catch (InvalidOperationException)
            {
                // A field typed as the concrete class cannot hold the wrapper; that module stays untimed (in "the rest").
            }
        }
        return count;
    }

    /// <summary>"model.layers.3.self_attn.q_proj" -> "self_attn.q_proj"; paths outside blocks stay whole.</summary>
    public static string GroupOf(string path) => Regex.Replace(path, @"^.*?\.(layers|layer|h)\.\d+\.", "");

    sealed class Timed : nn.Module<Tensor, Tensor>
    {
        readonly nn.Module<Tensor, Tensor> _inner;
        readonly ModuleTimer _timer;
        readonly string _group;

        public Timed(string group, nn.Module<Tensor, Tensor> inner, ModuleTimer timer) : base("Timed")
        {
            (_group, _inner, _timer) = (group, inner, timer);
            register_module("inner", inner);
        }

        protected override void RegisterComponents() { }

        public override Tensor forward(Tensor input)
        {
            _timer.Enter();
            try { return _inner.call(input); }
            finally { _timer.Exit(_group); }
        }
    }
}
