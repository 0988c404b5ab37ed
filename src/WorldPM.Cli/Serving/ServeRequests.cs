using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Data;

namespace WorldPM.Cli.Serving;

/// <summary>A request <c>serve</c> refuses: the HTTP status, a kind for the metrics, the message, and the JSON field
/// at fault (when one is).</summary>
internal sealed class ServeRequestException(int status, string kind, string message, string? field = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Kind { get; } = kind;

    public string? Field { get; } = field;
}

/// <summary>One prompt and the responses to score against it.</summary>
internal sealed record ScoreItem(IReadOnlyList<ChatTurn> Prompt, IReadOnlyList<string> Responses);

/// <summary>One prompt and two responses to compare.</summary>
internal sealed record CompareItem(IReadOnlyList<ChatTurn> Prompt, string ResponseA, string ResponseB);

/// <summary>
/// Reads the bodies of <c>POST /v1/score</c> and <c>POST /v1/compare</c> (schemas in the README's "Serving" section):
/// malformed JSON and wrong or missing fields are 400 naming the field (<c>items[2].responses[0]</c>); more items,
/// responses or characters than the limits allow are 413 naming the limit and its option.
/// </summary>
internal static class ServeRequests
{
    public static List<ScoreItem> Score(string body, ServeLimits limits)
    {
        var (items, prefix) = Items(Parse(body), "items", limits);
        var result = new List<ScoreItem>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            string at = prefix is null ? "" : $"{prefix}[{i}].";
            JsonObject item = Object(items[i], prefix is null ? "(body)" : $"{prefix}[{i}]");
            IReadOnlyList<string> responses = (item["response"], item["responses"]) switch
            {
                (not null, not null) => throw Bad($"give \"{at}response\" or \"{at}responses\", not both", $"{at}responses"),
                (JsonNode one, null) => [Text(one, $"{at}response")],
                (null, JsonArray many) when many.Count > 0 =>
                    [.. many.Select((r, j) => Text(r, $"{at}responses[{j}]"))],
                (null, JsonArray) => throw Bad($"\"{at}responses\" is empty", $"{at}responses"),
                (null, JsonNode other) => throw Bad($"\"{at}responses\" should be a list of strings, not {Describe(other)}", $"{at}responses"),
                (null, null) => throw Bad($"missing \"{at}response\" (a string) or \"{at}responses\" (a list of strings)", $"{at}response"),
            };
            if (responses.Count > limits.MaxResponsesPerItem)
                throw TooLarge($"\"{at}responses\" holds {responses.Count} responses; the limit is {limits.MaxResponsesPerItem} per item", $"{at}responses");
            result.Add(new ScoreItem(Prompt(item, at), responses));
        }
        CheckCharacters(result.Sum(i => Characters(i.Prompt) + i.Responses.Sum(r => (long)r.Length)), limits);
        return result;
    }

    public static List<CompareItem> Compare(string body, ServeLimits limits)
    {
        var (pairs, prefix) = Items(Parse(body), "pairs", limits);
        var result = new List<CompareItem>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            string at = prefix is null ? "" : $"{prefix}[{i}].";
            JsonObject pair = Object(pairs[i], prefix is null ? "(body)" : $"{prefix}[{i}]");
            result.Add(new CompareItem(Prompt(pair, at), Required(pair, at, "response_a"), Required(pair, at, "response_b")));
        }
        CheckCharacters(result.Sum(p => Characters(p.Prompt) + p.ResponseA.Length + (long)p.ResponseB.Length), limits);
        return result;
    }

    private static JsonNode Parse(string body)
    {
        try
        {
            return JsonNode.Parse(body) ?? throw Bad("the request body is JSON null; expected an object", null);
        }
        catch (JsonException e)
        {
            throw new ServeRequestException(400, "malformed_json", $"the request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The list under <paramref name="listField"/>, or the body itself as a list of one (prefix null).</summary>
    private static (IReadOnlyList<JsonNode?> Items, string? Prefix) Items(JsonNode body, string listField, ServeLimits limits)
    {
        JsonObject root = Object(body, "(body)");
        if (root[listField] is not { } list) return ([root], null);
        if (list is not JsonArray array) throw Bad($"\"{listField}\" should be a list, not {Describe(list)}", listField);
        if (array.Count == 0) throw Bad($"\"{listField}\" is empty", listField);
        if (array.Count > limits.MaxItems)
            throw TooLarge($"\"{listField}\" holds {array.Count} items; the limit is {limits.MaxItems} per request (--max-items)", listField);
        return ([.. array], listField);
    }

    private static IReadOnlyList<ChatTurn> Prompt(JsonObject item, string at)
    {
        try
        {
            return PromptJson.Turns(item["prompt"], $"{at}prompt");
        }
        catch (FormatException e)
        {
            throw Bad(e.Message, $"{at}prompt");
        }
    }

    private static string Required(JsonObject item, string at, string name) =>
        item[name] is { } value ? Text(value, at + name) : throw Bad($"missing \"{at}{name}\" (a string)", at + name);

    private static string Text(JsonNode? value, string field) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw Bad($"\"{field}\" should be a string, not {Describe(value)}", field);

    private static JsonObject Object(JsonNode? value, string field) =>
        value as JsonObject ?? throw Bad($"{(field == "(body)" ? "the request body" : $"\"{field}\"")} should be a JSON object, not {Describe(value)}",
            field == "(body)" ? null : field);

    private static long Characters(IReadOnlyList<ChatTurn> prompt) => prompt.Sum(t => (long)t.Content.Length);

    private static void CheckCharacters(long characters, ServeLimits limits)
    {
        if (characters > limits.MaxCharacters)
            throw TooLarge($"the request holds {characters} characters of text; the limit is {limits.MaxCharacters} (--max-chars)", null);
    }

    private static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
        _ => "something else",
    };

    private static ServeRequestException Bad(string message, string? field) => new(400, "bad_request", message, field);

    private static ServeRequestException TooLarge(string message, string? field) => new(413, "too_large", message, field);
}
