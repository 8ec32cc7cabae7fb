using PeftSharp.Models;
using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Prompts;

/// <summary>
/// Arranges one batch's virtual tokens, each row with its own adapter's (or none), so that every row computes what it
/// would alone. Rows get K = the longest prefix and V = the most virtual tokens; a row with fewer fills the rest with
/// zeros under mask 0, so position ids (counted from the mask) and attention are those of the row alone.
/// <list type="bullet">
/// <item>Key/value prefixes: cache positions [0, K), a row's P_r prefixes at the end: [zeros(K - P_r), prefix].</item>
/// <item>Virtual tokens of decoders (and whenever a cache is kept): [zeros(V - V_r), virtual, tokens], so the caller's
/// tokens end every row, as generation needs. Of encoders: [virtual, tokens, zeros(V - V_r)], so position 0 (the
/// pooled token) is each row's own first token, as alone.</item>
/// </list>
/// </summary>
sealed class PromptLayout
{
    PromptLayout(long virtualWidth, long[] tokenStarts, bool ownsCache)
    {
        VirtualWidth = virtualWidth;
        TokenStarts = tokenStarts;
        OwnsCache = ownsCache;
    }

    /// <summary>Virtual-token positions V added to the inputs (0 when only prefixes were added).</summary>
    public long VirtualWidth { get; }

    /// <summary>Where each row's own tokens start in the prepared inputs.</summary>
    public long[] TokenStarts { get; }

    /// <summary>Whether the cache was made for this pass (and is released after it).</summary>
    public bool OwnsCache { get; }

    /// <summary>
    /// The inputs with each row's virtual tokens: <paramref name="rows"/> holds each row's encoder and prompt (null for
    /// none); prompts are [P, hidden] or [P, layers x 2 x kv_heads x head_dim] in the model's dtype.
    /// </summary>
    public static (ModelInputs Inputs, PromptLayout Layout) Prepare(ModelInputs inputs, TransformerModel model, (VirtualTokenEncoder Encoder, Tensor Prompt)?[] rows)
    {
        var (batch, length) = inputs.Shape();
        var device = model.Device;
        long[] prefix = Lengths(rows, PromptPlacement.KeyValuePrefix), virtuals = Lengths(rows, PromptPlacement.InputEmbeddings);
        long prefixWidth = prefix.Max(), virtualWidth = virtuals.Max();
        bool leftAligned = model.IsCausal || inputs.Cache is not null;
        long[] starts = Enumerable.Range(0, (int)batch).Select(r => leftAligned ? virtualWidth : virtuals[r]).ToArray();

        var mask = inputs.AttentionMask ?? AttentionMasks.AllOnes(batch, length, device);
        var rowMasks = new List<Tensor>();
        for (int r = 0; r < batch; r++)
        {
            var pieces = new List<Tensor> { Mask(prefixWidth - prefix[r], 0, device), Mask(prefix[r], 1, device) };
            var virtualMask = Mask(virtuals[r], 1, device);
            var pad = Mask(virtualWidth - virtuals[r], 0, device);
            pieces.AddRange(leftAligned ? new[] { pad, virtualMask, mask[r].to(ScalarType.Int64) } : new[] { virtualMask, mask[r].to(ScalarType.Int64), pad });
            rowMasks.Add(cat(pieces, 0));
        }
        var prepared = inputs with { AttentionMask = stack(rowMasks, 0) };

        if (virtualWidth > 0)
        {
            var embeds = inputs.InputsEmbeds ?? model.InputEmbeddings.call(inputs.InputIds!);              // [B, T, H]
            var rowEmbeds = new List<Tensor>();
            for (int r = 0; r < batch; r++)
            {
                var own = virtuals[r] > 0 ? rows[r]!.Value.Prompt.to(embeds.dtype) : embeds.new_zeros(0, embeds.shape[2]);
                var pad = embeds.new_zeros(virtualWidth - virtuals[r], embeds.shape[2]);
                rowEmbeds.Add(cat(leftAligned ? new[] { pad, own, embeds[r] } : new[] { own, embeds[r], pad }, 0));
            }
            prepared = prepared with
            {
                InputIds = null,
                InputsEmbeds = stack(rowEmbeds, 0),
                TokenTypeIds = inputs.TokenTypeIds is { } types ? Place(types, starts, virtualWidth) : null,
            };
        }
        if (inputs.PositionIds is { } positions)
        {
            // A row's tokens move up by P_r + V_r; its virtual token j takes the position its first real token had, + P_r + j.
            var shifted = positions + tensor(prefix.Zip(virtuals, (p, v) => p + v).ToArray(), device: device).unsqueeze(1);
            var placed = virtualWidth > 0 ? Place(shifted, starts, virtualWidth) : shifted;
            var origin = positions.gather(1, mask.to(ScalarType.Int64).argmax(1, keepdim: true)).squeeze(1);     // [B]
            for (int r = 0; r < batch && virtualWidth > 0; r++)
                if (virtuals[r] > 0)
                    placed[r].narrow(0, starts[r] - virtuals[r], virtuals[r]).copy_(arange(virtuals[r], device: device) + origin[r] + prefix[r]);
            prepared = prepared with { PositionIds = placed };
        }

        bool ownsCache = false;
        if (prefixWidth > 0)
        {
            var cache = inputs.Cache;
            if (cache is null)
            {
                cache = new KvCache(model.LayerCount);
                ownsCache = true;
            }
            FillPrefixes(cache, rows, prefix, prefixWidth);
            prepared = prepared with { Cache = cache };
        }
        // Generation goes on from this cache with ones prepended for the positions the model put first; keep the mask of
        // those positions (prefixes and virtual tokens, all ahead of the tokens here) so later steps can correct it.
        if (inputs.Cache is { } kept && !ownsCache)
        {
            var leading = prepared.AttentionMask!.narrow(1, 0, prefixWidth + virtualWidth);
            kept.PrefixMask = leading.eq(0).any().item<bool>() ? leading : null;
        }
        return (prepared, new PromptLayout(virtualWidth, starts, ownsCache));
    }

    /// <summary>
    /// Later steps over a cache the first step filled: the caller gave ones for every position the model put first;
    /// rows with fewer of them get their zeros back.
    /// </summary>
    public static ModelInputs Continue(ModelInputs inputs, KvCache cache)
    {
        if (cache.PrefixMask is not { } leading) return inputs;
        var (batch, length) = inputs.Shape();
        var mask = inputs.AttentionMask ?? AttentionMasks.AllOnes(batch, cache.Length + length, leading.device);
        long width = leading.shape[1];
        if (mask.shape[1] < width || mask.shape[0] != leading.shape[0]) return inputs;
        var corrected = cat(new[] { mask.narrow(1, 0, width) * leading, mask.narrow(1, width, mask.shape[1] - width) }, 1);
        return inputs with { AttentionMask = corrected };
    }

    /// <summary>Per-position outputs [B, V + T, ...] of the prepared inputs -> [B, T, ...] at the caller's tokens.</summary>
    public Tensor Tokens(Tensor perPosition, long length)
    {
        if (TokenStarts.All(s => s == TokenStarts[0])) return perPosition.narrow(1, TokenStarts[0], length);
        return stack(TokenStarts.Select((start, r) => perPosition[r].narrow(0, start, length)), 0);
    }

    static long[] Lengths((VirtualTokenEncoder Encoder, Tensor Prompt)?[] rows, PromptPlacement placement) =>
        rows.Select(r => r is { } row && row.Encoder.Placement == placement ? row.Prompt.shape[0] : 0L).ToArray();

    static Tensor Mask(long count, int value, Device device) => full(new[] { count }, value, ScalarType.Int64, device: device);

    /// <summary>Per-token values [B, T] placed at each row's token positions in [B, V + T], zeros elsewhere.</summary>
    static Tensor Place(Tensor values, long[] starts, long virtualWidth)
    {
        long length = values.shape[1];
        var placed = values.new_zeros(values.shape[0], length + virtualWidth);
        for (int r = 0; r < starts.Length; r++) placed[r].narrow(0, starts[r], length).copy_(values[r]);
        return placed;
    }

    /// <summary>Every layer's keys and values [B, kv_heads, K, head_dim]: each row's prefix at the end, zeros before.</summary>
    static void FillPrefixes(KvCache cache, (VirtualTokenEncoder Encoder, Tensor Prompt)?[] rows, long[] prefix, long width)
    {
        var byPrompt = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        Tensor? zero = null;
        var perRow = new Tensor[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            if (prefix[r] > 0)
            {
                var (encoder, prompt) = rows[r]!.Value;
                if (!byPrompt.TryGetValue(prompt, out var keyValues))
                {
                    keyValues = ((PrefixEncoder)encoder).KeyValues(prompt);                          // [L x 2, H, P, D]
                    if (prefix[r] < width)
                    {
                        var shape = keyValues.shape.ToArray();
                        shape[2] = width - prefix[r];
                        keyValues = cat(new[] { keyValues.new_zeros(shape), keyValues }, 2);
                    }
                    byPrompt[prompt] = keyValues;
                }
                perRow[r] = keyValues;
            }
        }
        var template = perRow.First(t => t is not null);
        for (int r = 0; r < rows.Length; r++) perRow[r] ??= zero ??= template.new_zeros(template.shape);
        var all = perRow.All(t => ReferenceEquals(t, perRow[0]))
            ? perRow[0].unsqueeze(0).expand(rows.Length, -1, -1, -1, -1)
            : stack(perRow, 0);                                                                          // [B, L x 2, H, K, D]
        for (int layer = 0; layer < cache.LayerCount; layer++)
            cache.Set(layer, all.select(1, 2 * layer), all.select(1, 2 * layer + 1));
    }
}
