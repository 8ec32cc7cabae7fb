using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PeftSharp.Data.Catalog;

/// <summary>
/// The readable text of a raw e-mail (RFC 822 headers + MIME body): the decoded Subject line and the text parts
/// of the body. Headers other than Subject are dropped (they give away the collection, not the content);
/// quoted-printable and base64 are decoded; multipart messages keep their text/plain parts, or their text/html
/// parts when there is no plain text; HTML loses its tags, scripts and styles and has its entities decoded;
/// whitespace runs are collapsed.
/// </summary>
static partial class MailText
{
    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=")]
    private static partial Regex EncodedWord();

    [GeneratedRegex(@"<(script|style)\b.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"<(br|p|div|tr|li|h[1-6])\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"<[^>]*>", RegexOptions.Singleline)]
    private static partial Regex Tag();

    [GeneratedRegex(@"[ \t\f\v\u00A0]+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"\n\s*\n\s*(\n\s*)+")]
    private static partial Regex BlankLines();

    /// <summary>"Subject\n\nbody" (either part may be missing); empty when the message holds no text at all.</summary>
    public static string Extract(string message)
    {
        var (headers, body) = SplitHeaders(message.Replace("\r\n", "\n"));
        string subject = headers.TryGetValue("subject", out var s) ? Tidy(DecodeHeader(s)) : "";
        string text = Tidy(BodyText(headers, body));
        return subject.Length == 0 ? text : text.Length == 0 ? subject : $"{subject}\n\n{text}";
    }

    /// <summary>Headers (lower-case names, continuation lines unfolded; the first of a repeated header wins) and the body.</summary>
    static (Dictionary<string, string> Headers, string Body) SplitHeaders(string part)
    {
        int end = part.IndexOf("\n\n", StringComparison.Ordinal);
        string head = end < 0 ? part : part[..end];
        string body = end < 0 ? "" : part[(end + 2)..];
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        string? name = null;
        var value = new StringBuilder();
        void Flush()
        {
            if (name is not null) headers.TryAdd(name, value.ToString().Trim());
            name = null;
            value.Clear();
        }
        foreach (string line in head.Split('\n'))
        {
            if (line.Length > 0 && char.IsWhiteSpace(line[0]) && name is not null)
            {
                value.Append(' ').Append(line.Trim());
                continue;
            }
            Flush();
            int colon = line.IndexOf(':');
            if (colon <= 0 || line[..colon].Contains(' ')) continue; // the mbox "From " line and junk
            name = line[..colon].ToLowerInvariant();
            value.Append(line[(colon + 1)..]);
        }
        Flush();
        return (headers, body);
    }

    static string BodyText(Dictionary<string, string> headers, string body)
    {
        string contentType = headers.GetValueOrDefault("content-type", "text/plain");
        string mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType.StartsWith("multipart/", StringComparison.Ordinal))
        {
            string? boundary = Parameter(contentType, "boundary");
            if (boundary is null) return "";
            var parts = Parts(body, boundary).Select(SplitHeaders).ToList();
            var plain = parts.Where(p => MediaType(p.Headers) is "text/plain" or "" || MediaType(p.Headers).StartsWith("multipart/", StringComparison.Ordinal))
                .Select(p => BodyText(p.Headers, p.Body)).Where(t => t.Trim().Length > 0).ToList();
            if (plain.Count > 0) return string.Join("\n\n", plain);
            return string.Join("\n\n", parts.Where(p => MediaType(p.Headers) == "text/html").Select(p => BodyText(p.Headers, p.Body)));
        }
        if (mediaType is not ("text/plain" or "text/html" or "text" or "")) return "";
        string text = Decode(body, headers.GetValueOrDefault("content-transfer-encoding", ""), Parameter(contentType, "charset"));
        return mediaType == "text/html" ? StripHtml(text) : text;
    }

    static string MediaType(Dictionary<string, string> headers) =>
        headers.TryGetValue("content-type", out var type) ? type.Split(';')[0].Trim().ToLowerInvariant() : "";

    static IEnumerable<string> Parts(string body, string boundary)
    {
        string delimiter = "--" + boundary;
        var pieces = body.Split(delimiter);
        // pieces[0] is the preamble; a piece starting with "--" is the epilogue after the closing delimiter.
        for (int i = 1; i < pieces.Length; i++)
        {
            if (pieces[i].StartsWith("--", StringComparison.Ordinal)) yield break;
            string piece = pieces[i];
            int newline = piece.IndexOf('\n');
            yield return newline < 0 ? "" : piece[(newline + 1)..];
        }
    }

    static string? Parameter(string header, string name)
    {
        foreach (string part in header.Split(';').Skip(1))
        {
            int equals = part.IndexOf('=');
            if (equals < 0 || !part[..equals].Trim().Equals(name, StringComparison.OrdinalIgnoreCase)) continue;
            return part[(equals + 1)..].Trim().Trim('"');
        }
        return null;
    }

    /// <summary>Undoes the transfer encoding; decoded bytes are read in the part's charset (Latin-1 when unknown).</summary>
    static string Decode(string body, string transferEncoding, string? charset)
    {
        byte[] bytes;
        switch (transferEncoding.Trim().ToLowerInvariant())
        {
            case "quoted-printable":
                bytes = QuotedPrintable(body, header: false);
                break;
            case "base64":
                try
                {
                    bytes = Convert.FromBase64String(new string(body.Where(c => !char.IsWhiteSpace(c)).ToArray()));
                }
                catch (FormatException)
                {
                    return "";
                }
                break;
            default:
                return body;
        }
        return CharsetOf(charset).GetString(bytes);
    }

    static Encoding CharsetOf(string? charset)
    {
        if (charset is null) return Encoding.Latin1;
        try
        {
            return Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return Encoding.Latin1;
        }
    }

    static byte[] QuotedPrintable(string text, bool header)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '=' && i + 1 < text.Length && text[i + 1] == '\n') { i++; continue; } // soft line break
            if (c == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            if (header && c == '_') c = ' ';
            bytes.AddRange(c < 256 ? [(byte)c] : Encoding.UTF8.GetBytes(c.ToString()));
        }
        return bytes.ToArray();
    }

    /// <summary>RFC 2047 encoded words ("=?iso-8859-1?Q?Caf=E9?=") in a header value.</summary>
    static string DecodeHeader(string value) => EncodedWord().Replace(value, match =>
    {
        string payload = match.Groups[3].Value;
        try
        {
            var bytes = match.Groups[2].Value is "B" or "b" ? Convert.FromBase64String(payload) : QuotedPrintable(payload, header: true);
            return CharsetOf(match.Groups[1].Value).GetString(bytes);
        }
        catch (FormatException)
        {
            return match.Value;
        }
    });

    static string StripHtml(string html)
    {
        string text = Comment().Replace(ScriptOrStyle().Replace(html, " "), " ");
        text = BlockTag().Replace(text, "\n");
        return WebUtility.HtmlDecode(Tag().Replace(text, " "));
    }

    static string Tidy(string text)
    {
        var lines = Spaces().Replace(text.Replace('\r', '\n'), " ").Split('\n').Select(l => l.Trim());
        return BlankLines().Replace(string.Join('\n', lines), "\n\n").Trim();
    }
}
