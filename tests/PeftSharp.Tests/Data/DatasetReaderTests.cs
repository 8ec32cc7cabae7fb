using PeftSharp.Data;

namespace PeftSharp.Tests.Data;

public class DatasetReaderTests : IDisposable
{
    readonly TempDirectory _dir = Fixtures.TempDir();

    public void Dispose() => _dir.Dispose();

    string Write(string name, string content)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    static DataFormatException Fails(Action read) => Assert.Throws<DataFormatException>(read);

    [Fact]
    public void ReadsJsonlWithStringAndIntegerLabelsAndOptionalPairs()
    {
        string path = Write("train.jsonl", """
            {"text": "good film", "label": "pos"}

            {"text": "bad film", "label": 0, "extra": [1, 2]}
            """);
        var examples = DatasetReader.ReadTextClassification(path);
        Assert.Equal(2, examples.Count);
        Assert.Equal(new TextClassificationExample("good film", null, "pos", new SourceLocation(path, 1)), examples[0]);
        Assert.Equal("0", examples[1].Label);
        Assert.Equal(3, examples[1].Source.Line);

        string pairs = Write("pairs.jsonl", """{"premise": "a", "hypothesis": "b", "gold": "entailment"}""");
        var columns = new ColumnMapping { Text = "premise", TextPair = "hypothesis", Label = "gold" };
        var pair = DatasetReader.ReadTextClassification(pairs, new DataReadOptions { Columns = columns }).Single();
        Assert.Equal(("a", "b", "entailment"), (pair.Text, pair.TextPair, pair.Label));
    }

    [Fact]
    public void ReadsCsvWithQuotingAndMapsColumns()
    {
        string path = Write("train.csv", "id,sentence,label\n1,\"hello, \"\"world\"\"\",1\n2,\"two\nlines\",0\n");
        var options = new DataReadOptions { Columns = new ColumnMapping { Text = "sentence" } };
        var examples = DatasetReader.ReadTextClassification(path, options);
        Assert.Equal("hello, \"world\"", examples[0].Text);
        Assert.Equal("two\nlines", examples[1].Text);
        Assert.Equal([2, 3], examples.Select(e => e.Source.Line));
    }

    [Fact]
    public void ReadsGlueTsvWhereQuotesAreText()
    {
        // SST-2's train.tsv: a header, tab-separated, unbalanced quotes that belong to the sentence.
        string path = Write("train.tsv", "sentence\tlabel\nhide new secretions from the parental units \t0\nit 's a \" fun \t1\n");
        var examples = DatasetReader.ReadTextClassification(path, new DataReadOptions { Columns = new ColumnMapping { Text = "sentence" } });
        Assert.Equal("it 's a \" fun ", examples[1].Text);
        Assert.Equal(["0", "1"], examples.Select(e => e.Label));

        string headerless = Write("mrpc.tsv", "1\tfirst\tsecond\n0\tthird\tfourth\n");
        var columns = new ColumnMapping { Label = "0", Text = "1", TextPair = "2" };
        var pairs = DatasetReader.ReadTextClassification(headerless, new DataReadOptions { HasHeader = false, Columns = columns });
        Assert.Equal(("third", "fourth", "0"), (pairs[1].Text, pairs[1].TextPair, pairs[1].Label));
    }

    [Fact]
    public void ReadsTokenClassificationFromJsonlAndConll()
    {
        string jsonl = Write("ner.jsonl", """{"tokens": ["EU", "rejects"], "labels": ["B-ORG", "O"]}""");
        var fromJson = DatasetReader.ReadTokenClassification(jsonl).Single();
        Assert.Equal(["EU", "rejects"], fromJson.Tokens);
        Assert.Equal(["B-ORG", "O"], fromJson.Labels);

        string conll = Write("ner.conll", "-DOCSTART- -X- O O\n\nEU\tB-ORG\nrejects\tO\n\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n");
        var sentences = DatasetReader.ReadTokenClassification(conll);
        Assert.Equal(2, sentences.Count);
        Assert.Equal(["Peter", "Blackburn"], sentences[1].Tokens);
        Assert.Equal(["B-PER", "I-PER"], sentences[1].Labels);
        Assert.Equal(7, sentences[1].Source.Line);
    }

    [Fact]
    public void ReadsLanguageModelingTextOrPromptCompletion()
    {
        var plain = DatasetReader.ReadLanguageModeling(Write("corpus.txt", "first line\n\n  \nsecond line\n"));
        Assert.Equal(["first line", "second line"], plain.Select(e => e.Text));
        Assert.Equal(4, plain[1].Source.Line);

        var prompted = DatasetReader.ReadLanguageModeling(Write("sft.jsonl", """{"prompt": "Q: 2+2?", "completion": " 4"}"""));
        Assert.Equal(("Q: 2+2?", " 4"), (prompted[0].Prompt, prompted[0].Text));
        var csv = DatasetReader.ReadLanguageModeling(Write("lm.csv", "text\nhello there\n"));
        Assert.Null(csv.Single().Prompt);
    }

    [Fact]
    public void MissingColumnNamesFileLineAndColumn()
    {
        string path = Write("bad.jsonl", "{\"text\": \"ok\", \"label\": 1}\n{\"text\": \"no label\"}\n");
        var error = Fails(() => DatasetReader.ReadTextClassification(path));
        Assert.Equal((path, 2, "label"), (error.File, error.Line, error.Field));
        Assert.Contains("missing column", error.Message);

        string csv = Write("bad.csv", "sentence,label\nhi,1\n");
        Assert.Equal("text", Fails(() => DatasetReader.ReadTextClassification(csv)).Field);
        string pair = Write("pair.jsonl", "{\"text\": \"a\", \"text_pair\": \"b\", \"label\": 1}\n{\"text\": \"a\", \"label\": 1}\n");
        Assert.Equal(("text_pair", 2), (Fails(() => DatasetReader.ReadTextClassification(pair)).Field, Fails(() => DatasetReader.ReadTextClassification(pair)).Line));
    }

    [Fact]
    public void MalformedJsonLineIsReportedWithItsLine()
    {
        string path = Write("bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \n");
        var error = Fails(() => DatasetReader.ReadTextClassification(path));
        Assert.Equal(2, error.Line);
        Assert.Contains("malformed JSON", error.Message);
        Assert.Equal(1, Fails(() => DatasetReader.ReadTextClassification(Write("array.jsonl", "[1, 2]\n"))).Line);
        var wrongType = Fails(() => DatasetReader.ReadTextClassification(Write("type.jsonl", "{\"text\": 5, \"label\": 1}\n")));
        Assert.Equal("text", wrongType.Field);
        Assert.Contains("must be a string", wrongType.Message);
    }

    [Fact]
    public void WrongColumnCountIsReportedWithItsLine()
    {
        string path = Write("bad.csv", "text,label\na,1\nb,2,extra\n");
        var error = Fails(() => DatasetReader.ReadTextClassification(path));
        Assert.Equal(3, error.Line);
        Assert.Contains("3 columns where the header has 2", error.Message);
        var tsv = Fails(() => DatasetReader.ReadTextClassification(Write("bad.tsv", "text\tlabel\na\t1\n\nb\n")));
        Assert.Equal(4, tsv.Line);
        var quote = Fails(() => DatasetReader.ReadTextClassification(Write("quote.csv", "text,label\nsay \"hi\" now,1\n")));
        Assert.Equal(2, quote.Line);
    }

    [Fact]
    public void EmptyTextsLabelsAndFilesAreRefused()
    {
        var text = Fails(() => DatasetReader.ReadTextClassification(Write("e.jsonl", "{\"text\": \"  \", \"label\": 1}\n")));
        Assert.Equal(("text", 1), (text.Field, text.Line));
        Assert.Contains("empty", text.Message);
        Assert.Equal("label", Fails(() => DatasetReader.ReadTextClassification(Write("l.csv", "text,label\nhi,\n"))).Field);
        var empty = Fails(() => DatasetReader.ReadTextClassification(Write("empty.jsonl", "\n\n")));
        Assert.Null(empty.Line);
        Assert.Contains("no examples", empty.Message);
        Assert.Contains("no examples", Fails(() => DatasetReader.ReadTextClassification(Write("header.csv", "text,label\n"))).Message);
        Assert.Contains("not found", Fails(() => DatasetReader.ReadTextClassification(_dir.File("missing.jsonl"))).Message);
    }

    [Fact]
    public void TokenClassificationProblemsNameTheirLine()
    {
        var lengths = Fails(() => DatasetReader.ReadTokenClassification(Write("t.jsonl", "{\"tokens\": [\"a\", \"b\"], \"labels\": [\"O\"]}\n")));
        Assert.Equal(("labels", 1), (lengths.Field, lengths.Line));
        var token = Fails(() => DatasetReader.ReadTokenClassification(Write("t2.jsonl", "{\"tokens\": [\"a\", \"\"], \"labels\": [\"O\", \"O\"]}\n")));
        Assert.Equal("tokens[1]", token.Field);
        var conll = Fails(() => DatasetReader.ReadTokenClassification(Write("t.conll", "EU\tB-ORG\nrejects\n")));
        Assert.Equal(2, conll.Line);
        Assert.Contains("token<TAB>tag", conll.Message);
        Assert.Contains("Jsonl, Conll", Fails(() => DatasetReader.ReadTokenClassification(Write("t.csv", "tokens,labels\na,O\n"))).Message);
    }

    [Fact]
    public void UnknownExtensionsNeedAnExplicitFormat()
    {
        string path = Write("data.dat", "{\"text\": \"a\", \"label\": 1}\n");
        Assert.Contains("cannot tell the format", Fails(() => DatasetReader.ReadTextClassification(path)).Message);
        Assert.Single(DatasetReader.ReadTextClassification(path, new DataReadOptions { Format = DataFileFormat.Jsonl }));
    }

    [Fact]
    public void DatasetFilesHoldOutAValidationSplitWhenThereIsNone()
    {
        string train = Write("train.jsonl", string.Concat(Enumerable.Range(0, 50).Select(i => $"{{\"text\": \"t{i}\", \"label\": {i % 2}}}\n")));
        var splits = new DatasetFiles(train) { ValidationFraction = 0.2, SplitSeed = 3 }.LoadTextClassification();
        Assert.Equal((40, 10), (splits.Train.Count, splits.Validation.Count));
        Assert.Null(splits.Test);
        string validation = Write("dev.jsonl", "{\"text\": \"v\", \"label\": 1}\n");
        var given = new DatasetFiles(train) { Validation = validation, Test = validation }.LoadTextClassification();
        Assert.Equal((50, 1, 1), (given.Train.Count, given.Validation.Count, given.Test!.Count));
    }
}
