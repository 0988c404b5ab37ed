using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// A StackExchange dump's <c>Posts.xml</c>, streamed with <see cref="XmlReader"/>. Answers are
/// grouped by question; every two answers whose scores differ by more than
/// <see cref="DataLoadOptions.MinScoreMargin"/> make a pair, the higher-scored one chosen (the
/// accepted answer first gets <see cref="DataLoadOptions.AcceptedAnswerBonus"/>). The prompt is the
/// question's title and body; bodies are converted from HTML to text; the subset is the site name,
/// the name of the folder holding the file. With <see cref="DataLoadOptions.MarginFrom"/>
/// <see cref="DataLoadOptions.VotesMarginField"/>, a pair's margin is the two answers' vote (score) gap, bonus left out.
/// </summary>
internal sealed class StackExchangeReader : IPairReader
{
    private sealed record Question(string Id, string Text, string? AcceptedAnswerId, int Line);

    private sealed record Answer(string Id, int Score, string Text, int Line);

    public void Read(DataSource source, PairCollector collector)
    {
        var questions = new List<Question>();
        var answers = new Dictionary<string, List<Answer>>();
        ReadRows(source, collector, questions, answers);
        var site = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(source.Path)));
        foreach (var question in questions)
        {
            if (answers.Remove(question.Id, out var answered))
            {
                Pair(source, collector, question, answered, site);
            }
        }
        foreach (var orphan in answers.Values.SelectMany(list => list))
        {
            collector.Bad(source.At(orphan.Line), $"answer {orphan.Id}: its question is not in the file");
        }
    }

    private static void ReadRows(DataSource source, PairCollector collector, List<Question> questions, Dictionary<string, List<Answer>> answers)
    {
        using var xml = SafeXml.Open(source, collector.Options.LenientUtf8);
        var lineInfo = (IXmlLineInfo)xml;
        try
        {
            while (xml.Read())
            {
                if (xml.NodeType == XmlNodeType.Element && xml.Name == "row")
                {
                    ReadRow(xml, source.At(lineInfo.LineNumber), collector, questions, answers);
                }
            }
        }
        catch (XmlException e)
        {
            collector.Bad(source.At(e.LineNumber), $"{SafeXml.Reason(e)}; rest of file not read");
        }
    }

    private static void ReadRow(XmlReader row, RecordLocation at, PairCollector collector, List<Question> questions, Dictionary<string, List<Answer>> answers)
    {
        try
        {
            switch (row.GetAttribute("PostTypeId"))
            {
                case "1":
                    var title = row.GetAttribute("Title") ?? "";
                    var body = HtmlText.ToPlainText(row.GetAttribute("Body") ?? "");
                    questions.Add(new Question(Attribute(row, "Id"), $"{title.Trim()}\n\n{body}".Trim(), row.GetAttribute("AcceptedAnswerId"), at.Line!.Value));
                    break;
                case "2":
                    var answer = new Answer(Attribute(row, "Id"), Score(row), HtmlText.ToPlainText(row.GetAttribute("Body") ?? ""), at.Line!.Value);
                    var parent = Attribute(row, "ParentId");
                    if (!answers.TryGetValue(parent, out var list))
                    {
                        answers[parent] = list = [];
                    }
                    list.Add(answer);
                    break;
            }
        }
        catch (BadRecordException e)
        {
            collector.Bad(at, e.Message);
        }
    }

    private static void Pair(DataSource source, PairCollector collector, Question question, List<Answer> answers, string? site)
    {
        var prompt = new[] { new ChatTurn(ChatRole.User, question.Text) };
        double Ranked(Answer answer) => answer.Score + (answer.Id == question.AcceptedAnswerId ? collector.Options.AcceptedAnswerBonus : 0);
        ScoreRanking.Pairs(answers, Ranked, collector, (chosen, rejected) =>
            collector.Add(source.At(question.Line), prompt, chosen.Text, rejected.Text, subset: site,
                margin: collector.Options.MarginFrom == DataLoadOptions.VotesMarginField ? chosen.Score - rejected.Score : null));
    }

    private static string Attribute(XmlReader row, string name) =>
        row.GetAttribute(name) is { Length: > 0 } value ? value : throw new BadRecordException($"row has no {name} attribute");

    private static int Score(XmlReader row) =>
        int.TryParse(Attribute(row, "Score"), out var score) ? score : throw new BadRecordException($"Score \"{row.GetAttribute("Score")}\" is not an integer");
}
