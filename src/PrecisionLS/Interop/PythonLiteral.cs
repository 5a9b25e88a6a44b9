using System.Globalization;
using System.Text;

namespace PrecisionLS.Interop;

/// <summary>
/// The subset of Python literal syntax a .npy header uses (what <c>ast.literal_eval</c> accepts there): a dict with
/// string keys; values that are strings, True/False/None, integers (a Python 2 'L' suffix allowed), and tuples or
/// lists of those (a structured dtype is a list of tuples). Trailing commas are allowed.
/// </summary>
internal static class PythonLiteral
{
    /// <summary>A parsed Python tuple.</summary>
    public sealed record Tuple(IReadOnlyList<object?> Items);

    /// <summary>Parses a dict literal, with nothing but whitespace around it.</summary>
    /// <exception cref="FormatException">The text is not such a literal; the message says where.</exception>
    public static Dictionary<string, object?> ParseDict(string text)
    {
        int pos = 0;
        SkipSpace(text, ref pos);
        if (pos >= text.Length || text[pos] != '{') throw new FormatException($"expected '{{' at position {pos}");
        var value = (Dictionary<string, object?>)ParseValue(text, ref pos)!;
        SkipSpace(text, ref pos);
        if (pos != text.Length) throw new FormatException($"unexpected '{text[pos]}' after the dict at position {pos}");
        return value;
    }

    /// <summary>Python-like text of a parsed value, for error messages.</summary>
    public static string Format(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        Tuple t => t.Items.Count == 1 ? $"({Format(t.Items[0])},)" : "(" + string.Join(", ", t.Items.Select(Format)) + ")",
        List<object?> list => "[" + string.Join(", ", list.Select(Format)) + "]",
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => $"'{kv.Key}': {Format(kv.Value)}")) + "}",
        _ => value.ToString() ?? "",
    };

    private static void SkipSpace(string t, ref int pos)
    {
        while (pos < t.Length && char.IsWhiteSpace(t[pos])) pos++;
    }

    private static object? ParseValue(string t, ref int pos)
    {
        SkipSpace(t, ref pos);
        if (pos >= t.Length) throw new FormatException("unexpected end of text");
        char c = t[pos];
        switch (c)
        {
            case '{':
            {
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                pos++;
                while (true)
                {
                    SkipSpace(t, ref pos);
                    if (pos < t.Length && t[pos] == '}') { pos++; return dict; }
                    if (ParseValue(t, ref pos) is not string key) throw new FormatException($"dict keys must be strings (before position {pos})");
                    SkipSpace(t, ref pos);
                    if (pos >= t.Length || t[pos] != ':') throw new FormatException($"expected ':' after key '{key}' at position {pos}");
                    pos++;
                    if (!dict.TryAdd(key, ParseValue(t, ref pos))) throw new FormatException($"key '{key}' appears twice");
                    if (!Separator(t, ref pos, '}')) return dict;
                }
            }
            case '(':
            case '[':
            {
                char close = c == '(' ? ')' : ']';
                var items = new List<object?>();
                bool comma = false;
                pos++;
                while (true)
                {
                    SkipSpace(t, ref pos);
                    if (pos < t.Length && t[pos] == close) { pos++; break; }
                    items.Add(ParseValue(t, ref pos));
                    comma = pos < t.Length && SkipSpaceThenIs(t, ref pos, ',');
                    if (!Separator(t, ref pos, close)) break;
                }
                // (x) is just x in Python; (x,) is a tuple.
                if (c == '(') return items.Count == 1 && !comma ? items[0] : new Tuple(items);
                return items;
            }
            case '\'':
            case '"':
            {
                var sb = new StringBuilder();
                pos++;
                while (pos < t.Length && t[pos] != c)
                {
                    if (t[pos] == '\\' && pos + 1 < t.Length) pos++;
                    sb.Append(t[pos++]);
                }
                if (pos >= t.Length) throw new FormatException("unterminated string");
                pos++;
                return sb.ToString();
            }
            default:
            {
                int start = pos;
                if (c is '+' or '-') pos++;
                while (pos < t.Length && (char.IsAsciiLetterOrDigit(t[pos]) || t[pos] == '_')) pos++;
                string word = t[start..pos];
                if (word == "True") return true;
                if (word == "False") return false;
                if (word == "None") return null;
                string digits = word.EndsWith('L') || word.EndsWith('l') ? word[..^1] : word;
                if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return v;
                throw new FormatException(word.Length == 0 ? $"unexpected '{c}' at position {start}" : $"unexpected '{word}' at position {start}");
            }
        }
    }

    private static bool SkipSpaceThenIs(string t, ref int pos, char c)
    {
        int p = pos;
        SkipSpace(t, ref p);
        return p < t.Length && t[p] == c;
    }

    // After an item: ',' (then maybe the closing bracket) continues or ends; the closing bracket ends.
    // Returns true to read another item, false when the container was closed (pos past the bracket).
    private static bool Separator(string t, ref int pos, char close)
    {
        SkipSpace(t, ref pos);
        if (pos >= t.Length) throw new FormatException($"expected ',' or '{close}' before the end of text");
        if (t[pos] == close) { pos++; return false; }
        if (t[pos] != ',') throw new FormatException($"expected ',' or '{close}' at position {pos}, found '{t[pos]}'");
        pos++;
        return true;
    }
}
