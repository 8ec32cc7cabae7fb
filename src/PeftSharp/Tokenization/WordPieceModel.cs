using System.Text;
using Microsoft.ML.Tokenizers;

namespace PeftSharp.Tokenization;

/// <summary>
/// WordPiece (BERT): greedy longest-match-first sub-words, continuation pieces prefixed with "##", a word with no
/// full cover becomes the unknown token. The matching is Microsoft.ML.Tokenizers' <see cref="WordPieceTokenizer"/>.
/// </summary>
sealed class WordPieceModel : TokenModel
{
    readonly WordPieceTokenizer _tokenizer;
    readonly Dictionary<string, int> _vocabulary;

    /// <param name="tokens">Token of each id, in id order (vocab.txt's lines).</param>
    /// <param name="unknownToken">Token for words with no full cover.</param>
    /// <param name="prefix">Prefix of continuation pieces ("##").</param>
    /// <param name="maxInputCharsPerWord">Longer words become the unknown token.</param>
    /// <param name="source">File named in errors.</param>
    /// <param name="field">Field of <paramref name="source"/> holding the vocabulary, when it is a JSON file.</param>
    public WordPieceModel(IReadOnlyList<string?> tokens, string unknownToken, string prefix, int maxInputCharsPerWord, string source, string? field)
    {
        _vocabulary = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        var lines = new StringBuilder();
        for (int id = 0; id < tokens.Count; id++)
        {
            string? token = tokens[id];
            // Microsoft.ML.Tokenizers reads the vocabulary as lines, one id per line; an empty line keeps an id free.
            if (token is not null && token.AsSpan().IndexOfAny('\r', '\n') >= 0)
                throw TokenizerErrors.At(source, field, $"token {id} contains a line break, which a WordPiece vocabulary cannot hold");
            if (!string.IsNullOrEmpty(token) && !_vocabulary.TryAdd(token, id)) token = null;
            lines.Append(token).Append('\n');
        }
        if (!_vocabulary.TryGetValue(unknownToken, out int unknownId))
            throw TokenizerErrors.At(source, field, $"the unknown token '{unknownToken}' is not in the vocabulary");
        UnknownId = unknownId;

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(lines.ToString()));
        _tokenizer = WordPieceTokenizer.Create(stream, new WordPieceOptions
        {
            UnknownToken = unknownToken,
            ContinuingSubwordPrefix = prefix,
            MaxInputCharsPerWord = maxInputCharsPerWord,
        });
    }

    public override IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public override int? UnknownId { get; }

    public override void Encode(string word, List<int> ids) =>
        ids.AddRange(_tokenizer.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
}
