namespace PeftSharp.Tokenization;

/// <summary>
/// Hugging Face's post-processing as a template: where the special tokens go around one sequence or a pair, and the
/// token type id of every part. BERT: "[CLS] A [SEP]" and "[CLS] A [SEP] B:1 [SEP]:1"; Llama: "&lt;s&gt; A";
/// GPT-2: nothing.
/// </summary>
/// <remarks>
/// Hand-written: the Microsoft.ML.Tokenizers tokenizers each hard-code their own special tokens (BertTokenizer's
/// [CLS]/[SEP], SentencePieceTokenizer's BOS/EOS flags) and do not read TemplateProcessing.
/// </remarks>
sealed class TemplateProcessor
{
    /// <summary>One part of a template: the first or second sequence, or fixed special ids.</summary>
    /// <param name="Sequence">0 for A, 1 for B, -1 for special tokens.</param>
    /// <param name="Ids">The special ids (empty for a sequence).</param>
    /// <param name="TypeId">Token type id of every token of the part.</param>
    public readonly record struct Part(int Sequence, int[] Ids, int TypeId)
    {
        public static Part A(int typeId = 0) => new(0, [], typeId);
        public static Part B(int typeId) => new(1, [], typeId);
        public static Part Special(int id, int typeId) => new(-1, [id], typeId);
    }

    public TemplateProcessor(IReadOnlyList<Part> single, IReadOnlyList<Part> pair)
    {
        Single = single;
        Pair = pair;
    }

    public IReadOnlyList<Part> Single { get; }
    public IReadOnlyList<Part> Pair { get; }

    /// <summary>No post-processing: sequences are concatenated, all with type id 0 (GPT-2).</summary>
    public static readonly TemplateProcessor None = new([Part.A()], [Part.A(), Part.B(0)]);

    /// <summary>[CLS] A [SEP] (B [SEP]), the second part with type id 1.</summary>
    public static TemplateProcessor Bert(int cls, int sep) => new(
        [Part.Special(cls, 0), Part.A(), Part.Special(sep, 0)],
        [Part.Special(cls, 0), Part.A(), Part.Special(sep, 0), Part.B(1), Part.Special(sep, 1)]);

    /// <summary>&lt;s&gt; A &lt;/s&gt; (&lt;/s&gt; B &lt;/s&gt;), all type id 0.</summary>
    public static TemplateProcessor Roberta(int cls, int sep) => new(
        [Part.Special(cls, 0), Part.A(), Part.Special(sep, 0)],
        [Part.Special(cls, 0), Part.A(), Part.Special(sep, 0), Part.Special(sep, 0), Part.B(0), Part.Special(sep, 0)]);

    /// <summary>Llama's add_bos_token / add_eos_token: [BOS] A [EOS] ([BOS] B [EOS]), the second part with type id 1.</summary>
    public static TemplateProcessor BosEos(int? bos, int? eos)
    {
        List<Part> Around(Part sequence, int typeId)
        {
            var parts = new List<Part>();
            if (bos is int b) parts.Add(Part.Special(b, typeId));
            parts.Add(sequence);
            if (eos is int e) parts.Add(Part.Special(e, typeId));
            return parts;
        }
        return new TemplateProcessor(Around(Part.A(), 0), [.. Around(Part.A(), 0), .. Around(Part.B(1), 1)]);
    }

    /// <summary>Number of special tokens the template adds.</summary>
    public int AddedTokens(bool pair) => (pair ? Pair : Single).Where(p => p.Sequence < 0).Sum(p => p.Ids.Length);

    /// <summary>Every special id the template uses.</summary>
    public IEnumerable<int> SpecialIds => Single.Concat(Pair).SelectMany(p => p.Ids);

    /// <summary>Lays out <paramref name="a"/> (and <paramref name="b"/>) per the template.</summary>
    /// <param name="a">Ids of the first sequence.</param>
    /// <param name="b">Ids of the second sequence, or null.</param>
    /// <param name="addSpecialTokens">false: only the sequences, still with the template's type ids (as Hugging Face does).</param>
    public (List<int> Ids, List<int> TypeIds) Apply(IReadOnlyList<int> a, IReadOnlyList<int>? b, bool addSpecialTokens)
    {
        var ids = new List<int>(a.Count + (b?.Count ?? 0) + 4);
        var typeIds = new List<int>(ids.Capacity);
        foreach (var part in b is null ? Single : Pair)
        {
            IReadOnlyList<int> source = part.Sequence switch { 0 => a, 1 => b!, _ => addSpecialTokens ? part.Ids : [] };
            ids.AddRange(source);
            typeIds.AddRange(Enumerable.Repeat(part.TypeId, source.Count));
        }
        return (ids, typeIds);
    }

    /// <summary>Reads tokenizer.json's "post_processor" (null when there is none or it adds no tokens).</summary>
    public static TemplateProcessor? FromJson(JsonField? node)
    {
        if (node is not { } n) return null;
        string type = n.String("type");
        switch (type)
        {
            case "ByteLevel":
                return null; // only trims offsets
            case "BertProcessing":
                return Bert(ReadPairId(n.Require("cls")), ReadPairId(n.Require("sep")));
            case "RobertaProcessing":
                return Roberta(ReadPairId(n.Require("cls")), ReadPairId(n.Require("sep")));
            case "TemplateProcessing":
                var specials = n.Require("special_tokens");
                return new TemplateProcessor(ReadTemplate(n.Require("single"), specials), ReadTemplate(n.Require("pair"), specials));
            case "Sequence":
                var templates = n.Require("processors").Items().Select(item => FromJson(item)).OfType<TemplateProcessor>().ToList();
                return templates.Count <= 1 ? templates.SingleOrDefault()
                    : throw n.Require("processors").Error("more than one processor adds special tokens; only one is supported");
            default:
                throw n.Require("type").Error($"post-processor type '{type}' is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
        }
    }

    // BertProcessing and RobertaProcessing write special tokens as ["[CLS]", 101].
    static int ReadPairId(JsonField node)
    {
        var items = node.Items().ToList();
        return items.Count == 2 ? items[1].AsInt() : throw node.Error("must be [token, id]");
    }

    static List<Part> ReadTemplate(JsonField template, JsonField specials)
    {
        var parts = new List<Part>();
        foreach (var item in template.Items())
        {
            if (item.Get("Sequence") is { } sequence)
            {
                string which = sequence.String("id");
                int typeId = sequence.Int("type_id", 0);
                parts.Add(which switch
                {
                    "A" => Part.A(typeId),
                    "B" => Part.B(typeId),
                    _ => throw sequence.Require("id").Error($"must be \"A\" or \"B\", found \"{which}\""),
                });
            }
            else if (item.Get("SpecialToken") is { } special)
            {
                string name = special.String("id");
                var entry = specials.Get(name) ?? throw special.Require("id").Error($"special token '{name}' is not listed in post_processor.special_tokens");
                parts.Add(new Part(-1, entry.Require("ids").Items().Select(id => id.AsInt()).ToArray(), special.Int("type_id", 0)));
            }
            else
            {
                throw item.Error("must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        return parts;
    }
}
