namespace WorldPM.Data;

/// <summary>
/// HelpSteer-style scored responses, one per line: <c>{"prompt","response", attribute scores}</c>.
/// Responses are grouped by prompt (in order of first appearance); every two responses to one
/// prompt whose <see cref="DataLoadOptions.ScoreAttribute"/> differs by more than
/// <see cref="DataLoadOptions.MinScoreMargin"/> make a pair, the higher-scored one chosen.
/// Equal scores make no pair (counted as ties). With <see cref="DataLoadOptions.MarginFrom"/> naming an attribute, a
/// pair's margin is the chosen response's score on it minus the rejected one's.
/// </summary>
internal sealed class HelpSteerReader : IPairReader
{
    private sealed record Scored(string Response, double Score, double? MarginScore, string? Subset, RecordLocation At);

    public void Read(DataSource source, PairCollector collector)
    {
        var attribute = collector.Options.ScoreAttribute;
        var byPrompt = new Dictionary<string, List<Scored>>();
        var prompts = new List<string>();
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var prompt = record.RequiredString("prompt");
            var marginField = collector.Options.MarginFrom;
            var scored = new Scored(record.RequiredString("response"), record.RequiredNumber(attribute),
                marginField is null ? null : record.OptionalNumber(marginField),
                record.OptionalString("subset") ?? record.OptionalString("category"), at);
            if (!byPrompt.TryGetValue(prompt, out var responses))
            {
                byPrompt[prompt] = responses = [];
                prompts.Add(prompt);
            }
            responses.Add(scored);
        });
        foreach (var prompt in prompts)
        {
            Pair(collector, prompt, byPrompt[prompt]);
        }
    }

    private static void Pair(PairCollector collector, string prompt, List<Scored> responses)
    {
        var turns = new[] { new ChatTurn(ChatRole.User, prompt) };
        ScoreRanking.Pairs(responses, response => response.Score, collector, (chosen, rejected) =>
            collector.Add(chosen.At, turns, chosen.Response, rejected.Response, subset: chosen.Subset ?? rejected.Subset,
                margin: chosen.MarginScore - rejected.MarginScore));
    }
}
