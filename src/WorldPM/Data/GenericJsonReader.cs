using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// Generic pairs, one JSON object per line (or a JSON array of them): <c>prompt</c> as a string or a
/// message list; <c>chosen</c>/<c>rejected</c> as strings or as message lists whose last turn is the
/// assistant's response (with no <c>prompt</c>, the turns before it are the prompt and must match);
/// optional <c>weight</c> and <c>subset</c> (or <c>category</c>, or <c>domain</c>), and the margin as the number named by
/// <see cref="DataLoadOptions.MarginFrom"/>. RewardBench's jsonl is this shape.
/// <para>
/// <c>chosen</c> and <c>rejected</c> may also be lists of plain-string responses to one <c>prompt</c> (several of
/// each, as in style-controlled benchmarks): every chosen response against every rejected one. When both lists hold
/// three, they are read as the benchmark convention orders them (index = how much style a response carries: concise,
/// detailed, detailed with markdown) and each pair's subset says how hard it is for a style-biased model: "hard" when
/// the chosen response carries less style than the rejected one (i &lt; j), "normal" for equal style (i = j), "easy"
/// when it carries more (i &gt; j); as "SUBSET/hard" etc. when the record names a subset.
/// </para>
/// </summary>
internal sealed class GenericJsonReader : IPairReader
{
    /// <summary>The list length of the style-controlled convention (concise, detailed, detailed markdown).</summary>
    private const int StyleLevels = 3;

    public void Read(DataSource source, PairCollector collector) =>
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            if (IsResponseList(record.Required("chosen")) || IsResponseList(record.Required("rejected")))
            {
                ReadResponseLists(record, at, collector);
                return;
            }
            var (chosenPrompt, chosen) = Response(record.Required("chosen"), "chosen");
            var (rejectedPrompt, rejected) = Response(record.Required("rejected"), "rejected");
            var prompt = record.Optional("prompt") is { } value
                ? ChatMessages.Prompt(value, "prompt")
                : SharedPrompt(chosenPrompt, rejectedPrompt);
            collector.Add(at, prompt, chosen, rejected, Weight(record), Subset(record), Margin(record, collector.Options));
        });

    private static double Weight(JsonElement record) => record.OptionalNumber("weight") ?? 1.0;

    private static double? Margin(JsonElement record, DataLoadOptions options) =>
        options.MarginFrom is { } field ? record.OptionalNumber(field) : null;

    /// <summary>The record's subset label: <c>subset</c>, <c>category</c> or <c>domain</c>, the first present.</summary>
    internal static string? Subset(JsonElement record) =>
        record.OptionalString("subset") ?? record.OptionalString("category") ?? record.OptionalString("domain");

    /// <summary>A non-empty array of strings: several plain responses rather than one message list.</summary>
    private static bool IsResponseList(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0
        && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String);

    /// <summary>Every chosen x rejected combination of a record whose responses are lists of strings.</summary>
    private static void ReadResponseLists(JsonElement record, RecordLocation at, PairCollector collector)
    {
        var prompt = record.Optional("prompt") is { } value
            ? ChatMessages.Prompt(value, "prompt")
            : throw new BadRecordException("missing field \"prompt\" (needed when \"chosen\" or \"rejected\" is a list of responses)");
        var chosen = Responses(record.Required("chosen"), "chosen");
        var rejected = Responses(record.Required("rejected"), "rejected");
        double weight = Weight(record);
        double? margin = Margin(record, collector.Options);
        string? subset = Subset(record);
        bool styleLevels = chosen.Count == StyleLevels && rejected.Count == StyleLevels;
        for (int i = 0; i < chosen.Count; i++)
        {
            for (int j = 0; j < rejected.Count; j++)
            {
                string? pairSubset = styleLevels ? Combine(subset, StyleDifficulty(i, j)) : subset;
                collector.Add(at, prompt, chosen[i], rejected[j], weight, pairSubset, margin);
            }
        }
    }

    /// <summary>A response list: strings, or one string (a list of one).</summary>
    private static IReadOnlyList<string> Responses(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Array when IsResponseList(value) => [.. value.EnumerateArray().Select(item => item.GetString()!)],
        _ => throw new BadRecordException($"field \"{field}\" should be a response or a list of responses (strings) " +
            $"like the other side, not {JsonFields.Describe(value)}" +
            (value.ValueKind == JsonValueKind.Array ? " holding something else than strings" : "")),
    };

    private static string StyleDifficulty(int chosen, int rejected) =>
        chosen < rejected ? "hard" : chosen == rejected ? "normal" : "easy";

    private static string Combine(string? subset, string difficulty) => subset is null ? difficulty : $"{subset}/{difficulty}";

    /// <summary>A response: a string, or a message list ending with the assistant's turn (the turns before it returned too).</summary>
    private static (IReadOnlyList<ChatTurn> Before, string Response) Response(JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return ([], value.GetString()!);
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new BadRecordException($"field \"{field}\" should be a string or a message list, not {JsonFields.Describe(value)}");
        }
        var turns = ChatMessages.Turns(value, field);
        if (turns.Count == 0 || turns[^1].Role != ChatRole.Assistant)
        {
            throw new BadRecordException($"field \"{field}\" should end with an assistant message");
        }
        return (turns.Take(turns.Count - 1).ToList(), turns[^1].Content);
    }

    private static IReadOnlyList<ChatTurn> SharedPrompt(IReadOnlyList<ChatTurn> chosen, IReadOnlyList<ChatTurn> rejected)
    {
        if (chosen.Count == 0 && rejected.Count == 0)
        {
            throw new BadRecordException("missing field \"prompt\"");
        }
        return chosen.SequenceEqual(rejected)
            ? chosen
            : throw new BadRecordException("the conversations before the chosen and rejected responses differ");
    }
}
