using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Cli;

public class DataCommandTests
{
    [Fact]
    public void ListDescribesEveryCatalogDataset()
    {
        var json = CliRunner.Json("data", "list", "--json");
        var names = json["datasets"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(DatasetCatalog.List().Select(e => e.Name), names);
        Assert.All(json["datasets"]!.AsArray(), d => Assert.False(string.IsNullOrEmpty(d!["license"]!.GetValue<string>())));
    }

    [Fact]
    public void PreparingAnUnknownDatasetNamesTheKnownOnes()
    {
        var result = CliRunner.Run("data", "prepare", "imdb");
        CliRunner.AssertBadInput(result, "no dataset named 'imdb'", "brown-genre", "sotu-party");
    }
}
