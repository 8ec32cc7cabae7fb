using PeftSharp.Data;
using PeftSharp.Models;
using PeftSharp.Tasks;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tasks;

public class TokenClassificationTaskTests
{
    static readonly LabelSet Tags = LabelSet.Of(["DET", "NOUN", "VERB", "ADP"]);

    static TokenClassificationExample Sentence(string words, string tags, int line = 1) =>
        new(words.Split(' '), tags.Split(' '), new SourceLocation("tags.conll", line));

    static readonly TokenClassificationExample[] Sentences =
    [
        Sentence("the cats sat on the mat", "DET NOUN VERB ADP DET NOUN"),
        Sentence("dogs sat together", "NOUN VERB ADP"),
        Sentence("a dog saw the log", "DET NOUN VERB DET NOUN"),
    ];

    [Fact]
    public void TagsGoOnTheFirstSubTokenOfEachWord()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = new TokenClassificationTask(tokenizer, Tags);
        var sentence = Sentences[1];
        var encoded = task.Encode([sentence]).Single();

        var expectedIds = new List<int> { tokenizer.ClsTokenId!.Value };
        var expectedLabels = new List<int> { -100 };
        for (int w = 0; w < sentence.Tokens.Count; w++)
        {
            var pieces = tokenizer.Encode(sentence.Tokens[w], addSpecialTokens: false).Ids;
            expectedIds.AddRange(pieces);
            expectedLabels.Add(Tags.TryGetId(sentence.Labels[w])!.Value);
            expectedLabels.AddRange(Enumerable.Repeat(-100, pieces.Count - 1));
        }
        expectedIds.Add(tokenizer.SepTokenId!.Value);
        expectedLabels.Add(-100);

        Assert.True(expectedIds.Count > sentence.Tokens.Count + 2, "the fixture must split some word into several pieces");
        Assert.Equal(expectedIds, encoded.Ids);
        Assert.Equal(expectedLabels, encoded.TokenLabels);
    }

    [Fact]
    public void ByteLevelWordsGetALeadingSpace()
    {
        var tokenizer = TaskFixtures.ByteLevel();
        var task = new TokenClassificationTask(tokenizer, Tags);
        var encoded = task.Encode([Sentence("the cat", "DET NOUN")]).Single();
        var expected = tokenizer.Encode(" the", addSpecialTokens: false).Ids.Concat(tokenizer.Encode(" cat", addSpecialTokens: false).Ids);
        Assert.Equal(expected, encoded.Ids);
        Assert.Equal(0, encoded.TokenLabels![0]);
    }

    [Fact]
    public void LongSentencesAreCutButKeepTheirSpecialTokens()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = new TokenClassificationTask(tokenizer, Tags, new BatchingOptions { MaxLength = 5 });
        var encoded = task.Encode([Sentences[0]]).Single();
        Assert.Equal(5, encoded.Length);
        Assert.Equal(tokenizer.SepTokenId, encoded.Ids[^1]);
        Assert.Equal(-100, encoded.TokenLabels![^1]);
    }

    [Fact]
    public void UnknownTagsAndMismatchedListsNameTheirLine()
    {
        var task = new TokenClassificationTask(TaskFixtures.WordPiece(), Tags);
        var unknown = Assert.Throws<DataFormatException>(() => task.Evaluator([Sentence("the cat", "DET ADJ", line: 12)]));
        Assert.Equal(12, unknown.Line);
        Assert.Equal("labels[1]", unknown.Field);
        var mismatch = new TokenClassificationExample(["the", "cat"], ["DET"], new SourceLocation("tags.conll", 4));
        Assert.Equal(4, Assert.Throws<DataFormatException>(() => task.Batches([mismatch])).Line);
    }

    [Fact]
    public void LossCountsOnlyLabelledSubTokensAndTheEvaluatorScoresWords()
    {
        var tokenizer = TaskFixtures.WordPiece();
        var task = new TokenClassificationTask(tokenizer, Tags, new BatchingOptions { BatchSize = 3 });
        using var model = TaskFixtures.Model("bert", ModelTask.TokenClassification, tokenizer, labels: Tags.Count);
        model.eval();
        using var batch = task.Batches(Sentences).Epoch(0, 1).Single();
        var outputs = model.call(batch.Inputs);
        var labels = batch.Labels.reshape(-1);
        var keep = labels.ne(-100).nonzero().squeeze(1);
        var logProbs = nn.functional.log_softmax(outputs.Logits!.reshape(-1, Tags.Count), 1).index_select(0, keep);
        var expected = -logProbs.gather(1, labels.index_select(0, keep).unsqueeze(1)).mean();
        Assert.Equal(expected.item<float>(), task.Loss(outputs, batch).item<float>(), 5);
        Assert.Equal(14, keep.shape[0]); // one label per word

        var evaluator = task.Evaluator(Sentences);
        var metrics = evaluator.Evaluate(model);
        Assert.Equal("token_accuracy", evaluator.PrimaryMetric);
        Assert.InRange(metrics["token_accuracy"], 0, 1);
        Assert.True(metrics.ContainsKey("macro_f1"));
    }
}
