namespace PeftSharp.Tokenization;

/// <summary>The tokenization algorithm of a <see cref="PretrainedTokenizer"/>.</summary>
public enum TokenizerKind
{
    /// <summary>WordPiece with "##" continuations (BERT, DistilBERT).</summary>
    WordPiece,

    /// <summary>Byte-level BPE over UTF-8 bytes (GPT-2, RoBERTa, Llama-3, Qwen2).</summary>
    ByteLevelBpe,

    /// <summary>Character BPE with "▁" for spaces and byte fallback (Llama-2, Mistral; tokenizer.model or tokenizer.json).</summary>
    SentencePieceBpe,

    /// <summary>SentencePiece Unigram (T5, ALBERT; tokenizer.model or tokenizer.json).</summary>
    Unigram,
}
