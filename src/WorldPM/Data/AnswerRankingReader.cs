using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// Answer rankings with pairwise judgments, one question per line (or a JSON array of them):
/// <code>
/// {"question": "...", "answers": ["a0", "a1", "a2"],
///  "judgments": [{"i": 0, "j": 1, "preference": 1}, {"i": 1, "j": 2, "preference": 0}, [0, 2, -1]]}
/// </code>
/// The question is <c>question</c> or <c>prompt</c> (a string or a message list), the k answers <c>answers</c> or
/// <c>responses</c> (strings), the judgments <c>judgments</c> or <c>comparisons</c>: objects <c>{"i","j","preference"}</c>
/// or arrays <c>[i, j, preference]</c>, where i and j are 0-based answer indices and <c>preference</c> is 1 when answer
/// i is preferred, -1 when answer j is, and 0 for no preference. A judgment makes one pair (several judgments of the
/// same two answers, one per annotator, make several); a 0 makes none and counts as a tied comparison. Any other
/// preference value (a strength scale, or a 1/2 "which one" label) makes the record bad rather than be guessed at,
/// as does an index outside the answers or a judgment of an answer against itself. The subset is the record's
/// <c>subset</c>, <c>category</c> or <c>domain</c>, as in <see cref="GenericJsonReader"/>.
/// </summary>
internal sealed class AnswerRankingReader : IPairReader
{
    // The field names a record may use for the question, the answers and the judgments.
    private static readonly string[] QuestionFields = ["question", "prompt"];
    private static readonly string[] AnswerFields = ["answers", "responses"];
    private static readonly string[] JudgmentFields = ["judgments", "comparisons"];

    private readonly record struct Judgment(int I, int J, int Preference);

    public void Read(DataSource source, PairCollector collector) =>
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var question = ChatMessages.Prompt(FirstOf(record, QuestionFields, out string questionField), questionField);
            var answers = Answers(FirstOf(record, AnswerFields, out string answerField), answerField);
            var judgmentList = FirstOf(record, JudgmentFields, out string judgmentField);
            if (judgmentList.ValueKind != JsonValueKind.Array)
            {
                throw new BadRecordException($"field \"{judgmentField}\" should be a list of judgments, not {JsonFields.Describe(judgmentList)}");
            }
            // Every judgment is checked before any pair is made: a record with a bad judgment gives no pair at all.
            var judgments = judgmentList.EnumerateArray().Select((value, n) => ReadJudgment(value, n + 1, answers.Count)).ToList();
            var subset = GenericJsonReader.Subset(record);
            foreach (var judgment in judgments)
            {
                switch (judgment.Preference)
                {
                    case 0:
                        collector.Tie();
                        break;
                    case > 0:
                        collector.Add(at, question, answers[judgment.I], answers[judgment.J], subset: subset);
                        break;
                    default:
                        collector.Add(at, question, answers[judgment.J], answers[judgment.I], subset: subset);
                        break;
                }
            }
        });

    /// <summary>Whether a record has this format's fields (for format detection).</summary>
    public static bool Matches(JsonElement record) =>
        AnswerFields.Any(name => record.TryGetProperty(name, out _)) && JudgmentFields.Any(name => record.TryGetProperty(name, out _));

    private static JsonElement FirstOf(JsonElement record, string[] names, out string found)
    {
        foreach (var name in names)
        {
            if (record.Optional(name) is { } value)
            {
                found = name;
                return value;
            }
        }
        throw new BadRecordException($"missing field {string.Join(" or ", names.Select(name => $"\"{name}\""))}");
    }

    private static IReadOnlyList<string> Answers(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select((answer, n) => JsonFields.AsString(answer, $"{field}[{n}]"))]
            : throw new BadRecordException($"field \"{field}\" should be a list of answers (strings), not {JsonFields.Describe(value)}");

    /// <summary>The <paramref name="number"/>th (1-based) judgment, checked against <paramref name="answers"/> answers.</summary>
    private static Judgment ReadJudgment(JsonElement value, int number, int answers)
    {
        var (i, j, preference) = value.ValueKind switch
        {
            JsonValueKind.Object => (Member(value, "i", number), Member(value, "j", number), Member(value, "preference", number)),
            JsonValueKind.Array when value.GetArrayLength() == 3 =>
                (Integer(value[0], number, "i"), Integer(value[1], number, "j"), Integer(value[2], number, "preference")),
            _ => throw new BadRecordException($"judgment {number} should be {{\"i\", \"j\", \"preference\"}} or [i, j, preference], " +
                $"not {JsonFields.Describe(value)}" + (value.ValueKind == JsonValueKind.Array ? $" of {value.GetArrayLength()} items" : "")),
        };
        foreach (var (index, name) in new[] { (i, "i"), (j, "j") })
        {
            if (index < 0 || index >= answers)
            {
                throw new BadRecordException($"judgment {number}: {name} = {index} is not an answer index (0 to {answers - 1})");
            }
        }
        if (i == j)
        {
            throw new BadRecordException($"judgment {number} compares answer {i} with itself");
        }
        if (preference is not (-1 or 0 or 1))
        {
            throw new BadRecordException($"judgment {number}: preference {preference} should be 1 (answer i preferred), " +
                "-1 (answer j preferred) or 0 (no preference)");
        }
        return new Judgment(i, j, preference);
    }

    private static int Member(JsonElement judgment, string name, int number) =>
        judgment.Optional(name) is { } value
            ? Integer(value, number, name)
            : throw new BadRecordException($"judgment {number}: missing field \"{name}\"");

    private static int Integer(JsonElement value, int number, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var integer)
            ? integer
            : throw new BadRecordException($"judgment {number}: \"{name}\" should be an integer, not {JsonFields.Describe(value)}");
}
