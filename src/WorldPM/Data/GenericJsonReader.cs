using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// Generic pairs, one JSON object per line (or a JSON array of them): <c>prompt</c> as a string or a
/// message list; <c>chosen</c>/<c>rejected</c> as strings or as message lists whose last turn is the
/// assistant's response (with no <c>prompt</c>, the turns before it are the prompt and must match);
/// optional <c>weight</c> and <c>subset</c> (or <c>category</c>). RewardBench's jsonl is this shape.
/// </summary>
internal sealed class GenericJsonReader : IPairReader
{
    public void Read(DataSource source, PairCollector collector) =>
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var (chosenPrompt, chosen) = Response(record.Required("chosen"), "chosen");
            var (rejectedPrompt, rejected) = Response(record.Required("rejected"), "rejected");
            var prompt = record.Optional("prompt") is { } value
                ? ChatMessages.Prompt(value, "prompt")
                : SharedPrompt(chosenPrompt, rejectedPrompt);
            var weight = record.OptionalNumber("weight") ?? 1.0;
            var subset = record.OptionalString("subset") ?? record.OptionalString("category");
            collector.Add(at, prompt, chosen, rejected, weight, subset);
        });

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
