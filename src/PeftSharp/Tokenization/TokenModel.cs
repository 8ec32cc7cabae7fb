namespace PeftSharp.Tokenization;

/// <summary>
/// The model step of the pipeline (tokenizer.json "model"): turns one pre-tokenized word into ids. Each
/// implementation wraps a Microsoft.ML.Tokenizers tokenizer built from the parsed vocabulary.
/// </summary>
abstract class TokenModel
{
    /// <summary>The model's own vocabulary, token to id (added tokens are kept apart).</summary>
    public abstract IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>Id of the unknown token, when the model has one.</summary>
    public abstract int? UnknownId { get; }

    /// <summary>Encodes one word, appending its ids.</summary>
    public abstract void Encode(string word, List<int> ids);
}
