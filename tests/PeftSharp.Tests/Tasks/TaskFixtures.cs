using System.Text.Json.Nodes;
using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tokenization;
using PeftSharp.Tokenization.Training;

namespace PeftSharp.Tests.Tasks;

/// <summary>Tiny tokenizers trained here on a fixed corpus, and tiny models whose vocabulary matches them.</summary>
public static class TaskFixtures
{
    public static readonly string[] Corpus =
    [
        "the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the mat is on the log",
        "dogs and cats sat together", "a log is not a mat", "the cat saw the dog", "on the mat sat a cat",
    ];

    static readonly Lazy<string> WordPieceDirectory = new(() => Train("wordpiece",
        new WordPieceTrainer(new WordPieceTrainerOptions { VocabSize = 48, MinFrequency = 1 }).Train(Corpus)));

    static readonly Lazy<string> ByteLevelDirectory = new(() => Train("bytelevel",
        new ByteLevelBpeTrainer(new ByteLevelBpeTrainerOptions { VocabSize = 300, MinFrequency = 1 }).Train(Corpus)));

    static string Train(string name, TrainedTokenizer tokenizer)
    {
        string directory = Path.Combine(Path.GetTempPath(), "peftsharp-tests", $"tiny-{name}-{Guid.NewGuid():N}");
        tokenizer.Save(directory);
        return directory;
    }

    /// <summary>A BERT-style WordPiece tokenizer ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4), a fresh instance each call.</summary>
    public static PretrainedTokenizer WordPiece() => PretrainedTokenizer.FromDirectory(WordPieceDirectory.Value);

    /// <summary>A GPT-2-style byte-level BPE tokenizer (&lt;|endoftext|&gt; 0, &lt;|pad|&gt; 1), a fresh instance each call.</summary>
    public static PretrainedTokenizer ByteLevel() => PretrainedTokenizer.FromDirectory(ByteLevelDirectory.Value);

    /// <summary>A random tiny model of <paramref name="modelType"/> with the tokenizer's vocabulary and <paramref name="labels"/> labels.</summary>
    public static TransformerModel Model(string modelType, ModelTask task, PretrainedTokenizer tokenizer, int labels = 3, long seed = 7)
    {
        var json = JsonNode.Parse(TinyModels.Configs[modelType])!.AsObject();
        json["vocab_size"] = tokenizer.VocabSizeWithAddedTokens;
        var id2label = new JsonObject();
        for (int i = 0; i < labels; i++) id2label[i.ToString()] = $"label{i}";
        json["id2label"] = id2label;
        var config = TinyModels.Family(modelType).ParseConfig(new ConfigReader(json, $"tiny {modelType}"));
        return AutoModel.Create(config, task, seed: seed);
    }
}
