using System.Text;
using Microsoft.ML.Tokenizers;

namespace PeftSharp.Tokenization;

/// <summary>
/// Byte-pair encoding with ranked merges, in two flavours: byte-level (GPT-2, Llama-3, Qwen2: words are
/// UTF-8 bytes written in <see cref="ByteLevelAlphabet"/>) and character-level with byte fallback (Llama-2 and
/// Mistral's tokenizer.json: a character outside the vocabulary becomes its "&lt;0xXX&gt;" byte tokens).
/// The merging itself is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>.
/// </summary>
/// <remarks>
/// Hand-written around it: <c>byte_fallback</c> and <c>ignore_merges</c>, which <see cref="BpeOptions"/> lacks.
/// Byte fallback is exact when done outside: a character missing from the vocabulary can take part in no merge,
/// so the known runs on either side of it are encoded independently.
/// </remarks>
sealed class BpeModel : TokenModel
{
    readonly BpeTokenizer _tokenizer;
    readonly Dictionary<string, int> _vocabulary;
    readonly bool _byteLevel, _byteFallback, _fuseUnknown, _ignoreMerges;
    readonly int?[] _byteIds = new int?[256];

    /// <param name="vocabulary">Token to id.</param>
    /// <param name="merges">Merge pairs in rank order.</param>
    /// <param name="byteLevel">Words are UTF-8 bytes in GPT-2's alphabet.</param>
    /// <param name="unknownToken">Token for characters outside the vocabulary (after byte fallback), or null.</param>
    /// <param name="fuseUnknown">Consecutive unknown characters give one unknown token.</param>
    /// <param name="byteFallback">Characters outside the vocabulary become "&lt;0xXX&gt;" tokens.</param>
    /// <param name="ignoreMerges">A word that is itself in the vocabulary is one token.</param>
    /// <param name="source">File named in errors.</param>
    /// <param name="vocabularyField">Field of <paramref name="source"/> holding the vocabulary.</param>
    /// <param name="describeMerge">Location of merge i for error messages ("line 7", "field 'model.merges[6]'").</param>
    public BpeModel(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges,
        bool byteLevel, string? unknownToken, bool fuseUnknown, bool byteFallback, bool ignoreMerges,
        string source, string vocabularyField, Func<int, string> describeMerge)
    {
        _vocabulary = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        (_byteLevel, _byteFallback, _fuseUnknown, _ignoreMerges) = (byteLevel, byteFallback, fuseUnknown, ignoreMerges);
        if (_vocabulary.Count == 0) throw TokenizerErrors.At(source, vocabularyField, "the vocabulary is empty");

        var seenIds = new Dictionary<int, string>();
        foreach (var (token, id) in _vocabulary)
        {
            if (id < 0) throw TokenizerErrors.At(source, vocabularyField, $"token '{token}' has a negative id {id}");
            if (!seenIds.TryAdd(id, token)) throw TokenizerErrors.At(source, vocabularyField, $"tokens '{seenIds[id]}' and '{token}' share the id {id}");
        }
        if (unknownToken is not null)
            UnknownId = _vocabulary.TryGetValue(unknownToken, out int unk) ? unk
                : throw TokenizerErrors.At(source, vocabularyField, $"the unknown token '{unknownToken}' is not in the vocabulary");
        for (int b = 0; b < 256; b++)
            if (_vocabulary.TryGetValue($"<0x{b:X2}>", out int byteId)) _byteIds[b] = byteId;

        _tokenizer = BpeTokenizer.Create(new BpeOptions(_vocabulary)
        {
            Merges = CheckMerges(merges, source, describeMerge),
            ByteLevel = byteLevel,
        });
    }

    public override IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public override int? UnknownId { get; }

    /// <summary>The merges as Microsoft.ML.Tokenizers takes them ("left right"), each checked against the vocabulary.</summary>
    List<string> CheckMerges(IReadOnlyList<(string Left, string Right)> merges, string source, Func<int, string> describeMerge)
    {
        // Hugging Face keeps the last rank of a pair listed twice; Microsoft.ML.Tokenizers refuses duplicates.
        var lastIndex = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) lastIndex[merges[i]] = i;

        var result = new List<string>(merges.Count);
        for (int i = 0; i < merges.Count; i++)
        {
            var (left, right) = merges[i];
            TokenizerException Bad(string message) => new($"{source}: {describeMerge(i)}: {message}");
            if (left.Length == 0 || right.Length == 0) throw Bad("a merge needs two non-empty tokens");
            if (left.Contains(' ') || right.Contains(' ')) throw Bad($"merge ('{left}', '{right}') holds a space, which this BPE implementation cannot take");
            if (!_vocabulary.ContainsKey(left)) throw Bad($"merge references '{left}', which is not in the vocabulary");
            if (!_vocabulary.ContainsKey(right)) throw Bad($"merge references '{right}', which is not in the vocabulary");
            if (!_vocabulary.ContainsKey(left + right)) throw Bad($"merge result '{left + right}' is not in the vocabulary");
            if (lastIndex[merges[i]] == i) result.Add($"{left} {right}");
        }
        return result;
    }

    public override void Encode(string word, List<int> ids)
    {
        if (_ignoreMerges && _vocabulary.TryGetValue(_byteLevel ? ByteLevelAlphabet.Encode(word) : word, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (_byteLevel)
        {
            ids.AddRange(_tokenizer.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
            return;
        }

        int runStart = 0, index = 0;
        bool lastWasUnknown = false;
        foreach (var rune in word.EnumerateRunes())
        {
            int length = rune.Utf16SequenceLength;
            if (!_vocabulary.ContainsKey(word.Substring(index, length)))
            {
                EncodeRun(word[runStart..index], ids, ref lastWasUnknown);
                EncodeUnknown(rune, ids, ref lastWasUnknown);
                runStart = index + length;
            }
            index += length;
        }
        EncodeRun(word[runStart..], ids, ref lastWasUnknown);
    }

    void EncodeRun(string run, List<int> ids, ref bool lastWasUnknown)
    {
        if (run.Length == 0) return;
        ids.AddRange(_tokenizer.EncodeToIds(run, considerPreTokenization: false, considerNormalization: false));
        lastWasUnknown = false;
    }

    void EncodeUnknown(Rune rune, List<int> ids, ref bool lastWasUnknown)
    {
        if (_byteFallback)
        {
            Span<byte> bytes = stackalloc byte[4];
            int count = rune.EncodeToUtf8(bytes);
            bool all = true;
            for (int i = 0; i < count; i++) all &= _byteIds[bytes[i]] is not null;
            if (all)
            {
                for (int i = 0; i < count; i++) ids.Add(_byteIds[bytes[i]]!.Value);
                lastWasUnknown = false;
                return;
            }
        }
        if (UnknownId is not int unk)
            throw new TokenizerException($"cannot encode U+{rune.Value:X4}: it is not in the vocabulary and the model has no unknown token");
        if (!(_fuseUnknown && lastWasUnknown)) ids.Add(unk);
        lastWasUnknown = true;
    }
}
