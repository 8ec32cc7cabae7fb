using PeftSharp.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>
/// A NICE additive coupling block (Dinh et al. 2015), the invertible adapter of MAD-X (Pfeiffer et al. 2020). The
/// embedding e [B, T, H] splits into e1 = e[..., :H/2] and e2 = e[..., H/2:]; forward: o1 = e1 + F(e2),
/// o2 = e2 + G(o1); inverse: e2 = o2 - G(o1), e1 = o1 - F(e2), exact up to float rounding whatever F and G are. F and G
/// are Linear -> non-linearity -> Linear networks (AdapterHub's subnets, keys F.0/F.2 and G.0/G.2). With
/// init "identity" their last layers start at zero, so the block starts as the identity; "bert" draws every weight
/// from N(0, 0.02). Float32 whatever the base dtype.
/// </summary>
public sealed class NiceCouplingBlock : nn.Module<Tensor, Tensor>
{
    readonly CouplingSubnet F, G;
    readonly long _split;

    /// <summary>A block for hidden size <paramref name="hidden"/> with the settings of <paramref name="config"/>.</summary>
    public NiceCouplingBlock(long hidden, BottleneckConfig config) : base(nameof(NiceCouplingBlock))
    {
        _split = hidden / 2;
        int width = config.CouplingSize(hidden);
        var activation = Activations.Get(config.EffectiveNonLinearity);
        F = new CouplingSubnet(hidden - _split, width, _split, activation, config.InitWeights);
        G = new CouplingSubnet(_split, width, hidden - _split, activation, config.InitWeights);
        register_module("F", F);
        register_module("G", G);
    }

    /// <summary>Children are registered explicitly under AdapterHub's names; no field reflection.</summary>
    protected override void RegisterComponents() { }

    /// <summary>e [B, T, H] -> o [B, T, H] (in e's dtype).</summary>
    public override Tensor forward(Tensor e)
    {
        using var scope = NewDisposeScope();
        var (e1, e2) = Halves(e);
        var o1 = e1 + F.call(e2);
        var o2 = e2 + G.call(o1);
        return cat(new[] { o1, o2 }, -1).to(e.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>o [B, T, H] -> e [B, T, H], the exact inverse of <see cref="forward"/>.</summary>
    public Tensor Inverse(Tensor o)
    {
        using var scope = NewDisposeScope();
        var (o1, o2) = Halves(o);
        var e2 = o2 - G.call(o1);
        var e1 = o1 - F.call(e2);
        return cat(new[] { e1, e2 }, -1).to(o.dtype).MoveToOuterDisposeScope();
    }

    (Tensor First, Tensor Second) Halves(Tensor x)
    {
        var x32 = x.to(ScalarType.Float32);
        long hidden = x32.shape[^1];
        return (x32.narrow(-1, 0, _split), x32.narrow(-1, _split, hidden - _split));
    }

    /// <summary>Linear(in, width) -> non-linearity -> Linear(width, out), registered as "0" and "2" (AdapterHub's nn.Sequential).</summary>
    sealed class CouplingSubnet : nn.Module<Tensor, Tensor>
    {
        readonly Linear _first, _last;
        readonly Func<Tensor, Tensor> _activation;

        public CouplingSubnet(long inFeatures, long width, long outFeatures, Func<Tensor, Tensor> activation, string init) : base(nameof(CouplingSubnet))
        {
            _first = nn.Linear(inFeatures, width);
            _last = nn.Linear(width, outFeatures);
            _activation = activation;
            using (no_grad())
            {
                if (init == "bert")
                {
                    _first.weight!.normal_(0, 0.02);
                    _last.weight!.normal_(0, 0.02);
                }
                else
                {
                    _last.weight!.zero_();
                }
                _first.bias!.zero_();
                _last.bias!.zero_();
            }
            register_module("0", _first);
            register_module("2", _last);
        }

        protected override void RegisterComponents() { }

        public override Tensor forward(Tensor x) => _last.call(_activation(_first.call(x)));
    }
}
