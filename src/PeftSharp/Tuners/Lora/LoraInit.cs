using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Lora;

/// <summary>
/// Starting values of A [r, in] and B [out, r], as Hugging Face PEFT's init_lora_weights:
/// "true": A Kaiming-uniform (a = sqrt 5), B zero, so the layer starts as the base;
/// "false": A and B both Kaiming-uniform (a non-identity start, for tests);
/// "gaussian": A normal(0, 1/r), B zero;
/// "pissa" (Meng et al. 2024): A, B from the top-r singular triplets of W, and W becomes the residual W - s B A;
/// "pissa_niter_N": the same with a randomised SVD of N power iterations;
/// "olora" (Büyükakyüz 2024): A, B from the QR decomposition of W, and W becomes W - s B A.
/// </summary>
public static class LoraInit
{
    static readonly Regex PissaIterations = new(@"^pissa_niter_(\d+)$");

    public static bool IsKnown(string init) => init is "true" or "false" or "gaussian" or "pissa" or "olora" || PissaIterations.IsMatch(init);

    /// <summary>Whether the init rewrites the base weight (PiSSA and OLoRA do).</summary>
    public static bool ChangesBaseWeight(string init) => init is "pissa" or "olora" || PissaIterations.IsMatch(init);

    /// <summary>
    /// Fills A and B. For PiSSA/OLoRA, <paramref name="weightOutIn"/> [out, in] is the base weight and the returned
    /// tensor is the residual to store in its place; otherwise null.
    /// </summary>
    public static Tensor? Apply(string init, Tensor a, Tensor b, double scaling, Tensor? weightOutIn, Generator? generator = null)
    {
        using var _ = no_grad();
        long rank = a.shape[0];
        switch (init)
        {
            case "true":
                KaimingUniform(a, generator);
                b.zero_();
                return null;
            case "false":
                KaimingUniform(a, generator);
                KaimingUniform(b, generator);
                return null;
            case "gaussian":
                a.normal_(0, 1.0 / rank, generator);
                b.zero_();
                return null;
            case "olora":
                return OLora(a, b, scaling, Required(weightOutIn, init));
            default:
                int? iterations = PissaIterations.Match(init) is { Success: true } m ? int.Parse(m.Groups[1].Value) : null;
                if (init != "pissa" && iterations is null) throw new ArgumentException($"unknown init_lora_weights '{init}'", nameof(init));
                return Pissa(a, b, scaling, Required(weightOutIn, init), iterations, generator);
        }
    }

    /// <summary>torch.nn.init.kaiming_uniform_(w, a=sqrt(5)), nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
    public static void KaimingUniform(Tensor weight, Generator? generator = null)
    {
        double a = Math.Sqrt(5);
        double gain = Math.Sqrt(2.0 / (1 + a * a));
        double bound = Math.Sqrt(3.0) * gain / Math.Sqrt(weight.shape[1]);
        using var _ = no_grad();
        weight.uniform_(-bound, bound, generator);
    }

    static Tensor Required(Tensor? weight, string init) =>
        weight ?? throw new ArgumentException($"init_lora_weights '{init}' needs the base weight");

    /// <summary>W = U S V^T; B = U_r sqrt(S_r / s), A = sqrt(S_r / s) V_r^T; residual W - s B A.</summary>
    static Tensor Pissa(Tensor a, Tensor b, double scaling, Tensor weight, int? iterations, Generator? generator)
    {
        using var scope = NewDisposeScope();
        long rank = a.shape[0];
        var w = weight.to(ScalarType.Float32);
        var (u, s, vh) = iterations is int n ? RandomizedSvd(w, rank, n, generator) : linalg.svd(w, fullMatrices: false);
        var ur = u.narrow(1, 0, rank);                                   // [out, r]
        var sr = s.narrow(0, 0, rank) / scaling;                         // [r]
        var vhr = vh.narrow(0, 0, rank);                                 // [r, in]
        var root = sr.sqrt();
        a.copy_((root.unsqueeze(1) * vhr).to(a.dtype));
        b.copy_((ur * root.unsqueeze(0)).to(b.dtype));
        return (w - scaling * b.to(ScalarType.Float32).matmul(a.to(ScalarType.Float32))).to(weight.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>W = Q R; B = Q_r, A = R_r; residual W - s B A.</summary>
    static Tensor OLora(Tensor a, Tensor b, double scaling, Tensor weight)
    {
        using var scope = NewDisposeScope();
        long rank = a.shape[0];
        var w = weight.to(ScalarType.Float32);
        var (q, r) = linalg.qr(w);                                       // q [out, k], r [k, in]
        b.copy_(q.narrow(1, 0, rank).to(b.dtype));
        a.copy_(r.narrow(0, 0, rank).to(a.dtype));
        return (w - scaling * b.to(ScalarType.Float32).matmul(a.to(ScalarType.Float32))).to(weight.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Randomised SVD (Halko et al. 2011) of the top <paramref name="rank"/> triplets with power iterations.</summary>
    static (Tensor U, Tensor S, Tensor Vh) RandomizedSvd(Tensor w, long rank, int iterations, Generator? generator)
    {
        long sketch = Math.Min(Math.Min(w.shape[0], w.shape[1]), rank + 10);
        var omega = randn(new[] { w.shape[1], sketch }, generator: generator);
        var (q, _) = linalg.qr(w.matmul(omega));
        for (int i = 0; i < iterations; i++)
        {
            (q, _) = linalg.qr(w.t().matmul(q));
            (q, _) = linalg.qr(w.matmul(q));
        }
        var (ub, s, vh) = linalg.svd(q.t().matmul(w), fullMatrices: false);
        return (q.matmul(ub), s, vh);
    }
}
