using System.Text;

namespace PeftSharp.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table: every byte becomes a printable character so that byte-level BPE
/// vocabularies can be stored as text (the space byte 0x20 is "Ġ", newline 0x0A is "Ċ").
/// </summary>
/// <remarks>
/// Hand-written: Microsoft.ML.Tokenizers applies this table inside <c>BpeTokenizer</c> but does not expose it,
/// and it is needed here to look whole words up in the vocabulary (<c>ignore_merges</c>) and to decode token
/// strings (including added tokens outside the BPE vocabulary) as Hugging Face's ByteLevel decoder does.
/// </remarks>
static class ByteLevelAlphabet
{
    /// <summary>The character that stands for each byte.</summary>
    public static readonly char[] ByteToChar = BuildTable();

    /// <summary>The byte each table character stands for.</summary>
    public static readonly IReadOnlyDictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] BuildTable()
    {
        // Printable Latin-1 bytes stand for themselves; the other 68 bytes take the characters from U+0100 upwards.
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)(256 + next++);
        }
        return table;
    }

    /// <summary>The text's UTF-8 bytes written in the table's characters.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>
    /// The bytes a token stands for; a token holding any character outside the table stands for its own UTF-8
    /// bytes (Hugging Face's rule, which matters for added tokens).
    /// </summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        foreach (char c in token)
        {
            if (!CharToByte.ContainsKey(c))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (char c in token) bytes.Add(CharToByte[c]);
    }
}
