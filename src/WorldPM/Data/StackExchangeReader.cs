using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// A StackExchange dump's <c>Posts.xml</c>, streamed with <see cref="XmlReader"/> in one pass that keeps only each post's
/// id, score and line in memory and parks its text (HTML already turned into plain text) in a <see cref="PostTextSpill"/>;
/// so a dump of any size is grouped by question without holding its text. Answers are
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

    /// <summary>A question or answer as the first pass keeps it: its text is in the spill at <see cref="TextAt"/>.</summary>
    private sealed record Post(string Id, int Score, string? AcceptedAnswerId, int Line, long TextAt);

    public void Read(DataSource source, PairCollector collector)
    {
        var questions = new List<Post>();
        var answers = new Dictionary<string, List<Post>>();
        using var texts = new PostTextSpill();
        ReadRows(source, collector, questions, answers, texts);
        var site = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(source.Path)));
        foreach (var question in questions)
        {
            if (answers.Remove(question.Id, out var answered))
            {
                Pair(source, collector, new Question(question.Id, texts.Read(question.TextAt), question.AcceptedAnswerId, question.Line),
                    answered.Select(a => new Answer(a.Id, a.Score, texts.Read(a.TextAt), a.Line)).ToList(), site);
            }
        }
        foreach (var orphan in answers.Values.SelectMany(list => list))
        {
            collector.Bad(source.At(orphan.Line), $"answer {orphan.Id}: its question is not in the file");
        }
    }

    private static void ReadRows(DataSource source, PairCollector collector, List<Post> questions, Dictionary<string, List<Post>> answers,
        PostTextSpill texts)
    {
        using var xml = SafeXml.Open(source, collector.Options.LenientUtf8);
        var lineInfo = (IXmlLineInfo)xml;
        try
        {
            while (xml.Read())
            {
                if (xml.NodeType == XmlNodeType.Element && xml.Name == "row")
                {
                    ReadRow(xml, source.At(lineInfo.LineNumber), collector, questions, answers, texts);
                }
            }
        }
        catch (XmlException e)
        {
            collector.Bad(source.At(e.LineNumber), $"{SafeXml.Reason(e)}; rest of file not read");
        }
    }

    private static void ReadRow(XmlReader row, RecordLocation at, PairCollector collector, List<Post> questions,
        Dictionary<string, List<Post>> answers, PostTextSpill texts)
    {
        try
        {
            switch (row.GetAttribute("PostTypeId"))
            {
                case "1":
                    var title = row.GetAttribute("Title") ?? "";
                    var body = HtmlText.ToPlainText(row.GetAttribute("Body") ?? "");
                    var id = Attribute(row, "Id");
                    questions.Add(new Post(id, 0, row.GetAttribute("AcceptedAnswerId"), at.Line!.Value, texts.Write($"{title.Trim()}\n\n{body}".Trim())));
                    break;
                case "2":
                    var (answerId, score) = (Attribute(row, "Id"), Score(row));
                    var text = HtmlText.ToPlainText(row.GetAttribute("Body") ?? "");
                    var parent = Attribute(row, "ParentId");
                    var answer = new Post(answerId, score, null, at.Line!.Value, texts.Write(text));
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
