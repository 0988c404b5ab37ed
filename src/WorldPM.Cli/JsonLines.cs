using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorldPM.Cli;

/// <summary>The objects of a JSON Lines file with their line numbers; blank lines are skipped, and a line that is
/// not a JSON object stops the read with <c>file:line</c> and the parser's reason.</summary>
internal static class JsonLines
{
    /// <summary>JSON as people write it: text stays as it is (an apostrophe stays ', not \u0027); only what JSON
    /// requires is escaped.</summary>
    internal static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One line of JSON Lines output, text unescaped.</summary>
    internal static string Line(JsonNode node) => node.ToJsonString(Readable);

    internal static IEnumerable<(int Line, JsonObject Object)> Read(FileInfo file)
    {
        int lineNumber = 0;
        foreach (string line in File.ReadLines(file.FullName))
        {
            ++lineNumber;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject o;
            try
            {
                o = JsonNode.Parse(line)?.AsObject() ?? throw new JsonException("not an object");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new InvalidDataException($"{file}:{lineNumber}: not a JSON object ({e.Message})");
            }
            yield return (lineNumber, o);
        }
    }
}
