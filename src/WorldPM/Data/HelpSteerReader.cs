using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// HelpSteer-style scored responses, one per line: <c>{"prompt","response", attribute scores}</c>.
/// Responses are grouped by prompt (in order of first appearance); every two responses to one
/// prompt whose <see cref="DataLoadOptions.ScoreAttribute"/> differs by more than
/// <see cref="DataLoadOptions.MinScoreMargin"/> make a pair, the higher-scored one chosen.
/// Equal scores make no pair (counted as ties). With <see cref="DataLoadOptions.MarginFrom"/> naming an attribute, a
/// pair's margin is the chosen response's score on it minus the rejected one's.
/// <para>
/// The file is read twice so that it is never held whole: first for where each prompt's last response is (a digest
/// per prompt, no text), then for the responses, each group paired once its last response is in and every group that
/// appeared before it is paired. A file whose responses to one prompt are together (as HelpSteer's are) then holds one
/// prompt's group at a time; a prompt that comes back later keeps the groups opened since it in memory until it ends.
/// </para>
/// </summary>
internal sealed class HelpSteerReader : IPairReader
{
    private sealed record Scored(string Response, double Score, double? MarginScore, string? Subset, RecordLocation At);

    private sealed class Group(string prompt)
    {
        public string Prompt => prompt;
        public List<Scored> Responses { get; } = [];
        public bool Complete { get; set; }
    }

    public void Read(DataSource source, PairCollector collector)
    {
        // Pass 1: the ordinal (among readable responses) of each prompt's last response. Bad records are reported by pass 2.
        var last = new Dictionary<UInt128, long>();
        long ordinal = 0;
        var probe = new PairCollector(collector.Options with { Strict = false });
        JsonRecords.ForEach(source, probe, (record, at) => last[Digest(Parse(record, at, collector.Options).Prompt)] = ordinal++);

        var open = new Dictionary<string, Group>();
        var order = new Queue<Group>();
        ordinal = 0;
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var (prompt, scored) = Parse(record, at, collector.Options);
            if (!open.TryGetValue(prompt, out var group))
            {
                open[prompt] = group = new Group(prompt);
                order.Enqueue(group);
            }
            group.Responses.Add(scored);
            if (last.TryGetValue(Digest(prompt), out long end) && end == ordinal) group.Complete = true;
            ordinal++;
            while (order.Count > 0 && order.Peek().Complete)
            {
                var done = order.Dequeue();
                open.Remove(done.Prompt);
                Pair(collector, done.Prompt, done.Responses);
            }
        });
        // The file changed between the passes, or its end was cut: what is left is paired as it stands.
        foreach (var group in order)
        {
            Pair(collector, group.Prompt, group.Responses);
        }
    }

    private static (string Prompt, Scored Scored) Parse(JsonElement record, RecordLocation at, DataLoadOptions options)
    {
        var prompt = record.RequiredString("prompt");
        var marginField = options.MarginFrom;
        return (prompt, new Scored(record.RequiredString("response"), record.RequiredNumber(options.ScoreAttribute),
            marginField is null ? null : record.OptionalNumber(marginField),
            record.OptionalString("subset") ?? record.OptionalString("category"), at));
    }

    /// <summary>A prompt's 128-bit digest: pass 1 keys prompts by it so that it holds no prompt's text.</summary>
    private static UInt128 Digest(string prompt)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(prompt), hash);
        return new UInt128(BitConverter.ToUInt64(hash), BitConverter.ToUInt64(hash[8..]));
    }

    private static void Pair(PairCollector collector, string prompt, List<Scored> responses)
    {
        var turns = new[] { new ChatTurn(ChatRole.User, prompt) };
        ScoreRanking.Pairs(responses, response => response.Score, collector, (chosen, rejected) =>
            collector.Add(chosen.At, turns, chosen.Response, rejected.Response, subset: chosen.Subset ?? rejected.Subset,
                margin: chosen.MarginScore - rejected.MarginScore));
    }
}
