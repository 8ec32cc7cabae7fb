using PeftSharp.Tokenization;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Tokenization;

/// <summary>Padding, truncation, attention masks and token type ids of <see cref="PretrainedTokenizer.EncodeBatch"/>.</summary>
public class BatchEncodingTests
{
    static readonly Lazy<PretrainedTokenizer> Bert = new(() => PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "bert-base-lora-seq-cls")));
    static readonly Lazy<PretrainedTokenizer> Gpt2 = new(() => PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "gpt2-lora-causal-lm")));

    static long[,] Values(Tensor t)
    {
        var result = new long[t.shape[0], t.shape[1]];
        var data = t.data<long>().ToArray();
        for (int i = 0; i < data.Length; i++) result[i / t.shape[1], i % t.shape[1]] = data[i];
        return result;
    }

    [Fact]
    public void PadsRightWithMasksAndSegments()
    {
        using var batch = Bert.Value.EncodeBatch(["hello world", "hello"], ["world", "hello world"]);
        Assert.Equal(ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal(new long[] { 2, 6 }, batch.InputIds.shape);
        Assert.Equal(new long[,] { { 101, 7592, 2088, 102, 2088, 102 }, { 101, 7592, 102, 7592, 2088, 102 } }, Values(batch.InputIds));
        Assert.Equal(new long[,] { { 0, 0, 0, 0, 1, 1 }, { 0, 0, 0, 1, 1, 1 } }, Values(batch.TokenTypeIds));
        Assert.Equal(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1, 1 } }, Values(batch.AttentionMask));

        using var uneven = Bert.Value.EncodeBatch(["hello world", "hello"]);
        Assert.Equal(new long[,] { { 101, 7592, 2088, 102 }, { 101, 7592, 102, 0 } }, Values(uneven.InputIds));
        Assert.Equal(new long[,] { { 1, 1, 1, 1 }, { 1, 1, 1, 0 } }, Values(uneven.AttentionMask));
        Assert.Equal([101, 7592, 102, 0], uneven.Rows[1].Ids);
    }

    [Fact]
    public void PadsLeftForGeneration()
    {
        using var batch = Gpt2.Value.EncodeBatch(["Hello world", " world"], paddingSide: PaddingSide.Left);
        Assert.Equal(new long[,] { { 15496, 995 }, { 50256, 995 } }, Values(batch.InputIds));
        Assert.Equal(new long[,] { { 1, 1 }, { 0, 1 } }, Values(batch.AttentionMask));

        var tokenizer = PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "gpt2-lora-causal-lm"));
        tokenizer.PaddingSide = PaddingSide.Left;
        using var byDefault = tokenizer.EncodeBatch(["Hello world", " world"]);
        Assert.Equal(Values(batch.InputIds), Values(byDefault.InputIds));
    }

    [Fact]
    public void PadsToMaxLength()
    {
        using var batch = Bert.Value.EncodeBatch(["hello"], padding: PaddingStrategy.MaxLength, maxLength: 6);
        Assert.Equal(new long[,] { { 101, 7592, 102, 0, 0, 0 } }, Values(batch.InputIds));
        Assert.Equal(new long[,] { { 1, 1, 1, 0, 0, 0 } }, Values(batch.AttentionMask));
        Assert.Throws<ArgumentException>(() => Bert.Value.EncodeBatch(["hello world again and again"], padding: PaddingStrategy.MaxLength, maxLength: 4));
    }

    [Fact]
    public void TruncatesLongestFirst()
    {
        // Single: keep 6 tokens = [CLS] + 4 words + [SEP].
        using var single = Bert.Value.EncodeBatch(["one two three four five six seven"], truncation: true, maxLength: 6);
        Assert.Equal(6, single.SequenceLength);
        Assert.Equal(102, single.Rows[0].Ids[^1]);
        Assert.Equal(Bert.Value.Encode("one two three four").Ids, single.Rows[0].Ids);

        // Pair with a budget of 8 - 3 = 5: the short side (2 words) stays, the long side keeps 3.
        var pair = Bert.Value.Encode("one two", "three four five six seven", maxLength: 8);
        Assert.Equal(Bert.Value.Encode("one two", "three four five").Ids, pair.Ids);
        // Both long: each gets half the budget, the second the odd token.
        var both = Bert.Value.Encode("a b c d e f", "g h i j k l", maxLength: 8);
        Assert.Equal(Bert.Value.Encode("a b", "g h i").Ids, both.Ids);

        var left = PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "bert-base-lora-seq-cls"));
        left.TruncationSide = TruncationSide.Left;
        Assert.Equal(Bert.Value.Encode("six seven").Ids, left.Encode("one two three four five six seven", maxLength: 4).Ids);
        // Truncation with no explicit length uses model_max_length (512 for BERT).
        using var capped = Bert.Value.EncodeBatch([string.Join(' ', Enumerable.Repeat("word", 600))], truncation: true);
        Assert.Equal(512, capped.SequenceLength);
    }

    [Fact]
    public void RefusesWhatTensorsCannotHold()
    {
        Assert.Throws<ArgumentException>(() => Bert.Value.EncodeBatch(["hello world", "hello"], padding: PaddingStrategy.None));
        Assert.Throws<ArgumentException>(() => Bert.Value.EncodeBatch(["a", "b"], ["c"]));
        var noPad = PretrainedTokenizer.FromDirectory(Fixtures.Shared("adapters", "gpt2-lora-causal-lm"));
        noPad.PadToken = null;
        Assert.Throws<InvalidOperationException>(() => noPad.EncodeBatch(["Hello world", " world"]));
        using var equal = noPad.EncodeBatch(["Hello world", "Hello world"]);
        Assert.Equal(new long[] { 2, 2 }, equal.InputIds.shape);
        Assert.Throws<ArgumentException>(() => noPad.PadToken = "<not a token>");
    }

    [Fact]
    public void DecodesTensorRows()
    {
        using var batch = Gpt2.Value.EncodeBatch(["Hello world", " world"], paddingSide: PaddingSide.Left);
        Assert.Equal(["Hello world", " world"], Gpt2.Value.DecodeBatch(batch.InputIds, skipSpecialTokens: true));
    }
}
