namespace PeftSharp.Tests.Tokenization;

/// <summary>Varied text for loader-agreement and round-trip tests: accents, digits, punctuation, emoji, CJK, odd spacing.</summary>
static class TextSamples
{
    public static readonly string[] Lines =
    [
        "Hello world",
        " world",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
        "It's 3:45pm on 2024-11-23; the price rose 12.5% to $1,299.99 (up from $999).",
        "Don't, won't, can't, shouldn't've — they'd've said it's John's & Mary's.",
        "Café naïve résumé coöperate façade jalapeño Ångström Øresund Straße",
        "ÉCOLE Über MÜNCHEN Ελληνικά Русский текст, Türkçe İstanbul",
        "東京は日本の首都です。我爱北京天安门！中文分词测试",
        "한국어 텍스트와 日本語のテキスト",
        "Emoji: 😀😃🎉👍🏽 and flags 🇫🇷🇯🇵, hearts ❤️💙, math ∑∫√π≈≠≤",
        "Multiple   spaces    here,\tand\ttabs, and\nnewlines\n\nand\r\nCRLF too.",
        "   leading and trailing spaces   ",
        "UPPER lower MiXeD CamelCaseWords snake_case_words kebab-case-words",
        "Numbers: 0 1 12 123 1234 12345 123456 3.14159 -42 +7 1e-9 0x1F 1,000,000",
        "Punctuation!!! Really??? Yes... (maybe) [brackets] {braces} <angles> \"quotes\" 'single' `back`",
        "email@example.com https://www.example.org/path?query=1&x=y#frag @user #hashtag",
        "if (x >= 10 && y != 0) { return x / y; } // C-style code; a[i] = b[j] * 2;",
        "Symbols: © ® ™ § ¶ † ‡ • … ‰ ′ ″ € £ ¥ ₹ ₽ ° ± × ÷",
        "Arabic: مرحبا بالعالم, Hebrew: שלום עולם, Hindi: नमस्ते दुनिया, Thai: สวัสดีชาวโลก",
        "Long word: pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
        "Repeated letters: aaaaaaaaaaaaaaaaaaaa bbbbbbbbbb zzzzzzzzzzzzz",
        "She sells sea shells by the sea shore; the shells she sells are sea shells, I'm sure.",
        "In 1492, Columbus sailed the ocean blue. In 1969, Apollo 11 landed on the Moon!",
        "Tabs\tbetween\twords and trailing tab\t",
        "ﬁ ﬂ ligatures, full-width ＡＢＣ１２３, superscript x² y³, fractions ½ ¾",
        "Zero\u200bwidth space, soft\u00adhyphen, non\u00a0breaking space",
        "A line with a single character: x",
    ];

    /// <summary>All lines joined with newlines, several hundred words.</summary>
    public static string All => string.Join("\n", Lines);
}
