using PeftSharp.Data;

namespace PeftSharp.Tests.Data;

public class LabelSetTests
{
    [Fact]
    public void GatheredLabelsSortNumericallyWhenAllAreIntegers()
    {
        Assert.Equal(["0", "2", "10"], LabelSet.Gather(["10", "2", "0", "2"]).Names);
        Assert.Equal(["-1", "1"], LabelSet.Gather(["1", "-1"]).Names);
        Assert.Equal(["10", "2", "B", "a"], LabelSet.Gather(["a", "B", "2", "10"]).Names); // ordinal otherwise
    }

    [Fact]
    public void GivenLabelsKeepTheirOrder()
    {
        var labels = LabelSet.Of(["neg", "neu", "pos"]);
        Assert.Equal(2, labels.TryGetId("pos"));
        Assert.Null(labels.TryGetId("POS"));
        Assert.Throws<ArgumentException>(() => LabelSet.Of(["a", "a"]));
        Assert.Throws<ArgumentException>(() => LabelSet.Of([]));
        Assert.Equal(new Dictionary<string, int> { ["neg"] = 2, ["neu"] = 0, ["pos"] = 1 }, labels.Tally(["neg", "pos", "neg", "other"]));
    }

    [Fact]
    public void UnknownLabelsNameWhereTheyWereRead()
    {
        var labels = LabelSet.Of(["a", "b"]);
        var error = Assert.Throws<DataFormatException>(() => labels.IdOf("c", new SourceLocation("dev.csv", 9), "label"));
        Assert.Equal("dev.csv:9: field 'label': unknown label 'c' (known: a, b)", error.Message);
    }
}
